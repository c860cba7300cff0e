"""AddSecuritySetupCommand: the app gets ``init_security(app)``; ``debug=True`` goes."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted, keyword, string_value

_COOKIE_FLAG = re.compile(r"^(SESSION|REMEMBER)_COOKIE_(SECURE|HTTPONLY)$")


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
    return any(findall(stmt, m.Call(func=m.Name("init_security"))) for stmt in body)


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
    APPLIES_TO = r"Flask\(|\.run\(|debug|COOKIE|cookie|CORS|Access-Control|cors_allowed_origins"

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
        callee = dotted(updated_node.func).rsplit(".", 1)[-1]
        origins = keyword(updated_node, "cors_allowed_origins")
        if callee in ("SocketIO", "init_app") and origins is not None and string_value(origins) == "*":
            # any site could open an authenticated socket: same-origin (the default) instead
            args = [a for a in updated_node.args if not (a.keyword and a.keyword.value == "cors_allowed_origins")]
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            self.note("Socket.IO no longer accepts every origin; list the app's origins in cors_allowed_origins")
            return updated_node.with_changes(args=args)
        if callee == "CORS":  # every origin with credentials: credentials off
            args = [a for a in updated_node.args if not (a.keyword and a.keyword.value == "supports_credentials")]
            if len(args) != len(updated_node.args):
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated_node.with_changes(args=args)
            return updated_node
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

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        # set_cookie(..., httponly=False, secure=False) / update(SESSION_COOKIE_SECURE=False)
        name = updated_node.keyword.value if updated_node.keyword else ""
        if m.matches(updated_node.value, m.Name("False")) and (name in ("httponly", "secure") or _COOKIE_FLAG.match(name)):
            return updated_node.with_changes(value=cst.Name("True"))
        return updated_node

    def leave_DictElement(self, original_node: cst.DictElement, updated_node: cst.DictElement):
        key = string_value(updated_node.key) or ""
        if _COOKIE_FLAG.match(key) and m.matches(updated_node.value, m.Name("False")):
            return updated_node.with_changes(value=cst.Name("True"))
        return updated_node

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.Dict:
        # {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}: any
        # origin may not also send credentials; the credentials header goes.
        keys = {(string_value(e.key) or "").lower(): e for e in updated_node.elements if isinstance(e, cst.DictElement)}
        origin = keys.get("access-control-allow-origin")
        credentials = keys.get("access-control-allow-credentials")
        if origin is not None and credentials is not None and string_value(origin.value) == "*":
            elements = [e for e in updated_node.elements if e is not credentials]
            elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated_node.with_changes(elements=elements)
        return updated_node

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        # SESSION_COOKIE_SECURE = False / app.config["SESSION_COOKIE_HTTPONLY"] = False
        name = target.value if isinstance(target, cst.Name) else (
            string_value(target.slice[0].slice.value) if isinstance(target, cst.Subscript)
            and isinstance(target.slice[0].slice, cst.Index) else "")
        if name and _COOKIE_FLAG.match(name) and m.matches(updated_node.value, m.Name("False")):
            return updated_node.with_changes(value=cst.Name("True"))
        # app.debug = True  /  app.config["DEBUG"] = True
        if not m.matches(updated_node.value, m.Name("True")):
            return updated_node
        is_debug = m.matches(target, m.Attribute(attr=m.Name("debug"))) or m.matches(
            target, m.Subscript(value=m.Attribute(attr=m.Name("config")),
                                slice=[m.SubscriptElement(slice=m.Index(value=m.SimpleString('"DEBUG"') | m.SimpleString("'DEBUG'")))]))
        if is_debug:
            return updated_node.with_changes(value=cst.Name("False"))
        return updated_node
