"""RemoveIdentityBypassCommand: hard-coded identities become the authenticated identity."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted

# Names that hold "who is calling": user_id, uid, current_user_id, author_id, owner_id...
_IDENTITY_NAME = re.compile(r"(?i)^(current_|me_|my_|acting_|viewer_|actor_)?(user_?id|uid|author_id|owner_id|member_id|account_id)$")
# Models that stand for the caller.
_USER_MODEL = re.compile(r"(?i)(user|account|member|profile|customer|person)s?$")


_AUTH_OFF = re.compile(r"^(LOGIN_DISABLED|AUTH_DISABLED|DISABLE_AUTH|SKIP_AUTH|NO_AUTH)$")
_DEV_SWITCH = re.compile(r"(?i)(\bdebug\b|skip_?auth|disable_?auth|auth_?disabled|no_?auth|bypass|\btesting\b|"
                         r"development|\bdev\b|allow_?anonymous|insecure)")


def _subscript_key(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        value = node.slice[0].slice.value
        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            return value.evaluated_value
    return None


def _from_client(node: cst.CSTNode) -> bool:
    """Reads the identity from what the client sent (request.args/json/form/headers/cookies)."""
    return bool(findall(node, m.Attribute(value=m.Name("request"), attr=m.Name(
        m.MatchIfTrue(lambda n: n in ("args", "json", "form", "values", "headers", "cookies", "get_json"))))))


_GUARD_NAME = re.compile(r"(?i)auth|login|token|jwt|identity|require|protect|guard|verify|permission|check_user|"
                         r"logged_in|before_request|session|caller|admin")


def _is_guard(func: cst.FunctionDef) -> bool:
    """A function that checks who is calling: named so, or answering 401/403 somewhere."""
    return bool(_GUARD_NAME.search(func.name.value)) or bool(findall(func.body, m.Integer(
        m.MatchIfTrue(lambda v: v in ("401", "403"))) | m.Name(m.MatchIfTrue(lambda n: n in ("Unauthorized", "Forbidden")))))


def _lets_through(block: cst.BaseSuite, views: set[str]) -> bool:
    """A branch that only returns early (``return``, ``return None``, ``return view(...)``) or passes."""
    statements = [s for line in block.body for s in (line.body if isinstance(line, cst.SimpleStatementLine) else [line])]
    if not statements or not any(isinstance(s, cst.Return) for s in statements):
        return False
    for s in statements:
        if isinstance(s, cst.Pass):
            continue
        if isinstance(s, cst.Return) and (s.value is None or m.matches(s.value, m.Name("None")) or (
                isinstance(s.value, cst.Call) and dotted(s.value.func) in views)):
            continue
        return False
    return True


# Callbacks that tell a framework who is calling (Flask-Login, Flask-HTTPAuth).
_REQUEST_CALLBACKS = {"request_loader", "header_loader", "verify_token"}
_USER_CALLBACKS = {"user_loader"}
_CURRENT_USER_FUNCTION = re.compile(r"(?i)^_?(get_|load_)?(current_?user|logged_in_user|me)$")
_ID_CONSTANT = re.compile(r"(?i)user|uid|account|owner|admin|demo|default|test")


def _literal_id_constants(module: cst.Module) -> set[str]:
    """Module-level names bound once to a literal id (``DEMO_USER_ID = 1``)."""
    bound: dict[str, int] = {}
    literal: set[str] = set()
    for stmt in module.body:
        for small in (stmt.body if isinstance(stmt, cst.SimpleStatementLine) else []):
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                name = small.targets[0].target.value
                bound[name] = bound.get(name, 0) + 1
                if (_int_literal(small.value) or _digit_string(small.value)) and _ID_CONSTANT.search(name):
                    literal.add(name)
    return {name for name in literal if bound[name] == 1}


def _callback_kind(func: cst.FunctionDef) -> str | None:
    names = {dotted(d.decorator).rsplit(".", 1)[-1] for d in func.decorators}
    if names & _REQUEST_CALLBACKS:
        return "request"
    if names & _USER_CALLBACKS and func.params.params:
        return "user"
    if _CURRENT_USER_FUNCTION.match(func.name.value) and not func.params.params:
        return "current"
    return None


class _ReplaceFixedIds(cst.CSTTransformer):
    """Inside return values: literal ids and id constants passed to a call become ``identity``."""

    def __init__(self, constants: set[str], identity: str) -> None:
        super().__init__()
        self.constants, self.identity, self.changed = constants, identity, False

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        value = updated_node.value
        if (updated_node.keyword is None or _IDENTITY_NAME.match(updated_node.keyword.value) or
                updated_node.keyword.value in ("id", "pk")) and (
                (_int_literal(value) and value.evaluated_value > 0) or _digit_string(value)
                or (isinstance(value, cst.Name) and value.value in self.constants)):
            self.changed = True
            return updated_node.with_changes(value=cst.parse_expression(self.identity))
        return updated_node


def _literal_fallback(value: cst.CSTNode) -> bool:
    """``x.get("user_id", 1)`` or ``x or 1``: a read that falls back to a literal id."""
    if isinstance(value, cst.Call) and dotted(value.func).endswith(".get") and len(value.args) == 2:
        default = value.args[1].value
        return _int_literal(default) and default.evaluated_value > 0 or _digit_string(default)
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        return (_int_literal(value.right) and value.right.evaluated_value > 0) or _digit_string(value.right)
    return False


def _int_literal(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Integer)


def _digit_string(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str) and node.evaluated_value.isdigit()


def _identity(keep_string: bool) -> cst.BaseExpression:
    return cst.parse_expression("str(current_user_id())" if keep_string else "current_user_id()")


class RemoveIdentityBypassCommand(MigrationCommand):
    """Replace hard-coded identities inside functions by the authenticated one
    (``current_user_id()``, the verified token's ``sub``), keeping the type the code
    expects (an int stays an int, ``"7"`` becomes ``str(current_user_id())``):
    ``user_id = 7``, ``g.user_id = 7``, ``g.user = User.query.get(7)``,
    ``db.session.get(User, 7)``, ``User.query.filter_by(id=7)``."""

    DESCRIPTION = "Replace hard-coded user identities by the authenticated user's id."
    NAME = "remove-identity-bypass"
    ORDER = 25
    FIXES = (Category.AUTH_BYPASS,)
    APPLIES_TO = (r"(?i)_loader|current_?user|(user_?id|uid|author_id|owner_id|member_id|account_id)|\.get\(|filter_by|_DISABLED|SKIP_AUTH|NO_AUTH|"
                  r"debug|testing|development|bypass|insecure")

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._function_depth = 0
        self._handler: list[bool] = []
        self._guard: list[tuple[bool, set[str]]] = []  # (is an auth guard, names that pass the request on)
        self._callback: list[str | None] = []  # the kind of "who is calling" callback of each function
        self._constants: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._function_depth += 1
        self._handler.append(bool(self.routes_of(node)) or (bool(self._handler) and self._handler[-1]))
        views = {p.name.value for p in node.params.params} | (self._guard[-1][1] if self._guard else set())
        self._guard.append((_is_guard(node), views))
        self._callback.append(_callback_kind(node))

    def visit_Module(self, node: cst.Module) -> None:
        self._constants = _literal_id_constants(node)

    def leave_FunctionDef(self, original_node, updated_node):
        self._function_depth -= 1
        self._handler.pop()
        self._guard.pop()
        kind = self._callback.pop()
        return self._caller_from_credentials(updated_node, kind) if kind else updated_node

    def _caller_from_credentials(self, func: cst.FunctionDef, kind: str) -> cst.FunctionDef:
        """A "who is calling" callback that returns a fixed user looks the caller up instead:
        a request loader by the bearer token's id (None, i.e. anonymous, without a token), a
        user loader by the id it is given, a current-user function by the authenticated id."""
        identity = {"request": "user_id", "user": func.params.params[0].name.value if func.params.params else "",
                    "current": "current_user_id()"}[kind]
        replace = _ReplaceFixedIds(self._constants, identity)
        body = [s.visit(replace) if findall(s, m.Return()) else s for s in func.body.body]
        if not replace.changed:
            return func
        if kind == "request":
            start = 1 if body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(m.SimpleString())])) else 0
            body[start:start] = cst.parse_module(
                "user_id = optional_user_id()\nif user_id is None:  # no bearer token: an anonymous request\n"
                "    return None\n").body
            self.import_security("optional_user_id")
        elif kind == "current":
            self.import_security("current_user_id")
        self.note(f"{func.name.value}() returned a fixed user; it now looks up the authenticated caller")
        return func.with_changes(body=func.body.with_changes(body=body))

    def _replace(self, node: cst.CSTNode) -> cst.BaseExpression:
        self.import_security("current_user_id")
        self.note(f"line {self.line_of(node)}: a hard-coded identity now comes from the bearer token")
        return _identity(keep_string=_digit_string(node))

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        # LOGIN_DISABLED = True / app.config["LOGIN_DISABLED"] = True: authentication switched off
        flag = target.value if isinstance(target, cst.Name) else _subscript_key(target)
        if flag and _AUTH_OFF.match(flag) and m.matches(updated_node.value, m.Name("True")):
            return updated_node.with_changes(value=cst.Name("False"))
        if self._function_depth == 0:
            return updated_node
        name = target.value if isinstance(target, cst.Name) else (
            target.attr.value if isinstance(target, cst.Attribute) else _subscript_key(target) or "")
        if not _IDENTITY_NAME.match(name):
            return updated_node
        value = updated_node.value
        if _int_literal(value) or _digit_string(value) or (
                isinstance(target, cst.Subscript) and isinstance(value, cst.SimpleString)):
            return updated_node.with_changes(value=self._replace(original_node.value))
        # user_id = session.get("user_id", 1) / g.get("uid") or 1: a fixed user when nobody is logged in
        if self._handler and self._handler[-1] and _literal_fallback(value):
            return updated_node.with_changes(value=self._replace(original_node.value))
        # owner_id = int(request.args["user_id"]): the client names itself. In a handler the
        # token's identity replaces it; in a hook (before_request runs for public routes too),
        # the token's identity when there is a token.
        if _from_client(value):
            if self._handler and self._handler[-1]:
                return updated_node.with_changes(value=self._replace(original_node.value))
            self.import_security("optional_user_id")  # a hook: the verified token's id, or None
            return updated_node.with_changes(value=cst.parse_expression("optional_user_id()"))
        return updated_node

    def leave_If(self, original_node: cst.If, updated_node: cst.If):
        # if os.getenv("SKIP_AUTH"): g.user_id = ...; return f(...)  -> the branch goes
        test = cst.Module(body=[]).code_for_node(updated_node.test)
        if not _DEV_SWITCH.search(test) or updated_node.orelse is not None:
            return updated_node
        grants = findall(updated_node.body, m.Assign(targets=[m.AssignTarget(target=m.Attribute(value=m.Name("g")))])) \
            or findall(updated_node.body, m.Call(func=m.Name("login_user")))
        # In an auth guard: `if DEBUG: return None` / `return view(...)` lets the request through unchecked.
        if not grants and not (self._guard and self._guard[-1][0] and _lets_through(updated_node.body, self._guard[-1][1])):
            return updated_node
        self.note("a development switch that skipped authentication was removed")
        return cst.RemovalSentinel.REMOVE

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if self._function_depth == 0 or self._callback[-1] == "user":  # a user loader is given the id
            return updated_node
        callee = dotted(updated_node.func)
        args = list(updated_node.args)
        # Post(author_id=1, ...): a record created for a fixed owner
        for i, arg in enumerate(args):
            if arg.keyword and _IDENTITY_NAME.match(arg.keyword.value) and _int_literal(arg.value):
                args[i] = arg.with_changes(value=self._replace(original_node.args[i].value))
        if args != list(updated_node.args):
            return updated_node.with_changes(args=args)
        # User.query.get(7) / User.query.get_or_404(7)
        if re.search(r"\.query\.(get|get_or_404)$", callee) and _USER_MODEL.search(callee.split(".query")[0]):
            if args and args[0].keyword is None and _int_literal(args[0].value):
                args[0] = args[0].with_changes(value=self._replace(original_node.args[0].value))
                return updated_node.with_changes(args=args)
        # session.get(User, 7) / db.session.get(User, 7)
        if callee.endswith("session.get") and len(args) >= 2 and _USER_MODEL.search(dotted(args[0].value)) \
                and _int_literal(args[1].value):
            args[1] = args[1].with_changes(value=self._replace(original_node.args[1].value))
            return updated_node.with_changes(args=args)
        # User.query.filter_by(id=7)
        if callee.endswith(".filter_by") and _USER_MODEL.search(callee.split(".")[0]):
            changed = False
            for i, arg in enumerate(args):
                if arg.keyword and arg.keyword.value == "id" and _int_literal(arg.value):
                    args[i] = arg.with_changes(value=self._replace(original_node.args[i].value))
                    changed = True
            if changed:
                return updated_node.with_changes(args=args)
        return updated_node
