"""WB102 dev-switch-auth-bypass: an auth check skipped when a development switch is on."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._guards import AUTH_FUNCTION, CREDENTIAL, is_switch_test, rejects
from ._syntax import FunctionNode, identifiers, functions_with_outer, names_in, nodes_of, own_nodes, str_value

# Settings that switch authentication off outright (Flask-Login's LOGIN_DISABLED and friends).
AUTH_OFF_SETTING = re.compile(r"^(LOGIN_DISABLED|AUTH_DISABLED|DISABLE_AUTH(ENTICATION)?|SKIP_AUTH(ENTICATION)?|"
                              r"NO_AUTH|BYPASS_AUTH)$", re.I)


class DevSwitchAuthBypass(Rule):
    """Flags an auth guard that lets requests through when a development switch is on.

    ## What it does
    In an auth guard (a decorator, request hook or dependency whose name or body deals with
    credentials), finds an `if` on a development switch (`DEBUG`, `TESTING`, `SKIP_AUTH`,
    `FLASK_ENV == "development"`, `os.getenv("DISABLE_AUTH")`...) whose branch lets the
    request through or sets an identity without checking a credential; and settings that
    switch authentication off (`LOGIN_DISABLED = True`). Reported once, at the `if` line.

    ## Why is this bad?
    Switches leak into production: one wrong environment variable and every route is
    open. The routes behind the guard look protected in review, which hides the hole.

    ## Example
    ```python
    def require_auth(f):
        @wraps(f)
        def wrapper(*args, **kwargs):
            if current_app.debug:
                return f(*args, **kwargs)
            ...
    ```

    ## Use instead
    ```python
    def require_auth(f):
        @wraps(f)
        def wrapper(*args, **kwargs):
            g.user_id = verify(request.headers["Authorization"])  # no switch; tests sign tokens
            return f(*args, **kwargs)
    ```
    """

    id = "WB102"
    name = "dev-switch-auth-bypass"
    category = Category.AUTH_BYPASS
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 288
    fixed_by = "remove_identity_bypass"

    VALID = (
        Example(
            "import logging\n"
            "from functools import wraps\n"
            "from flask import current_app, request, abort\n"
            "def require_auth(f):\n"
            "    @wraps(f)\n"
            "    def wrapper(*args, **kwargs):\n"
            "        if current_app.debug:\n"
            "            logging.debug('checking %s', request.path)\n"
            "        if not verify(request.headers.get('Authorization')):\n"
            "            abort(401)\n"
            "        return f(*args, **kwargs)\n"
            "    return wrapper\n"
        ),
        Example(
            "import os\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI(debug=os.getenv('APP_ENV') == 'development')\n"
            "def render(debug):\n"
            "    if debug:\n"
            "        return 'verbose'\n"
            "    return 'short'\n"
        ),
    )
    INVALID = (
        Example(
            "import os\n"
            "from functools import wraps\n"
            "from flask import request, g, abort\n"
            "def token_required(f):\n"
            "    @wraps(f)\n"
            "    def decorated(*args, **kwargs):\n"
            "        if os.environ.get('SKIP_AUTH') == '1':\n"
            "            g.user_id = 1\n"
            "            return f(*args, **kwargs)\n"
            "        token = request.headers.get('Authorization')\n"
            "        if not token:\n"
            "            abort(401)\n"
            "        return f(*args, **kwargs)\n"
            "    return decorated\n",
            lines=(7,),
        ),
        Example(
            "from fastapi import Header, HTTPException\n"
            "from .settings import settings\n"
            "async def get_current_user(authorization: str = Header(None)):\n"
            "    if settings.ENV == 'development':\n"
            "        return {'id': 1}\n"
            "    if not authorization:\n"
            "        raise HTTPException(status_code=401)\n"
            "    return decode(authorization)\n",
            lines=(4,),
        ),
        Example(
            "class DevelopmentConfig:\n"
            "    LOGIN_DISABLED = True\n",
            lines=(2,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if ctx.in_test_file:
            return
        guards: dict[int, bool] = {}

        def guard(f: FunctionNode) -> bool:
            if id(f) not in guards:
                guards[id(f)] = _is_guard(f)
            return guards[id(f)]

        # A function can only hold a switch if an `if` starts within its lines: the others need no
        # guard test (the costly part).
        if_lines = sorted(n.lineno for n in nodes_of(ctx.tree, ast.If))
        for fn, outer in functions_with_outer(ctx.tree):
            end = fn.end_lineno
            if end is not None and bisect_right(if_lines, end) == bisect_left(if_lines, fn.lineno):
                continue
            if any(guard(f) for f in (*outer, fn)):
                yield from self._switches(ctx, fn)
        # Settings that switch authentication off: rare, so looked for kind by kind first, and
        # reported in walk order only when there are some.
        constant = ast.Constant  # (the `= True` test of _auth_off first, in a comprehension: most values are not)
        if not any(_auth_off(n) for kind in (ast.Assign, ast.AnnAssign, ast.keyword) for n in [
                n for n in nodes_of(ctx.tree, kind) if n.value.__class__ is constant and n.value.value is True]):
            return
        for node in nodes_of(ctx.tree, ast.Assign, ast.AnnAssign, ast.keyword):
            for line, message in _auth_off(node):
                yield self.finding(ctx, line, message)

    def _switches(self, ctx: RuleContext, fn: FunctionNode) -> Iterable[Finding]:
        for node in own_nodes(fn):  # nested wrappers are visited as guards of their own
            if isinstance(node, ast.If) and is_switch_test(node.test) and _lets_through(node.body):
                yield self.finding(ctx, node.lineno, f"auth skipped when {ast.unparse(node.test)}")


def _auth_off(node: ast.AST) -> list[tuple[int, str]]:
    """``LOGIN_DISABLED = True`` / ``app.config["SKIP_AUTH"] = True`` / ``Settings(DISABLE_AUTH=True)``."""
    value = node.value
    if value.__class__ is not ast.Constant or value.value is not True:  # (is_true, inline: the hot test)
        return []
    if node.__class__ is ast.keyword:
        if node.arg and AUTH_OFF_SETTING.match(node.arg):
            return [(value.lineno, f"{node.arg}=True switches authentication off")]
        return []
    found = []
    for t in node.targets if node.__class__ is ast.Assign else [node.target]:
        name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else str_value(
            getattr(t, "slice", None))
        if name and AUTH_OFF_SETTING.match(name):
            found.append((node.lineno, f"{name} = True switches authentication off"))
    return found


def _is_guard(fn: FunctionNode) -> bool:
    """A function that checks credentials: named so, or reading one and rejecting without it."""
    if AUTH_FUNCTION.search(fn.name):
        return True
    # one search over the names joined by spaces (no credential word spans a space)
    mentions = CREDENTIAL.search(" ".join(identifiers(fn))) is not None
    return mentions and any(rejects(stmt) for stmt in fn.body)


def _lets_through(body: list[ast.stmt]) -> bool:
    """A branch that returns early or grants an identity, and does not reject."""
    if any(rejects(stmt) for stmt in body):
        return False
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Return):
                return True
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(CREDENTIAL.search(n) for t in targets for n in names_in(t)):
                    return True
    return False
