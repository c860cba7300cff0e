"""WB105 client-supplied-identity: the caller's identity (or ownership) taken from request data."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._request_data import RequestData
from ._syntax import functions, last_name, mentions, own_nodes, str_value

# Fields of a stored record that say who owns it.
OWNER_FIELD = re.compile(r"^(owner|author|creator|sender|uploader|user|account)(_?id)?$|^created_by(_id)?$", re.I)
# Places that hold "who is calling" for the rest of the request.
CALLER_TARGET = re.compile(r"^(g|flask\.g|request|session|ctx|context)\.(current_)?(user|user_?id|uid|identity|"
                           r"account(_id)?|principal)$|^session\[.(user|user_?id|uid|account_id).\]$", re.I)
# Conversions that keep a value what the client sent.
_PASS_THROUGH = frozenset({"int", "str", "UUID", "strip", "lower", "get", "getlist", "get_json", "json"})


class ClientSuppliedIdentity(Rule):
    """Flags an identity or ownership decision made with a value the client sent.

    ## What it does
    Finds a record's owner field (`row["owner_id"]`, `post.user_id`, `doc.author`)
    compared with a value read straight from the request (query string, JSON body, form,
    headers), and request values stored as the caller's identity (`g.user_id =
    request.headers["X-User-Id"]`, `session["user_id"] = request.json["user_id"]`). The
    finding is on the line that reads the identity from the request. Route path parameters
    are not counted (they name the resource, not the caller).

    ## Why is this bad?
    The client says who it is: changing `?user_id=1` to `?user_id=2` acts as user 2.

    ## Example
    ```python
    owner_id = int(request.args["user_id"])
    if note["owner_id"] != owner_id:
        abort(403)
    ```

    ## Use instead
    ```python
    if note["owner_id"] != current_user.id:  # the identity proven by the login
        abort(403)
    ```
    """

    id = "WB105"
    name = "client-supplied-identity"
    category = Category.AUTH_BYPASS
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 639
    fixed_by = "remove_identity_bypass"

    VALID = (
        Example(
            "from flask import Flask, request, g, session, abort\n"
            "app = Flask(__name__)\n"
            "@app.route('/notes/<int:note_id>', methods=['DELETE'])\n"
            "def delete_note(note_id):\n"
            "    note = load(note_id)\n"
            "    if note['owner_id'] != g.user_id:\n"
            "        abort(403)\n"
            "    return {}\n"
            "@app.route('/login', methods=['POST'])\n"
            "def login():\n"
            "    user = find_user(request.json['username'])\n"
            "    session['user_id'] = user.id\n"
            "    return {}\n"
        ),
        Example(
            "from fastapi import FastAPI, Depends\n"
            "app = FastAPI()\n"
            "@app.get('/users/{user_id}/posts/{post_id}')\n"
            "def post(user_id: int, post_id: int, me=Depends(current_user)):\n"
            "    p = load(post_id)\n"
            "    return p if p.user_id == user_id else None\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, request, g, abort\n"
            "app = Flask(__name__)\n"
            "@app.route('/notes/<int:note_id>', methods=['DELETE'])\n"
            "def delete_note(note_id):\n"
            "    owner_id = int(request.args['user_id'])\n"
            "    note = load(note_id)\n"
            "    if note['owner_id'] != owner_id:\n"
            "        abort(403)\n"
            "    return {}\n"
            "@app.before_request\n"
            "def identify():\n"
            "    g.user_id = request.headers.get('X-User-Id')\n",
            lines=(5, 12),
        ),
        Example(
            "from fastapi import FastAPI, Request\n"
            "app = FastAPI()\n"
            "@app.put('/posts/{post_id}')\n"
            "async def edit(post_id: int, request: Request):\n"
            "    body = await request.json()\n"
            "    post = load(post_id)\n"
            "    if post.author_id != body['author_id']:\n"
            "        return {'error': 'forbidden'}\n",
            lines=(7,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "request", "req.", "req[", "Request"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        seen: set[int] = set()
        for fn in functions(ctx.tree):
            data = RequestData.cached(ctx, fn, handler=False)  # explicit request reads only
            if not data.reads_request():
                continue
            # (the only kinds of node the two passes below look at, found once)
            nodes = [node for node in own_nodes(fn) if node.__class__ in _DECIDING]
            direct = _direct_names(nodes, data)
            for line, message in _decisions(nodes, data, direct):
                if line not in seen:
                    seen.add(line)
                    yield self.finding(ctx, line, message)


def _direct(expr: ast.AST, data: RequestData, direct: dict[str, int]) -> bool:
    """``expr`` is what the client sent, at most converted (``int(request.args["id"])``)."""
    if isinstance(expr, ast.Await):
        return _direct(expr.value, data, direct)
    if data.is_source(expr):
        return True
    if isinstance(expr, ast.Name):
        return expr.id in direct
    if isinstance(expr, ast.Subscript):
        return _direct(expr.value, data, direct)
    if isinstance(expr, ast.Attribute):
        return _direct(expr.value, data, direct)
    if isinstance(expr, ast.BoolOp):
        return any(_direct(v, data, direct) for v in expr.values)
    if isinstance(expr, ast.Call) and last_name(expr.func) in _PASS_THROUGH:
        if isinstance(expr.func, ast.Attribute) and _direct(expr.func.value, data, direct):
            return True
        return any(_direct(a, data, direct) for a in expr.args[:1])
    return False


_DECIDING = frozenset({ast.Compare, ast.Assign})


def _direct_names(nodes: list[ast.AST], data: RequestData) -> dict[str, int | None]:
    """Names holding request values as sent -> the line that read one field into them
    (None for a whole body or form, whose fields are read later). ``nodes``: the function's own
    comparisons and assignments."""
    direct: dict[str, int | None] = {}
    for _ in range(2):
        for node in nodes:
            if node.__class__ is ast.Assign and _direct(node.value, data, direct):
                new = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id not in direct]
                if not new:
                    continue  # (the second pass: already known)
                field = any(isinstance(s, ast.Subscript) or (isinstance(s, ast.Call) and last_name(s.func) in (
                    "get", "getlist") and s.args) for s in ast.walk(node.value))
                for name in new:
                    direct.setdefault(name, node.lineno if field else None)
    return direct


def _origin_line(expr: ast.AST, direct: dict[str, int | None]) -> int:
    if isinstance(expr, ast.Call) and expr.args:  # int(owner_id)
        expr = expr.args[0]
    if isinstance(expr, ast.Name) and direct.get(expr.id):
        return direct[expr.id]
    return expr.lineno


def _owner_field(expr: ast.AST) -> str | None:
    if isinstance(expr, ast.Attribute) and OWNER_FIELD.match(expr.attr) and not isinstance(expr.value, ast.Call):
        return expr.attr
    if isinstance(expr, ast.Subscript) and (key := str_value(expr.slice)) and OWNER_FIELD.match(key):
        return key
    return None


def _decisions(nodes: list[ast.AST], data: RequestData, direct: dict[str, int]) -> Iterable[tuple[int, str]]:
    for node in nodes:
        if isinstance(node, ast.Compare) and len(node.comparators) == 1 and isinstance(
                node.ops[0], (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
            left, right = node.left, node.comparators[0]
            for owner, other in ((left, right), (right, left)):
                field = _owner_field(owner)
                if field and not _direct(owner, data, direct) and _direct(other, data, direct):
                    yield _origin_line(other, direct), f"ownership ({field}) checked against an identity the client sent"
        elif isinstance(node, ast.Assign) and _direct(node.value, data, direct):
            for t in node.targets:
                if CALLER_TARGET.match(ast.unparse(t)):
                    yield node.lineno, f"caller identity {ast.unparse(t)} taken from the request"
