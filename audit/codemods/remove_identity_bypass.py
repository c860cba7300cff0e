"""RemoveIdentityBypassCommand: hard-coded identities become the authenticated identity."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
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
    return bool(m.findall(node, m.Attribute(value=m.Name("request"), attr=m.Name(
        m.MatchIfTrue(lambda n: n in ("args", "json", "form", "values", "headers", "cookies", "get_json"))))))


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
    APPLIES_TO = r"(?i)(user_?id|uid|author_id|owner_id|member_id|account_id)|\.get\(|filter_by|_DISABLED|SKIP_AUTH|NO_AUTH"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._function_depth = 0
        self._handler: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._function_depth += 1
        self._handler.append(bool(self.routes_of(node)) or (bool(self._handler) and self._handler[-1]))

    def leave_FunctionDef(self, original_node, updated_node):
        self._function_depth -= 1
        self._handler.pop()
        return updated_node

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
        grants = m.findall(updated_node.body, m.Assign(targets=[m.AssignTarget(target=m.Attribute(value=m.Name("g")))])) \
            or m.findall(updated_node.body, m.Call(func=m.Name("login_user")))
        if not grants:
            return updated_node
        self.note("a development switch that skipped authentication was removed")
        return cst.RemovalSentinel.REMOVE

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if self._function_depth == 0:
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
