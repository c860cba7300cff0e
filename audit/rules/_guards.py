"""What an auth guard looks like in an ``ast`` tree: decorators that wrap a view, request
hooks, dependencies; where they let a request through and where they reject it.

Shared by the auth-bypass rules (private: not a rule module).
"""

from __future__ import annotations

import ast
import re

from ._syntax import FunctionNode, last_name, names_in, str_value

# Identifiers that name a credential or the code that checks one.
CREDENTIAL = re.compile(r"token|auth|bearer|credential|jwt|api_?key|session|cookie|identity|user", re.I)
# Functions whose name says they check who is calling.
AUTH_FUNCTION = re.compile(r"auth|login|token|jwt|identity|current_user|require|protect|guard|verify|permission|"
                           r"check_user|load_user|logged_in|before_request|session", re.I)
# Tests of a development switch: DEBUG, TESTING, SKIP_AUTH, FLASK_ENV == "development", ...
SWITCH_NAME = re.compile(
    r"(^|_)(debug|testing|dev|devel|development|skip_?auth\w*|disable_?auth\w*|auth_?disabled|no_?auth|bypass\w*|"
    r"insecure|mock_?auth|fake_?auth|login_?disabled|local_?mode|dev_?mode|demo_?mode|auth_?enabled)($|_)",
    re.I,
)
SWITCH_VALUE = re.compile(r"^(dev|devel|development|local|test|testing|debug|demo)$", re.I)
_REJECT_STATUS = {401, 403}


def is_switch_test(test: ast.expr) -> bool:
    """Whether an ``if`` test depends on a development switch (a flag or an environment name)."""
    if any(SWITCH_NAME.search(n) for n in names_in(test)):
        return True
    for sub in ast.walk(test):
        value = str_value(sub)
        if value is not None and (SWITCH_VALUE.match(value) or SWITCH_NAME.search(value) and value.isupper()):
            return True
    return False


def wrapped_view_names(fn: FunctionNode, outer: list[FunctionNode]) -> set[str]:
    """Parameters of the enclosing functions (a decorator's ``f``/``view_func``): calling one passes the request on."""
    names: set[str] = set()
    for o in outer:
        names.update(a.arg for a in o.args.args + o.args.posonlyargs)
    return names


def is_pass_through(stmt: ast.AST, views: set[str], hook: bool) -> bool:
    """``return f(*args, **kwargs)`` in a decorator; ``return`` / ``return None`` in a request hook."""
    if isinstance(stmt, ast.Return):
        value = stmt.value
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in views:
            return True
        if hook and (value is None or (isinstance(value, ast.Constant) and value.value is None)):
            return True
    return False


def rejects(node: ast.AST) -> bool:
    """Whether ``node`` contains a rejection: raise, abort(...), a 401/403 status, an error response."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Raise):
            return True
        if isinstance(sub, ast.Call) and last_name(sub.func) in ("abort", "Unauthorized", "Forbidden", "HTTPException"):
            return True
        if isinstance(sub, ast.Constant) and isinstance(sub.value, int) and sub.value in _REJECT_STATUS:
            return True
        if isinstance(sub, ast.Attribute) and re.search(r"HTTP_40[13]|UNAUTHORIZED|FORBIDDEN", sub.attr):
            return True
    return False


def is_hook(fn: FunctionNode) -> bool:
    return any(last_name(d.func if isinstance(d, ast.Call) else d) in ("before_request", "before_app_request",
               "middleware") for d in fn.decorator_list)


def absence_test(test: ast.expr) -> bool:
    """``not token``, ``token is None``, ``header == ""``, ``"Authorization" not in request.headers``,
    ``not auth.startswith("Bearer ")`` -- a test that is true when the credential is missing."""
    if isinstance(test, ast.BoolOp):
        return any(absence_test(v) for v in test.values)
    mentions = {n for n in names_in(test) if CREDENTIAL.search(n)} or {
        s for s in (str_value(x) for x in ast.walk(test)) if s and CREDENTIAL.search(s)
    }
    if not mentions:
        return False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    if isinstance(test, ast.Compare):
        for op, right in zip(test.ops, test.comparators):
            if isinstance(op, (ast.Is, ast.Eq)) and isinstance(right, ast.Constant) and right.value in (None, ""):
                return True
            if isinstance(op, ast.NotIn):
                return True
    return False
