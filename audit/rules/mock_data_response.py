"""WB410 mock-data-response: a route returning hard-coded fake records, or falling back to them."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import FunctionNode, handler_functions, last_name, nodes_of, own_nodes, str_value

MOCK_NAME = re.compile(r"(^|_)(mock|mocked|fake|sample|dummy|stub|stubbed|demo|placeholder|hardcoded|canned|"
                       r"fixture|test_data|seed)(_|$)|^(MOCK|FAKE|SAMPLE|DUMMY|STUB)", re.I)
# Keys that make a dict look like a record rather than a status message.
RECORD_KEYS = re.compile(r"^(id|uuid|pk|_id|\w+_id|name|username|email|title|content|body|text|kind|type|author|"
                         r"user|display_name|first_name|last_name|price|amount|created_at|url|image_url|city|"
                         r"description|status_text|slug|avatar|likes|count|date|starts_at)$", re.I)
# Calls that wrap a payload into a response.
WRAPPERS = frozenset({"jsonify", "make_response", "JSONResponse", "ORJSONResponse", "UJSONResponse", "Response",
                      "list", "tuple", "dict", "json_response", "ok", "success"})
MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "update", "add", "setdefault"})


class MockDataResponse(Rule):
    """Flags a route that returns hard-coded fake records, or falls back to them.

    ## What it does
    In route handlers, finds `return` statements whose payload (inside `jsonify()`,
    `JSONResponse()`, a `(body, status)` tuple or an envelope dict) is a literal list of
    record dicts, a literal record (`[{"id": 1, "name": "Alice", ...}]`), made-up figures
    (`{"users": 7, "notes": 42}`), or a constant
    holding one: named `MOCK_`/`FAKE_`/`SAMPLE_`/`DUMMY_`..., or a module-level literal of
    records that the module never changes. Also flags a fallback to such data: assigning
    it in an `except` block or an empty-result branch, or `rows or MOCK_ROWS`. The finding
    is on the line that returns or falls back to the data.

    ## Why is this bad?
    Clients cannot tell invented data from real data: a broken database looks healthy,
    and fake records (sometimes real people's names) reach users.

    ## Example
    ```python
    try:
        events = Event.query.all()
    except Exception:
        return jsonify(MOCK_EVENTS)
    ```

    ## Use instead
    ```python
    try:
        events = Event.query.all()
    except SQLAlchemyError:
        logger.exception("loading events failed")
        return jsonify(success=False, error={"code": "unavailable", "message": "try again later"}), 503
    ```
    """

    id = "WB410"
    name = "mock-data-response"
    category = Category.MOCK_DATA
    severity = Severity.MEDIUM
    confidence = Severity.MEDIUM
    cwe = 1188
    fixed_by = "remove_mock_data"

    VALID = (
        Example(
            "from flask import Flask, jsonify\n"
            "app = Flask(__name__)\n"
            "USERS = []\n"
            "\n"
            "@app.route('/api/users', methods=['POST'])\n"
            "def add_user():\n"
            "    USERS.append({'id': len(USERS) + 1, 'name': 'x'})\n"
            "    return jsonify(USERS), 201\n"
            "\n"
            "@app.route('/api/health')\n"
            "def health():\n"
            "    return jsonify({'status': 'ok', 'version': '1.2'})\n"
            "\n"
            "@app.route('/api/items')\n"
            "def items():\n"
            "    return jsonify([])\n"
            "\n"
            "@app.route('/api/feed')\n"
            "def feed():\n"
            "    return jsonify(items=load(), page=1, per_page=20)\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/users/{user_id}')\n"
            "def user(user_id: int):\n"
            "    row = db.get(user_id)\n"
            "    return {'id': row.id, 'name': row.name}\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, jsonify\n"
            "app = Flask(__name__)\n"
            "MOCK_EVENTS = [{'id': 1, 'title': 'Milonga', 'city': 'Berlin'}]\n"
            "FEATURED = [{'id': 9001, 'author': {'id': 2, 'username': 'lucia'}, 'likes': 214}]\n"
            "\n"
            "@app.route('/api/events')\n"
            "def list_events():\n"
            "    try:\n"
            "        events = load_events()\n"
            "    except Exception:\n"
            "        return jsonify(MOCK_EVENTS)\n"
            "    return jsonify(events)\n"
            "\n"
            "@app.route('/api/featured')\n"
            "def featured():\n"
            "    return jsonify(FEATURED)\n"
            "\n"
            "@app.route('/api/suggestions')\n"
            "def suggestions():\n"
            "    return jsonify([{'type': 'group', 'id': 1, 'name': 'Beginners'},\n"
            "                    {'type': 'user', 'id': 2, 'name': 'lucia'}])\n"
            "\n"
            "@app.route('/api/sales')\n"
            "def sales():\n"
            "    return jsonify([{'day': '2024-03-01', 'orders': 12}, {'day': '2024-03-02', 'orders': 9}])\n"
            "\n"
            "@app.route('/api/notes')\n"
            "def notes():\n"
            "    rows = load_notes()\n"
            "    if not rows:\n"
            "        return jsonify(notes=MOCK_EVENTS)\n"
            "    return jsonify(notes=rows)\n",
            lines=(11, 16, 20, 25, 31),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "SAMPLE_ORDERS = [{'id': 1, 'amount': 10}]\n"
            "\n"
            "@app.get('/orders')\n"
            "async def orders():\n"
            "    rows = await fetch_orders()\n"
            "    if not rows:\n"
            "        rows = SAMPLE_ORDERS\n"
            "    return rows or SAMPLE_ORDERS\n"
            "\n"
            "@app.get('/me')\n"
            "async def me():\n"
            "    return {'id': 1, 'username': 'demo', 'email': 'demo@example.com'}\n"
            "\n"
            "@app.get('/stats')\n"
            "async def stats():\n"
            "    return {'projects': 1200, 'tasks': 48000, 'active_users': 310}\n",
            lines=(9, 10, 14, 18),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if ctx.in_test_file:
            return
        constants = _mock_constants(ctx.tree)
        for fn in handler_functions(ctx):
            for line, message in _mock_uses(fn, constants):
                yield self.finding(ctx, line, message)


def _mock_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names holding fake records -> why they count as fake."""
    mutated: set[str] | None = None  # found when a constant first needs it (most modules have none)
    found: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                if not isinstance(t, ast.Name):
                    continue
                if MOCK_NAME.search(t.id) and isinstance(stmt.value, (ast.List, ast.Tuple, ast.Dict)) and _has_literal(
                        stmt.value):
                    found[t.id] = f"the mock constant {t.id}"
                elif _records(stmt.value) or _made_up_figures(stmt.value):
                    if mutated is None:
                        mutated = _mutated_names(tree)
                    if t.id not in mutated:
                        found[t.id] = f"the hard-coded data in {t.id}"
    return found


def _mutated_names(tree: ast.Module) -> set[str]:
    """Names changed in place somewhere in the module (``ITEMS.append(x)``, ``ITEMS[0] = x``, ``global ITEMS``)."""
    mutated = set()
    for node in nodes_of(tree, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            if isinstance(node.func.value, ast.Name):
                mutated.add(node.func.value.id)
    for kind in (ast.Assign, ast.AugAssign, ast.Delete):
        for node in nodes_of(tree, kind):
            targets = node.targets if kind is not ast.AugAssign else [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    mutated.add(t.value.id)
    for node in nodes_of(tree, ast.Global):
        mutated.update(node.names)
    return mutated


def _mock_uses(fn: FunctionNode, constants: dict[str, str]) -> Iterable[tuple[int, str]]:
    fallback_lines: set[int] | None = None  # found when an assignment first needs them
    seen: set[int] = set()
    for node in own_nodes(fn):
        kind = node.__class__
        if kind is ast.Return:
            if node.value is not None:
                why = _mock_payload(node.value, constants)
                if why and node.lineno not in seen:
                    seen.add(node.lineno)
                    yield node.lineno, f"route returns {why}"
        elif kind is ast.Assign:
            why = _mock_payload(node.value, constants)
            if why and node.lineno not in seen:
                if fallback_lines is None:
                    fallback_lines = _fallback_lines(fn)
                if node.lineno in fallback_lines:
                    seen.add(node.lineno)
                    yield node.lineno, f"route falls back to {why}"
        elif kind is ast.BoolOp and isinstance(node.op, ast.Or):
            for value in node.values[1:]:
                why = _mock_payload(value, constants)
                if why and node.lineno not in seen:
                    seen.add(node.lineno)
                    yield node.lineno, f"route falls back to {why}"


def _fallback_lines(fn: FunctionNode) -> set[int]:
    """Lines inside ``except`` blocks and ``if not rows:`` / ``if rows is None`` branches."""
    lines: set[int] = set()
    for node in own_nodes(fn):
        body = []
        kind = node.__class__
        if kind is ast.ExceptHandler:
            body = node.body
        elif kind is ast.If and (
                isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
                or isinstance(node.test, ast.Compare) and any(isinstance(o, (ast.Is, ast.Eq)) for o in node.test.ops)):
            body = node.body
        for stmt in body:
            lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _mock_payload(value: ast.AST, constants: dict[str, str]) -> str | None:
    """Why ``value`` (a returned or assigned expression) is fake data, or None."""
    if isinstance(value, ast.Tuple) and value.elts:  # (body, status)
        return _mock_payload(value.elts[0], constants)
    if isinstance(value, ast.Call) and last_name(value.func) in WRAPPERS:
        if last_name(value.func) in ("jsonify", "dict", "json_response") and value.keywords and not value.args:
            # jsonify(notes=SAMPLE_NOTES) / jsonify(projects=1200, tasks=48000): keyword envelopes
            envelope = ast.Dict(keys=[ast.Constant(k.arg) for k in value.keywords if k.arg],
                                values=[k.value for k in value.keywords if k.arg])
            return _mock_payload(envelope, constants)
        parts = list(value.args[:1]) + [k.value for k in value.keywords if k.arg in ("content", "body", "data")]
        for part in parts:
            why = _mock_payload(part, constants)
            if why:
                return why
        return None
    if isinstance(value, ast.Name) and value.id in constants:
        return constants[value.id]
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in constants:
        return constants[value.value.id]  # MOCK_ITEMS[:10]
    if _records(value):
        return "hard-coded records"
    if _made_up_figures(value):
        return "hard-coded figures"
    if isinstance(value, ast.Dict):  # an envelope: {"items": MOCK_ITEMS, "total": 2}
        for v in value.values:
            if isinstance(v, (ast.Name, ast.Subscript)):
                why = _mock_payload(v, constants)
                if why:
                    return why
    return None


def _records(value: ast.AST) -> bool:
    """A literal record (dict with an id-like key and other fields) or a list of literal dicts."""
    if isinstance(value, (ast.List, ast.Tuple)):
        dicts = [e for e in value.elts if isinstance(e, ast.Dict)]
        if not dicts or len(dicts) != len(value.elts):
            return False
        if all(_record_dict(d, strict=False) for d in dicts):
            return True
        # A table written out: two or more rows with the same keys, every value a literal.
        shapes = {tuple(str_value(k) for k in d.keys) for d in dicts}
        return len(dicts) >= 2 and len(shapes) == 1 and len(dicts[0].keys) >= 2 and all(
            _literal(v) for d in dicts for v in d.values)
    if isinstance(value, ast.Dict):
        return _record_dict(value, strict=True)
    return False


def _record_dict(d: ast.Dict, *, strict: bool) -> bool:
    keys = [str_value(k) for k in d.keys]
    if None in keys or len(keys) < 2:
        return False
    record_keys = [k for k in keys if RECORD_KEYS.match(k)]
    literal = sum(1 for v in d.values if _literal(v))
    if strict:  # a lone dict must look like a person/thing with an identity, all written out
        has_id = any(re.match(r"^(id|uuid|pk|_id|user_?id)$", k) for k in keys)
        return has_id and len(record_keys) >= 2 and literal == len(keys)
    return len(record_keys) >= 1 and literal >= len(keys) - 1 and literal >= 2


def _made_up_figures(value: ast.AST) -> bool:
    """A dict of two or more numbers written out (``{"users": 7, "notes": 42}``): statistics nobody computed.
    Zeros, ones and small paging values (page, limit, per_page...) are not figures."""
    if not isinstance(value, ast.Dict) or len(value.keys) < 2:
        return False
    keys = [str_value(k) for k in value.keys]
    if None in keys or any(re.search(r"page|limit|offset|size|version|count_per|max|min|ttl|timeout|retry", k, re.I)
                           for k in keys):
        return False
    numbers = [v.value for v in value.values if isinstance(v, ast.Constant) and isinstance(v.value, (int, float))
               and not isinstance(v.value, bool)]
    return len(numbers) == len(keys) and any(abs(n) > 1 for n in numbers)


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal(k) and _literal(v) for k, v in zip(node.keys, node.values))
    return False


def _has_literal(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) for n in ast.walk(node))
