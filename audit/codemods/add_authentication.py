"""AddAuthenticationCommand: authentication on every non-public route."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import AUTH_DECORATOR, class_decorator_names, dotted, has_auth_decorator, route_of_decorator, string_value

# A branch that opens when a development switch is on.
_DEV_SWITCH = re.compile(
    r"(?i)(\bdebug\b|skip_?auth|disable_?auth|auth_?disabled|no_?auth|bypass|\btesting\b|development|"
    r"\bdev\b|allow_?anonymous|insecure)")
_TOKEN_NAME = re.compile(r"(?i)(token|auth|header|credential|bearer|jwt)")


def verifies_token(func: cst.FunctionDef) -> bool:
    """Whether a decorator function verifies a token (it calls ``jwt.decode``/``decode_token``...)."""
    return bool(findall(func, m.Call(func=m.Attribute(attr=m.Name("decode")) | m.Name(
        m.MatchIfTrue(lambda n: bool(re.search(r"(?i)(decode|verify)_?(token|jwt)|verify_jwt", n))))))) and \
        bool(findall(func.body, m.FunctionDef()))


def _wrapped_name(func: cst.FunctionDef) -> str | None:
    """The parameter of a decorator function: the view it wraps."""
    params = func.params.params
    return params[0].name.value if params else None


def _calls(node: cst.CSTNode, name: str) -> bool:
    return bool(findall(node, m.Call(func=m.Name(name))))


_ABORT_401 = cst.parse_statement("abort(401)")

# A local that holds the caller's id in a guard (user_id = identify_caller()).
_IDENTITY_VAR = re.compile(r"(?i)^(\w+_)?(user_?id|uid|identity|caller(_?id)?|account_?id|principal_?id)$")
# Guards named for what they do (hooks take no parameters, so the name is what is left).
_GUARD_NAME = re.compile(r"(?i)auth|login|require|guard|protect|permission|caller|identify|session|api_?key|"
                         r"logged_in|check_user")
# The security module's own JWT calls: a guard using one already accepts the bearer token.
_JWT_AWARE = {"bearer_identity", "authenticate_request", "current_user_id", "optional_user_id", "require_auth"}


def _refuses_401(block: cst.CSTNode) -> bool:
    """Whether a block answers 401 (``return ..., 401``, ``abort(401)``, ``raise Unauthorized``)."""
    says_401 = bool(findall(block, m.Integer("401") | m.Name("Unauthorized") | m.Attribute(
        attr=m.Name(m.MatchIfTrue(lambda n: "401" in n or n == "UNAUTHORIZED")))))
    return says_401 and bool(findall(block, m.Return() | m.Raise() | m.Call(func=m.Name("abort"))))


_PRIVILEGE = re.compile(r"(?i)admin|staff|superuser|internal|service|root|operator|privileg|backoffice")


def _privileged(func: cst.FunctionDef) -> bool:
    """A guard of a privileged area (named so, or saying so in its strings): whoever passes
    its credential is trusted beyond being a user."""
    strings = [v for n in findall(func.body, m.SimpleString()) if isinstance(v := n.evaluated_value, str)]
    return bool(_PRIVILEGE.search(func.name.value) or any(_PRIVILEGE.search(v) for v in strings))


def _refuses(stmt: cst.CSTNode) -> bool:
    """A further check after the first one: a 401/403 answer or an ``abort``/``raise``."""
    return bool(findall(stmt, m.Integer("401") | m.Integer("403") | m.Raise() | m.Call(func=m.Name("abort")) | m.Name(
        "Forbidden") | m.Name("Unauthorized")))


def _names(node: cst.CSTNode) -> set[str]:
    return {n.value for n in findall(node, m.Name())}


def _assigned_name(stmt: cst.CSTNode) -> str | None:
    if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())])])):
        return stmt.body[0].targets[0].target.value
    return None


def accept_bearer_in_guard(func: cst.FunctionDef) -> tuple[cst.FunctionDef, str | None]:
    """Make a guard that checks another credential (a session, an API key) accept a valid
    bearer JWT too, without letting anything else through: (new function, what was done;
    ``None`` when the function is no such guard).

    * ``user_id = identify_caller()`` tested for absence before the 401: the JWT's identity
      comes first, the old lookup runs only without one, so everything the guard does with
      the identity afterwards (roles, ``g.user_id``) runs unchanged;
    * a test of whether someone is logged in that nothing after the check uses (``if not
      current_user.is_authenticated: abort(401)``): the 401 only when there is no valid JWT
      either; a test of a shared secret (``X-Admin-Token == ADMIN_TOKEN``) is a privilege,
      not an identity, so it stays as it is (``"privilege"``);
    * a session guard (``if "uid" not in session: abort(401)``, then ``session["uid"]`` used):
      the JWT's identity first, the session's without one (``"session"``);
    * a guard that after its check only records the caller (``g.uid = row["user_id"]``)
      and passes: a valid JWT records its identity there and passes first (``"identity"``);
    * otherwise (the guard writes the session, or goes on using another credential it
      checked) the function is left as it is, for a human (``"human"``)."""
    body = list(func.body.body)
    for index, stmt in enumerate(body):
        if not isinstance(stmt, cst.If) or not _refuses_401(stmt.body):
            continue
        tested = _names(stmt.test)
        privileged = _privileged(func) and not any(_refuses(s) for s in body[index + 1:])
        for j in range(index - 1, -1, -1):
            name = _assigned_name(body[j])
            if name in tested and _IDENTITY_VAR.match(name):
                if privileged:  # an admin key's owner: any user's token must not pass for one
                    return func, "privilege"
                lookup = body[j].body[0].value
                code = cst.Module(body=[]).code_for_node(lookup)
                first, fallback = cst.parse_module(
                    f"{name} = bearer_identity()\nif {name} is None:\n    {name} = {code}\n").body
                body[j:j + 1] = [first.with_changes(leading_lines=body[j].leading_lines), fallback]
                return func.with_changes(body=func.body.with_changes(body=body)), "identity"
        assigned = {n for s in body[:index] if (n := _assigned_name(s))}
        flowing = tested & (assigned | {"session"})
        # Further 401 checks of the same credential (if key != KEY) are not a use: they get the same change.
        later = [s for s in body[index + 1:] if not (isinstance(s, cst.If) and _refuses_401(s.body))]
        if any(flowing & _names(s) for s in later) or not tested - {"None", "True", "False"}:
            session_guard = _session_identity_first(func) if "session" in flowing else None
            if session_guard is not None:
                return session_guard, "session"
            if privileged:
                return func, "privilege"
            token_first = _token_identity_first(func, body[index + 1:])
            return (token_first, "identity") if token_first is not None else (func, "human")
        if not _identity_presence(stmt.test):
            # a shared secret (an admin token, a service key) proves a privilege, not who is
            # calling: any valid user token passing it would open the area to every user
            return func, "privilege"
        new_body = list(body)
        for k in range(index, len(body)):
            s = body[k]
            if isinstance(s, cst.If) and _refuses_401(s.body) and (k == index or _names(s.test) & flowing):
                new_body[k] = s.with_changes(test=_unless_bearer(s.test))
        return func.with_changes(body=func.body.with_changes(body=new_body)), "check"
    return func, None


def _token_identity_first(func: cst.FunctionDef, after_check: list[cst.BaseStatement]) -> cst.FunctionDef | None:
    """A guard that, once its credential passed, only records who is calling (``g.uid =
    row["user_id"]``) and lets the request through: a valid bearer JWT records its identity
    the same way and passes first. None when the guard does anything else after the check
    (a role test, a lookup): skipping that could open something."""
    targets, passes = [], None
    for stmt in after_check:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and m.matches(
                small.targets[0].target, m.Attribute(value=m.Name("g"))) and _IDENTITY_VAR.match(
                small.targets[0].target.attr.value):
            targets.append(small.targets[0].target.attr.value)
        elif isinstance(small, cst.Return) and passes is None and stmt is after_check[-1]:
            passes = stmt
        else:
            return None
    if not targets:
        return None
    records = "".join(f"    g.{attr} = caller_id\n" for attr in targets)
    returns = cst.Module(body=[]).code_for_node(passes).strip() if passes is not None else "return None"
    block = cst.parse_module(f"caller_id = bearer_identity()\nif caller_id is not None:\n{records}    {returns}\n").body
    body = list(func.body.body)
    start = 1 if body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(m.SimpleString())])) else 0
    body[start:start] = block
    return func.with_changes(body=func.body.with_changes(body=body))


class _SessionKeyReads(cst.CSTTransformer):
    """``session["k"]`` / ``session.get("k")`` -> ``k``; ``"k" in session`` -> ``k is not None``."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def leave_Subscript(self, original_node, updated_node):
        if dotted(updated_node.value) == "session" and _session_key(updated_node) == self.key:
            return cst.Name(self.key)
        return updated_node

    def leave_Call(self, original_node, updated_node):
        if dotted(updated_node.func) == "session.get" and _session_key(updated_node) == self.key:
            return cst.Name(self.key)
        return updated_node

    def leave_Comparison(self, original_node, updated_node):
        if len(updated_node.comparisons) == 1 and dotted(updated_node.comparisons[0].comparator) == "session" \
                and string_value(updated_node.left) == self.key:
            operator = updated_node.comparisons[0].operator
            if isinstance(operator, (cst.In, cst.NotIn)):
                check = "is not None" if isinstance(operator, cst.In) else "is None"
                return cst.parse_expression(f"{self.key} {check}").with_changes(
                    lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node


def _session_key(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return string_value(node.slice[0].slice.value)
    if isinstance(node, cst.Call) and len(node.args) == 1:
        return string_value(node.args[0].value)
    return None


def _session_identity_first(func: cst.FunctionDef) -> cst.FunctionDef | None:
    """A guard whose identity is the session's user id (``if "uid" not in session: abort(401)``,
    then ``User.query.get(session["uid"])``): the bearer JWT's identity first, the session's
    without one, and the rest of the guard unchanged on that value. None when the session is
    used any other way (written, cleared, several keys, a default): then a human decides."""
    uses = [n for n in findall(func.body, m.Name("session"))]
    reads = findall(func.body, m.Subscript(value=m.Name("session")) | m.Call(
        func=m.Attribute(value=m.Name("session"), attr=m.Name("get"))) | m.Comparison(
        comparisons=[m.ComparisonTarget(operator=m.In() | m.NotIn(), comparator=m.Name("session"))]))
    keys = {_session_key(r) if not isinstance(r, cst.Comparison) else string_value(r.left) for r in reads}
    if len(keys) != 1 or len(reads) != len(uses) or not _IDENTITY_VAR.match(next(iter(keys)) or ""):
        return None
    key = next(iter(keys))
    if key in _names(func.body) or findall(func.body, m.AssignTarget(target=m.Subscript(value=m.Name("session")))):
        return None
    body = list(func.visit(_SessionKeyReads(key)).body.body)
    start = 1 if body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(m.SimpleString())])) else 0
    body[start:start] = cst.parse_module(
        f'{key} = bearer_identity()\nif {key} is None:\n    {key} = session.get("{key}")\n').body
    return func.with_changes(body=func.body.with_changes(body=body))


_PRESENCE = re.compile(r"(?i)^(not\s+)?(\w+\.)?(is_authenticated|is_anonymous)$|"
                       r"^(not\s+)?g\.(get\(\s*['\"])?(user|user_id|uid|current_user|identity)(['\"]\s*\))?(\s+is(\s+not)?\s+None)?$")


def _identity_presence(test: cst.BaseExpression) -> bool:
    """A test of whether someone is logged in (``not current_user.is_authenticated``,
    ``g.user is None``), not of a credential's value: a valid token answers it just as well."""
    return bool(_PRESENCE.match(cst.Module(body=[]).code_for_node(test).strip()))


def _unless_bearer(test: cst.BaseExpression) -> cst.BaseExpression:
    code = cst.Module(body=[]).code_for_node(test)
    if isinstance(test, (cst.BooleanOperation, cst.IfExp, cst.NamedExpr, cst.Lambda)):
        code = f"({code})"
    return cst.parse_expression(f"bearer_identity() is None and {code}")


class _HardenAuthHelper(cst.CSTTransformer):
    """Removes the bypass branches of one decorator: development switches that let the request
    through, a missing or invalid token that lets the request through, decoding without
    signature verification or with ``alg: none``."""

    def __init__(self, wrapped: str) -> None:
        super().__init__()
        self.wrapped = wrapped
        self.changed = False

    def leave_If(self, original_node: cst.If, updated_node: cst.If):
        test = cst.Module(body=[]).code_for_node(updated_node.test)
        lets_through = _calls(updated_node.body, self.wrapped) or bool(
            findall(updated_node.body, m.Assign(targets=[m.AssignTarget(target=m.Attribute(value=m.Name("g")))])))
        if not lets_through:
            return updated_node
        self.changed = True
        if _DEV_SWITCH.search(test):
            if updated_node.orelse is None:
                return cst.RemovalSentinel.REMOVE
            orelse = updated_node.orelse
            return cst.FlattenSentinel(orelse.body.body) if isinstance(orelse, cst.Else) else orelse.with_changes(
                leading_lines=updated_node.leading_lines)
        if _TOKEN_NAME.search(test):  # if not token: return view(...)  ->  abort(401)
            return updated_node.with_changes(body=cst.IndentedBlock(body=[_ABORT_401]))
        self.changed = False
        return updated_node

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler, updated_node: cst.ExceptHandler):
        body = updated_node.body.body
        if len(body) == 1 and body[0].deep_equals(_ABORT_401):
            return updated_node
        passes = all(m.matches(s, m.SimpleStatementLine(body=[m.Pass()])) for s in body)
        if passes or _calls(updated_node.body, self.wrapped) or not findall(updated_node.body, m.Return() | m.Raise()):
            self.changed = True
            return updated_node.with_changes(body=cst.IndentedBlock(body=[_ABORT_401]))
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not m.matches(updated_node.func, m.Attribute(attr=m.Name("decode"))):
            return updated_node
        new = verified_decode(updated_node)
        if not new.deep_equals(updated_node):
            self.changed = True
        return new


def verified_decode(call: cst.Call) -> cst.Call:
    """``jwt.decode(...)`` with the signature verified: no ``options``/``verify`` turning it
    off, ``algorithms=["HS256"]``, and the app's secret when no key was given."""
    args = []
    for arg in call.args:
        name = arg.keyword.value if arg.keyword else None
        if name in ("options", "verify"):
            continue
        if name == "algorithms":
            arg = arg.with_changes(value=cst.parse_expression('["HS256"]'))
        args.append(arg)
    has_key = len([a for a in args if a.keyword is None]) >= 2 or any(a.keyword and a.keyword.value == "key" for a in args)
    if not has_key and args:
        args.insert(1, cst.Arg(cst.parse_expression('current_app.config["JWT_SECRET"]')))
    if not any(a.keyword and a.keyword.value == "algorithms" for a in args):
        args.append(cst.ensure_type(cst.parse_expression('f(algorithms=["HS256"])'), cst.Call).args[0])
    args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) if i == len(args) - 1 else
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for i, a in enumerate(args)]
    return call.with_changes(args=args)


def _accepts_none(call: cst.Call) -> bool:
    algorithms = next((a.value for a in call.args if a.keyword and a.keyword.value == "algorithms"), None)
    return algorithms is not None and any((string_value(s) or "").lower() == "none"
                                          for s in findall(algorithms, m.SimpleString()))


def _verification_off(call: cst.Call) -> bool:
    for arg in call.args:
        name = arg.keyword.value if arg.keyword else None
        if name == "verify" and m.matches(arg.value, m.Name("False")):
            return True
        if name == "options" and findall(arg.value, m.DictElement(
                key=m.SimpleString(m.MatchIfTrue(lambda v: "verify_signature" in v)), value=m.Name("False"))):
            return True
    return False


class AddAuthenticationCommand(MigrationCommand):
    """Add authentication to every route that is not public and has none.

    The decorator is the codebase's own auth helper when it verifies a token (its bypass
    branches removed: development switches, a missing or invalid token let through,
    decoding without signature verification); otherwise the security module's
    ``require_auth`` (Bearer JWT, HS256, ``JWT_SECRET``). It goes just below the route
    decorators, so that it wraps the view the framework calls."""

    DESCRIPTION = "Authenticate every non-public route, reusing the project's own token-verifying helper."
    NAME = "add-authentication"
    ORDER = 20
    FIXES = (Category.MISSING_AUTH, Category.AUTH_BYPASS)
    APPLIES_TO = r"\.route\(|\.(get|post|put|patch|delete)\(|add_url_rule|decode|401|Unauthorized|UNAUTHORIZED"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._local_helpers: set[str] = set()
        self._class_decorators: list[set[str]] = []
        self._jwt_names = {"jwt"}
        # (name, parameters) of the functions around the current one, itself included
        self._enclosing: list[tuple[str, set[str]]] = []

    def visit_Module(self, node: cst.Module) -> None:
        helper = self.migration.auth_helper
        for stmt in node.body:
            if isinstance(stmt, cst.FunctionDef) and verifies_token(stmt):
                if helper is None or helper.name == stmt.name.value:
                    self._local_helpers.add(stmt.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_decorators.append(class_decorator_names(node))

    def leave_ClassDef(self, original_node, updated_node):
        self._class_decorators.pop()
        return updated_node

    def _decorator_name(self) -> str:
        helper = self.migration.auth_helper
        if helper is not None:
            if helper.file != self.migration.file:
                self.import_from(*self.migration.import_target(helper.module), helper.name)
            return helper.name
        if self._local_helpers:
            return sorted(self._local_helpers)[0]
        self.import_security("require_auth")
        return "require_auth"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enclosing.append((node.name.value, {p.name.value for p in (*node.params.params, *node.params.posonly_params)}))

    def _is_guard_candidate(self, func: cst.FunctionDef) -> bool:
        """A request hook or a decorator's wrapper that is not a route and not JWT-based already."""
        if self._class_decorators or self.routes_of(func):
            return False
        called = {dotted(c.func).rsplit(".", 1)[-1] for c in findall(func.body, m.Call())}
        if called & _JWT_AWARE or called & {"decode", "decode_token", "verify_token", "verify_jwt", "jwt_required"}:
            return False
        outer = self._enclosing[:-1]
        if outer:  # a wrapper: it passes the request on by calling the view it wraps
            return bool(called & outer[-1][1])
        hook = any(dotted(d.decorator).rsplit(".", 1)[-1] in ("before_request", "before_app_request")
                   for d in func.decorators)
        return hook or (not func.params.params and bool(_GUARD_NAME.search(func.name.value)))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        try:
            return self._leave_function(original_node, updated_node)
        finally:
            self._enclosing.pop()

    def _leave_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = updated_node.name.value
        if self._is_guard_candidate(original_node):
            guard = self._enclosing[-2][0] if len(self._enclosing) > 1 else name  # a wrapper: its decorator
            new, done = accept_bearer_in_guard(updated_node)
            if done == "human":
                self.note(f"{guard}() checks a credential other than the bearer JWT and keeps using it: "
                          "make it accept the token's identity (workbench_security.bearer_identity())")
            elif done == "privilege":
                self.note(f"{guard}() checks a shared secret (a privilege, not a user): kept as it is, so the "
                          "routes behind it are reached with that secret and no user token; decide which users may "
                          "pass (e.g. require_auth plus a role check)")
            elif done is not None:
                self.import_security("bearer_identity")
                self.note(f"{guard}() also accepts a valid bearer JWT (its own credential check is kept; "
                          "retire it once no client uses it)")
                return new
        if name in self._local_helpers or (self.migration.auth_helper and name == self.migration.auth_helper.name
                                           and self.migration.auth_helper.file == self.migration.file):
            return self._harden(updated_node)
        routes = self.routes_of(original_node)
        if not routes or all(r.public for r in routes) or any(r.auth for r in routes):
            return updated_node
        known = frozenset(self._local_helpers) | (
            {self.migration.auth_helper.name} if self.migration.auth_helper else set())
        class_decorators = self._class_decorators[-1] if self._class_decorators else set()
        if has_auth_decorator(updated_node, known) or any(
                n in known or AUTH_DECORATOR.match(n) for n in class_decorators):
            return updated_node
        decorator = cst.Decorator(decorator=cst.Name(self._decorator_name()))
        decorators = list(updated_node.decorators)
        position = max((i + 1 for i, d in enumerate(decorators) if route_of_decorator(d)), default=0)
        decorators.insert(position, decorator)
        return updated_node.with_changes(decorators=decorators)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:  # import jwt as pyjwt
            if dotted(alias.name) == "jwt" and alias.asname is not None:
                self._jwt_names.add(alias.asname.name.value)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        # Anywhere in the module: a token decoded without verifying its signature, or with "none".
        head, _, verb = dotted(updated_node.func).rpartition(".")
        if head in self._jwt_names and verb == "decode" and (_verification_off(updated_node) or _accepts_none(updated_node)):
            new = verified_decode(updated_node)
            if findall(new, m.Name("current_app")):
                self.add_needed_import("flask", "current_app")
            self.note(f"line {self.line_of(original_node)}: jwt.decode now verifies the token's signature")
            return new
        return updated_node

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        # A verified decode also raises ExpiredSignatureError/InvalidSignatureError: catch them all.
        if not findall(updated_node.body, m.Call(func=m.Attribute(value=m.Name("jwt"), attr=m.Name("decode")))):
            return updated_node
        handlers = [h.with_changes(type=cst.parse_expression("jwt.PyJWTError"))
                    if h.type is not None and dotted(h.type) == "jwt.DecodeError" else h for h in updated_node.handlers]
        return updated_node.with_changes(handlers=handlers)

    def _harden(self, func: cst.FunctionDef) -> cst.FunctionDef:
        wrapped = _wrapped_name(func)
        if not wrapped:
            return func
        harden = _HardenAuthHelper(wrapped)
        new = func.visit(harden)
        if harden.changed or not new.deep_equals(func):
            if findall(new, m.Call(func=m.Name("abort"))):
                self.add_needed_import("flask", "abort")
            self.note(f"removed the bypass branches of the auth helper {func.name.value}()")
        return new
