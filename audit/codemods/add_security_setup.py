"""AddSecuritySetupCommand: the app gets ``init_security(app)``; ``debug=True`` goes."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._route_handlers import dotted


def _creates_flask_app(stmt: cst.CSTNode) -> str | None:
    """The target name when ``stmt`` is ``name = Flask(...)``."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    node = stmt.body[0]
    value = node.value if isinstance(node, (cst.Assign, cst.AnnAssign)) else None
    if not isinstance(value, cst.Call) or dotted(value.func).rsplit(".", 1)[-1] != "Flask":
        return None
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    return targets[0].value if len(targets) == 1 and isinstance(targets[0], cst.Name) else None


def _configures(stmt: cst.CSTNode, app: str) -> bool:
    """``app.config...``/``app.secret_key = ...`` statements that init_security must follow."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    code = cst.Module(body=[stmt]).code.strip()
    return code.startswith(f"{app}.")  # app.config..., app.secret_key = ..., app.register_blueprint(...)


def _calls_init_security(body: list[cst.CSTNode]) -> bool:
    return any(m.findall(stmt, m.Call(func=m.Name("init_security"))) for stmt in body)


def _init_call(app: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(cst.parse_expression(f"init_security({app})"))])


class AddSecuritySetupCommand(MigrationCommand):
    """Call ``init_security(app)`` where the Flask app is built (error envelope, security and
    response-time headers, JWT secret, rate limiter, upload size limit, log redaction), and
    drop ``debug=True`` from ``app.run``/``socketio.run`` and ``app.debug = True``.

    In an app factory the call goes just before ``return app`` (after the config is loaded);
    for a module-level app, after the statements that configure it."""

    DESCRIPTION = "Add init_security(app) to the app factory or module-level app; remove debug=True."
    NAME = "add-security-setup"
    ORDER = 10
    FIXES = (Category.MISSING_SECURITY_HEADERS, Category.INSECURE_CONFIG, Category.INCONSISTENT_ERROR)
    APPLIES_TO = r"Flask\(|\.run\(|debug"

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        body = list(updated_node.body.body)
        apps = [name for name in map(_creates_flask_app, body) if name]
        if not apps or _calls_init_security(body):
            return updated_node
        app = apps[0]
        returns = [i for i, s in enumerate(body)
                   if m.matches(s, m.SimpleStatementLine(body=[m.Return(value=m.Name(app))]))]
        position = returns[-1] if returns else self._after_configuration(body, app)
        body.insert(position, _init_call(app))
        self.import_security("init_security")
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        apps = [name for name in map(_creates_flask_app, body) if name]
        if not apps or _calls_init_security(body):
            return updated_node
        body.insert(self._after_configuration(body, apps[0]), _init_call(apps[0]))
        self.import_security("init_security")
        return updated_node.with_changes(body=body)

    @staticmethod
    def _after_configuration(body: list[cst.CSTNode], app: str) -> int:
        position = next(i for i, s in enumerate(body) if _creates_flask_app(s) == app) + 1
        while position < len(body) and _configures(body[position], app):
            position += 1
        return position

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not m.matches(updated_node.func, m.Attribute(attr=m.Name("run"))):
            return updated_node
        args = [a for a in updated_node.args
                if not (a.keyword and a.keyword.value in ("debug", "use_debugger", "use_reloader")
                        and m.matches(a.value, m.Name("True")))]
        if len(args) == len(updated_node.args):
            return updated_node
        if args:  # the last argument must not keep a trailing comma of the removed one
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(args=args)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        # app.debug = True  /  app.config["DEBUG"] = True
        if not m.matches(updated_node.value, m.Name("True")) or len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        is_debug = m.matches(target, m.Attribute(attr=m.Name("debug"))) or m.matches(
            target, m.Subscript(value=m.Attribute(attr=m.Name("config")),
                                slice=[m.SubscriptElement(slice=m.Index(value=m.SimpleString('"DEBUG"') | m.SimpleString("'DEBUG'")))]))
        return updated_node.with_changes(value=cst.Name("False")) if is_debug else updated_node
