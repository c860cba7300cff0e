"""WB103 permissive-auth-guard: an auth guard that lets a missing or invalid token through."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._guards import AUTH_FUNCTION, CREDENTIAL, absence_test, is_hook, is_pass_through, is_switch_test, rejects
from ._syntax import FunctionNode, functions_with_outer, last_name, mentions, names_in, own_nodes

# Calls that check a credential; a try around one whose except lets the request through is a bypass.
VERIFY_CALL = re.compile(r"decode|verify|validate|check|load|loads|unsign|authenticate|parse", re.I)


class PermissiveAuthGuard(Rule):
    """Flags an auth guard that lets a request through when its token is missing or invalid.

    ## What it does
    In auth decorators (a function wrapping a view and reading a credential), request
    hooks (`before_request`) and auth dependencies (functions named for auth that receive
    the request's token, header, cookie or session; not `authenticate(email, password)`
    helpers, whose `None` means "wrong password" to a login route), finds
    the branch that runs when the credential is missing (`if not token: return f(...)`)
    or when its verification fails (`except jwt.InvalidTokenError: return f(...)`, or an
    `except` that swallows the error and carries on), and flags the line that lets the
    request through (the `except` line when it falls through).

    ## Why is this bad?
    The routes behind the guard look protected but anyone can call them: sending no token,
    or a forged one, is enough.

    ## Example
    ```python
    def auth_required(f):
        @wraps(f)
        def wrapper(*args, **kwargs):
            token = request.headers.get("Authorization")
            if not token:
                return f(*args, **kwargs)
            ...
    ```

    ## Use instead
    ```python
            if not token:
                abort(401)
    ```
    """

    id = "WB103"
    name = "permissive-auth-guard"
    category = Category.AUTH_BYPASS
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 287
    fixed_by = "add_authentication"

    VALID = (
        Example(
            "from functools import wraps\n"
            "import jwt\n"
            "from flask import request, abort, g\n"
            "def auth_required(f):\n"
            "    @wraps(f)\n"
            "    def wrapper(*args, **kwargs):\n"
            "        token = request.headers.get('Authorization', '').removeprefix('Bearer ')\n"
            "        if not token:\n"
            "            abort(401)\n"
            "        try:\n"
            "            g.user_id = jwt.decode(token, 'k', algorithms=['HS256'])['sub']\n"
            "        except jwt.InvalidTokenError:\n"
            "            abort(401)\n"
            "        return f(*args, **kwargs)\n"
            "    return wrapper\n"
        ),
        Example(
            "from flask import g, session\n"
            "def load_logged_in_user():\n"
            "    user_id = session.get('user_id')\n"
            "    if user_id is None:\n"
            "        g.user = None\n"
            "        return\n"
            "    g.user = get_user(user_id)\n"
        ),
    )
    INVALID = (
        Example(
            "from functools import wraps\n"
            "import jwt\n"
            "from flask import request, g\n"
            "def auth_required(f):\n"
            "    @wraps(f)\n"
            "    def wrapper(*args, **kwargs):\n"
            "        token = request.headers.get('Authorization')\n"
            "        if not token:\n"
            "            return f(*args, **kwargs)\n"
            "        try:\n"
            "            g.user_id = jwt.decode(token, 'k', algorithms=['HS256'])['sub']\n"
            "        except jwt.InvalidTokenError:\n"
            "            pass\n"
            "        return f(*args, **kwargs)\n"
            "    return wrapper\n",
            lines=(9, 12),
        ),
        Example(
            "from fastapi import Header, HTTPException\n"
            "import jwt\n"
            "def get_current_user(authorization: str | None = Header(None)):\n"
            "    try:\n"
            "        return jwt.decode(authorization, 'k', algorithms=['HS256'])\n"
            "    except Exception:\n"
            "        return None\n"
            "def require_admin(user=None):\n"
            "    if user is None:\n"
            "        raise HTTPException(status_code=401)\n",
            lines=(7,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "token", "auth", "session", "jwt", "credential", "api_key", "apikey", "bearer", "cookie", "user", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        seen: set[int] = set()
        for fn, outer in functions_with_outer(ctx.tree):
            if "optional" in fn.name.lower():
                continue
            if outer:  # (a nested function: a decorator's wrapper, maybe; most functions are not nested)
                if any("optional" in o.name.lower() for o in outer):
                    continue
                views = {a.arg for o in outer for a in o.args.args + o.args.posonlyargs}
                decorator = _calls_any(fn, views)
            else:
                views, decorator = set(), False
            hook = is_hook(fn)
            method = bool(fn.args.args) and fn.args.args[0].arg in ("self", "cls")
            dependency = not decorator and not hook and not method and bool(AUTH_FUNCTION.search(fn.name)) and \
                _takes_credential(fn)
            if not (decorator or hook or dependency) or not _reads_credential(fn):
                continue
            for line, message in self._bypasses(fn, views, decorator, hook, dependency):
                if line not in seen:
                    seen.add(line)
                    yield self.finding(ctx, line, message)

    def _bypasses(self, fn: FunctionNode, views: set[str], decorator: bool, hook: bool,
                  dependency: bool) -> Iterable[tuple[int, str]]:
        # A hook that never rejects only loads an optional user (a decorator enforces); a
        # dependency that returns the user is the guard itself, so its `return None` is a bypass.
        if hook and not _rejects_somewhere(fn):
            return
        if dependency and not (_rejects_somewhere(fn) or _returns_value(fn)):
            return
        lenient_return = hook or dependency  # `return None` means "no user" / "carry on"
        for node in own_nodes(fn):
            if isinstance(node, ast.If) and absence_test(node.test) and not is_switch_test(node.test):
                if any(rejects(s) for s in node.body):
                    continue
                for stmt in node.body:
                    if is_pass_through(stmt, views, lenient_return):
                        yield stmt.lineno, "request let through when the credential is missing"
            elif isinstance(node, ast.Try) and any(_verifies(s) for s in node.body):
                for handler in node.handlers:
                    if any(rejects(s) for s in handler.body):
                        continue
                    through = [s for s in handler.body if is_pass_through(s, views, lenient_return)]
                    if through:
                        yield through[0].lineno, "request let through when the credential is invalid"
                    elif decorator and not any(isinstance(s, (ast.Return, ast.Continue, ast.Break)) for s in
                                               ast.walk(ast.Module(body=handler.body, type_ignores=[]))):
                        yield handler.lineno, "credential verification error swallowed; the request carries on"


def _calls_any(fn: FunctionNode, names: set[str]) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names for n in own_nodes(fn))


def _reads_credential(fn: FunctionNode) -> bool:
    params = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    return any(CREDENTIAL.search(n) for n in params) or any(
        CREDENTIAL.search(n) for node in own_nodes(fn) for n in names_in(node)
    )


_CREDENTIAL_PARAM = re.compile(r"token|authorization|credential|api_?key|bearer|auth|jwt|session|cookie", re.I)
_INJECTORS = ("Depends(", "Security(", "Header(", "Cookie(", "APIKey", "OAuth2", "HTTPBearer")


def _takes_credential(fn: FunctionNode) -> bool:
    """A dependency/helper that receives or reads the request's credential: a token-named parameter,
    an injected header/cookie/security scheme, or a read of request headers, cookies or the session."""
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    defaults = [d for d in fn.args.defaults + fn.args.kw_defaults if d is not None]
    if any(_CREDENTIAL_PARAM.search(a.arg) for a in args):
        return True
    injected = " ".join(ast.unparse(x) for x in [*defaults, *(a.annotation for a in args if a.annotation)])
    if any(marker in injected for marker in _INJECTORS):
        return True
    text = " ".join(ast.unparse(n) for n in own_nodes(fn) if isinstance(n, ast.Attribute))
    return bool(re.search(r"\b(request|req)\.(headers|cookies|authorization)|\bsession\b", text))


def _rejects_somewhere(fn: FunctionNode) -> bool:
    return any(rejects(stmt) for stmt in fn.body)


def _returns_value(fn: FunctionNode) -> bool:
    return any(isinstance(n, ast.Return) and n.value is not None and not (
        isinstance(n.value, ast.Constant) and n.value.value is None) for n in own_nodes(fn))


def _verifies(stmt: ast.stmt) -> bool:
    return any(isinstance(n, ast.Call) and VERIFY_CALL.search(last_name(n.func)) for n in ast.walk(stmt))
