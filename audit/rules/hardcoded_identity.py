"""WB101 hardcoded-identity: a fixed user id or user object used as the current user."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._guards import is_switch_test
from ._syntax import FunctionNode, functions, is_handler, last_name, nodes_of, own_nodes, str_value

# Names that hold "who is calling": user_id, current_user, g.user, session["uid"], author_id...
IDENTITY_NAME = re.compile(
    r"^(current_|logged_in_|auth(enticated)?_|request_|acting_)?(user|usr|uid|user_?id|account(_id)?|identity|"
    r"principal|actor(_id)?|me|member(_id)?|owner(_id)?|author(_id)?|sender(_id)?|created_by|requester(_id)?)$",
    re.IGNORECASE,
)
# Keyword arguments that record who did something (Post(author_id=1)).
OWNER_KWARG = re.compile(r"^(user_?id|author_?id|owner_?id|sender_?id|created_by(_id)?|creator_?id|uploaded_by|"
                         r"uploader_?id|account_?id|member_?id)$", re.IGNORECASE)
# Functions whose job is to say who is calling.
IDENTITY_FUNCTION = re.compile(
    r"^_?(get_|load_|fetch_|resolve_|find_)?(current_?|logged_in_?|authenticated_?|request_?|session_?)?"
    r"(user|identity|user_?id|uid|account|principal)(_from_\w+|_for_\w+)?$|^_?(get_|load_)?(me|whoami)$",
    re.IGNORECASE,
)
# Decorators that register "who is calling" callbacks (Flask-Login, Flask-JWT-Extended, Flask-HTTPAuth).
IDENTITY_DECORATORS = frozenset({"user_loader", "request_loader", "header_loader", "user_lookup_loader",
                                 "verify_token", "verify_password", "get_user_roles"})
# Functions that build sample data on purpose (seeding a dev database), not request handling.
SEED_FUNCTION = re.compile(r"seed|populate|fixture|sample_data|demo_data|init_db|create_db|bootstrap_data", re.I)
# Calls that look a user up (User.query.get(7), db.session.get(User, 7), get_user(7)).
LOOKUP_CALL = re.compile(r"^(get|get_or_404|first_or_404|filter_by|filter|find|find_one|find_by_id|load_user|"
                         r"get_user\w*|get_by_id|fetch_user\w*|one|first|select|where|query)$")


class HardcodedIdentity(Rule):
    """Flags a hard-coded user id or user object used as the caller's identity.

    ## What it does
    Inside functions, finds assignments of a literal id (or a lookup by a literal id, or a
    literal user record, or a module constant holding one such as `DEMO_USER_ID = 1`) to a
    name that holds the caller's identity (`user_id = 7`, `g.user = User.query.get(7)`,
    `session["user_id"] = 1`, `current_user = {"id": 1}`), literal owner ids passed when
    creating records in a route (`Post(author_id=1)`), user objects built with a literal id
    and returned (`return CurrentUser(id=1, ...)`, e.g. as a fallback), and functions whose job is to return
    the current user (`get_current_user`, Flask-Login's `user_loader`/`request_loader`
    callbacks) that return a fixed one. Identities granted behind a development switch are
    left to WB102, which reports them once at the switch.

    ## Why is this bad?
    Every caller acts as that user: no credential is checked, and all data is attributed
    to (and readable as) one account.

    ## Example
    ```python
    @app.post("/api/posts")
    def create_post():
        user_id = 1  # TODO: auth
        post = Post(author_id=user_id, **request.json)
    ```

    ## Use instead
    ```python
    @app.post("/api/posts")
    @login_required
    def create_post():
        post = Post(author_id=g.user.id, **request.json)
    ```
    """

    id = "WB101"
    name = "hardcoded-identity"
    category = Category.AUTH_BYPASS
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 287
    fixed_by = "remove_identity_bypass"

    VALID = (
        Example(
            "from flask import Flask, g\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/me')\n"
            "def me():\n"
            "    user_id = g.user.id\n"
            "    page = 1\n"
            "    return {'id': user_id, 'page': page}\n"
        ),
        Example(
            "from fastapi import Depends, FastAPI\n"
            "app = FastAPI()\n"
            "def get_current_user(token: str):\n"
            "    return decode(token)['sub']\n"
            "\n"
            "@app.get('/me')\n"
            "def me(user_id: int = Depends(get_current_user)):\n"
            "    return {'id': user_id}\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, g, request\n"
            "from .models import User, Post\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/posts', methods=['POST'])\n"
            "def create_post():\n"
            "    user_id = 7\n"
            "    g.user = User.query.get(7)\n"
            "    return Post(author_id=1, title=request.json['title'])\n",
            lines=(7, 8, 9),
        ),
        Example(
            "from fastapi import FastAPI, Depends\n"
            "app = FastAPI()\n"
            "\n"
            "def get_current_user():\n"
            "    return {'id': 1, 'username': 'admin'}\n"
            "\n"
            "@app.get('/me')\n"
            "def me(user=Depends(get_current_user)):\n"
            "    return user\n"
            "\n"
            "def get_reader(token: str | None = None):\n"
            "    try:\n"
            "        return decode(token)\n"
            "    except ValueError:\n"
            "        return CurrentUser(id=1, email='demo@example.com')\n",
            lines=(5, 15),
        ),
        Example(
            "from flask import session\n"
            "from flask_login import LoginManager\n"
            "login_manager = LoginManager()\n"
            "DEMO_USER_ID = 1\n"
            "def login_as_demo():\n"
            "    session['user_id'] = 'admin'\n"
            "@login_manager.request_loader\n"
            "def load_from_request(_request):\n"
            "    return db.get_user(DEMO_USER_ID)\n",
            lines=(6, 9),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if ctx.in_test_file:
            return
        if ctx.in_script_file:
            return
        seen: set[int] = set()
        constants = _literal_constants(ctx.tree)
        # Outside handlers and identity functions only two tests can hold (an identity name assigned
        # a fixed identity, a user built with a literal id returned): their lines, found over the
        # file, tell which functions need a closer look.
        lines = _candidate_lines(ctx.tree, constants)
        for fn in functions(ctx.tree):
            # (the line test first: it skips most functions before the costlier name patterns)
            handler = is_handler(ctx, fn)
            end = fn.end_lineno
            if not handler and end is not None and bisect_right(lines, end) == bisect_left(lines, fn.lineno) and not \
                    _is_identity_function(fn):
                continue
            if SEED_FUNCTION.search(fn.name):
                continue
            for line, message in self._in_function(fn, handler, constants):
                if line not in seen:
                    seen.add(line)
                    yield self.finding(ctx, line, message)

    def _in_function(self, fn: FunctionNode, handler: bool, constants: set[str]) -> Iterable[tuple[int, str]]:
        identity_fn = _is_identity_function(fn)
        # Identities granted behind a development switch are reported once, at the switch (WB102).
        own = own_nodes(fn)
        switched: set[int] | None = None  # the lines behind a switch, found when a finding first needs them
        for stmt in own:
            kind = stmt.__class__
            if kind not in _LOOKED_AT:  # (the only kinds of node the tests below accept)
                continue
            # (what _at would say, cheaper: calls matter in handlers, by their keywords; a returned
            # value is a fixed identity only from an identity function, else a user built by a call)
            if kind is ast.Call:
                if not handler or not stmt.keywords:
                    continue
            elif kind is ast.Return:
                if stmt.value is None or (not identity_fn and stmt.value.__class__ is not ast.Call):
                    continue
            found = list(self._at(stmt, fn, handler, identity_fn, constants))
            if not found:
                continue
            if switched is None:
                switched = {line for node in own if node.__class__ is ast.If and is_switch_test(node.test)
                            for stmt in node.body for line in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)}
            if switched and getattr(stmt, "lineno", 0) in switched:
                continue
            yield from found

    @staticmethod
    def _at(stmt: ast.AST, fn: FunctionNode, handler: bool, identity_fn: bool, constants: set[str]
            ) -> Iterable[tuple[int, str]]:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            name = next((n for n in map(_target_name, targets) if n and IDENTITY_NAME.match(n)), None)
            if name and _fixed_identity(stmt.value, constants):
                yield stmt.lineno, f"hard-coded identity assigned to {name}"
        elif isinstance(stmt, ast.Return) and identity_fn and stmt.value is not None and _fixed_identity(stmt.value, constants):
            yield stmt.lineno, f"{fn.name}() returns a fixed user instead of the caller's identity"
        elif isinstance(stmt, ast.Return) and stmt.value is not None and _user_object(stmt.value, constants):
            yield stmt.lineno, f"{fn.name}() returns a hard-coded user"
        if handler and isinstance(stmt, ast.Call):
            for kw in stmt.keywords:
                if kw.arg and OWNER_KWARG.match(kw.arg) and (_literal_id(kw.value) or _constant_ref(kw.value, constants)):
                    yield kw.value.lineno, f"record created with the fixed owner {kw.arg}={ast.unparse(kw.value)}"


_LOOKED_AT = frozenset({ast.Assign, ast.AnnAssign, ast.Return, ast.Call})


def _is_identity_function(fn: FunctionNode) -> bool:
    """A function whose job is to say who is calling (by its name, or a "who is calling" decorator)."""
    return bool(IDENTITY_FUNCTION.match(fn.name)) or any(
        last_name(d.func if isinstance(d, ast.Call) else d) in IDENTITY_DECORATORS for d in fn.decorator_list)


@lru_cache(maxsize=4096)  # the same few names are assigned in every file
def _identity_name(name: str) -> bool:
    return bool(IDENTITY_NAME.match(name))


def _candidate_lines(tree: ast.Module, constants: set[str]) -> list[int]:
    """The sorted lines of the file's assignments of a fixed identity to an identity name, and of its
    returns of a user built with a literal id: the findings outside handlers and identity functions."""
    lines = []
    name_kind = ast.Name
    for node in nodes_of(tree, ast.Assign):
        targets = node.targets
        if len(targets) == 1 and targets[0].__class__ is name_kind:  # (the usual `x = ...`, its name read inline)
            if not _identity_name(targets[0].id):
                continue
        elif not any(n and _identity_name(n) for n in map(_target_name, targets)):
            continue
        if _fixed_identity(node.value, constants):
            lines.append(node.lineno)
    for node in nodes_of(tree, ast.AnnAssign):
        name = _target_name(node.target)
        if node.value is not None and name and _identity_name(name) and _fixed_identity(node.value, constants):
            lines.append(node.lineno)
    for node in nodes_of(tree, ast.Return):
        if node.value.__class__ is ast.Call and _user_object(node.value, constants):
            lines.append(node.lineno)
    lines.sort()
    return lines


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        return str_value(target.slice)
    return None


def _literal_id(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or node.value is None:
            return False
        if isinstance(node.value, int):
            return node.value > 0
        if isinstance(node.value, str):
            # "anonymous"/"guest" name the absence of an identity, not a granted one.
            return bool(node.value.strip()) and not node.value.startswith(("$", "{", "<")) and not re.fullmatch(
                r"anonymous|anon|guest|unknown|nobody|public|none|null|system|-", node.value.strip(), re.I)
    return False


def _literal_constants(tree: ast.Module) -> set[str]:
    counts: dict[str, int] | None = None  # assignments per name, counted when a candidate first needs them
    literal: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if _literal_id(stmt.value) and re.search(r"user|uid|account|owner|admin|demo|default|test", name, re.I):
                if counts is None:
                    counts = _assignment_counts(tree)
                if counts.get(name) == 1:
                    literal.add(name)
    return literal


def _assignment_counts(tree: ast.Module) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in (ast.Assign, ast.AnnAssign, ast.AugAssign):
        for node in nodes_of(tree, kind):
            targets = node.targets if kind is ast.Assign else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    counts[t.id] = counts.get(t.id, 0) + 1
    return counts


def _constant_ref(node: ast.AST, constants: set[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in constants


def _id_argument(node: ast.AST, constants: set[str]) -> bool:
    """An argument that names one user: a positive int, a short identifier-like string, or a constant of one."""
    if _constant_ref(node, constants):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.fullmatch(r"[\w.@+-]{1,64}", node.value))
    return _literal_id(node)


USER_CLASS = re.compile(r"User|Account|Principal|Identity|Member|Caller|Actor", re.I)


def _user_object(value: ast.AST, constants: set[str]) -> bool:
    """``CurrentUser(id=1, email="demo@example.com")``: a user object built with a literal id."""
    if not isinstance(value, ast.Call):
        return False
    name = last_name(value.func)
    if not name[:1].isupper() or not USER_CLASS.search(name):  # (the cheap test first)
        return False
    return any(k.arg in ("id", "user_id", "uid", "pk", "sub") and (_literal_id(k.value) or _constant_ref(
        k.value, constants)) for k in value.keywords)


def _fixed_identity(value: ast.AST, constants: set[str] = frozenset()) -> bool:
    """A literal id, a literal user record, or a lookup by a literal id."""
    if _constant_ref(value, constants):
        return True
    if _literal_id(value):
        return isinstance(value, ast.Constant) and (isinstance(value.value, int) or len(value.value) < 40)
    if isinstance(value, ast.Dict):
        keys = {str_value(k) for k in value.keys if k is not None}
        return any(k in keys for k in ("id", "user_id", "sub", "uid", "username")) and all(
            isinstance(v, ast.Constant) for v in value.values
        )
    if isinstance(value, ast.Call):
        call: ast.AST = value
        while isinstance(call, ast.Call):  # User.query.filter_by(id=1).first()
            if LOOKUP_CALL.match(last_name(call.func)):
                # A string looks up a user only through a user-named call (get_user("admin")); a bare
                # `.get("X-User-Id")` reads a mapping.
                by_name = bool(re.search(r"user|account|member|admin", last_name(call.func), re.I))
                literal_args = [a for a in call.args if _id_argument(a, constants) and (
                    by_name or not isinstance(a, ast.Constant) or not isinstance(a.value, str))] + [
                    k.value for k in call.keywords if k.arg in ("id", "user_id", "pk", "ident", "username", "email")
                    and _id_argument(k.value, constants)
                ]
                if literal_args:
                    return True
            call = call.func.value if isinstance(call.func, ast.Attribute) else None
    return False
