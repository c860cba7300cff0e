"""WB220 sql-built-from-request: SQL text built from request data and executed."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._request_data import RequestData
from ._syntax import body_walk, functions, is_handler, keyword, last_name, mentions, nodes_of, own_nodes

# Calls that run (or wrap for running) SQL text given as their first argument.
SQL_SINKS = frozenset({"execute", "executemany", "executescript", "exec_driver_sql", "raw", "text",
                       "read_sql", "read_sql_query", "mogrify", "query_raw", "fetch", "fetchrow", "fetchval"})


class SqlBuiltFromRequest(Rule):
    """Flags SQL whose text carries request data (f-string, `+`, `%`, `.format()`, or the value itself).

    ## What it does
    Follows request data inside a function (and into functions that route handlers call
    with it) and flags SQL text that carries it: the first argument of `execute()` /
    `executemany()` / `text()` / `.raw()` / `read_sql()` / `exec_driver_sql()`, and
    SQL-looking strings built by f-string, `+`, `%` or `.format()` and handed to another
    layer (`storage.rows(sql)`). The finding is on the line where the text is built (the
    f-string or concatenation, or the assignment of the variable holding it), as bandit
    reports it. Bound parameters (`execute(sql, (value,))`, `text("... :name")` with a
    parameter dict) and query objects (`select(...).where(col == value)`) are fine, and so
    are column names taken from a validated schema's fields. bandit's B608
    (`hardcoded_sql_expressions`) flags every SQL-looking formatted string whatever its
    source; the adapter leaves it `other` and this rule decides the category.

    ## Why is this bad?
    The client writes the query: `' OR 1=1 --` reads every row, `; DROP TABLE` destroys
    them.

    ## Example
    ```python
    q = request.args["q"]
    rows = db.session.execute(text(f"SELECT * FROM posts WHERE title LIKE '%{q}%'"))
    ```

    ## Use instead
    ```python
    rows = db.session.execute(text("SELECT * FROM posts WHERE title LIKE :q"), {"q": f"%{q}%"})
    ```
    """

    id = "WB220"
    name = "sql-built-from-request"
    category = Category.INJECTION
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 89
    fixed_by = None

    VALID = (
        Example(
            "from flask import Flask, request\n"
            "from sqlalchemy import text\n"
            "from .db import db\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/search')\n"
            "def search():\n"
            "    q = request.args.get('q', '')\n"
            "    rows = db.session.execute(text('SELECT * FROM posts WHERE title LIKE :q'), {'q': f'%{q}%'})\n"
            "    return {'rows': [dict(r) for r in rows]}\n"
        ),
        Example(
            "import sqlite3\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/users/{user_id}')\n"
            "def user(user_id: int):\n"
            "    cur = sqlite3.connect('app.db').cursor()\n"
            "    cur.execute('SELECT * FROM users WHERE id = ?', (user_id,))\n"
            "    return cur.fetchone()\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, request\n"
            "from sqlalchemy import text\n"
            "from .db import db\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/search')\n"
            "def search():\n"
            "    q = request.args.get('q', '')\n"
            "    sql = \"SELECT * FROM posts WHERE title LIKE '%\" + q + \"%'\"\n"
            "    rows = db.session.execute(text(sql))\n"
            "    order = request.args['order']\n"
            "    more = db.engine.execute(\n"
            "        'SELECT * FROM posts ORDER BY %s' % order)\n"
            "    return {'rows': len(list(rows)) + len(list(more))}\n",
            lines=(9, 13),
        ),
        Example(
            "import sqlite3\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/users')\n"
            "def users(name: str):\n"
            "    cur = sqlite3.connect('app.db').cursor()\n"
            "    cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n"
            "    return cur.fetchall()\n",
            lines=(8,),
        ),
        Example(
            "from flask import request\n"
            "from flask.views import MethodView\n"
            "from . import storage\n"
            "class SalesReport(MethodView):\n"
            "    def get(self):\n"
            "        region = request.args['region']\n"
            "        sql = f\"SELECT region, SUM(qty) FROM orders WHERE region = '{region}'\"\n"
            "        return {'rows': storage.rows(sql)}\n",
            lines=(7,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "execute", "text(", ".raw(", "read_sql", "select", "insert", "update", "delete", "fetch", "mogrify", "query", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        # The lines of the file's sinks and SQL words (see _may_hold_sql): a function without one
        # in its lines needs no closer look.
        lines = sorted([node.lineno for node in ctx.calls_named(SQL_SINKS)] + [
            node.lineno for node in nodes_of(ctx.tree, ast.Constant)
            if isinstance(node.value, str) and _SQL_WORD.search(node.value)])
        if not lines:
            return
        seen: set[int] = set()
        for fn in functions(ctx.tree):
            end = fn.end_lineno
            if end is not None and bisect_right(lines, end) == bisect_left(lines, fn.lineno):
                continue
            if not _may_hold_sql(fn):
                continue  # (most functions: no request-data analysis needed)
            data = RequestData.of(ctx, fn, follow_returning=True)
            if not data.tainted and not data.reads_request():
                continue
            built = _built_strings(fn, data)
            # Taint from this function's own request reads (not parameters fed by a caller): a fed
            # parameter used as SQL text was built by the caller, which is flagged where it builds it.
            local = RequestData.cached(ctx, fn, handler=is_handler(ctx, fn),
                                       follow_returning=True) if data.fed else data
            for node in own_nodes(fn):
                if not isinstance(node, ast.Call) or last_name(node.func) not in SQL_SINKS:
                    continue
                sql = node.args[0] if node.args else (keyword(node, "sql") or keyword(node, "statement"))
                if last_name(node.func) == "fetch" and not isinstance(node.func, ast.Attribute):
                    continue
                if sql is None or not _sql_text_tainted(sql, local, built):
                    continue
                line = _built_line(sql, built)
                if line not in seen:
                    seen.add(line)
                    yield self.finding(ctx, line, "SQL text built from request data")
            # SQL text built here and handed to another layer (`storage.rows(sql)`) is flagged where it is built.
            for node in own_nodes(fn):
                if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Call)) and _string_built(node, data) and \
                        _looks_like_sql(node) and node.lineno not in seen:
                    seen.add(node.lineno)
                    yield self.finding(ctx, node.lineno, "SQL text built from request data")


_SQL = re.compile(r"\b(select\b.+\bfrom|insert\s+into|update\b.+\bset|delete\s+from|replace\s+into)\b",
                  re.I | re.S)


# A word that SQL text must contain for _SQL to match (no word of it can span two literals: they are joined by spaces).
_SQL_WORD = re.compile(r"select|insert|update|delete|replace", re.I)


def _may_hold_sql(fn) -> bool:
    """Whether ``fn`` calls a SQL sink or has a literal that SQL text needs: without either, the
    rule cannot find anything in it."""
    if any(node.__class__ is ast.Call and last_name(node.func) in SQL_SINKS for node in own_nodes(fn)):
        return True
    return any(node.__class__ is ast.Constant and isinstance(node.value, str) and _SQL_WORD.search(node.value)
               for node in body_walk(fn))


def _looks_like_sql(node: ast.AST) -> bool:
    text = " ".join(s.value for s in ast.walk(node) if isinstance(s, ast.Constant) and isinstance(s.value, str))
    return bool(_SQL.search(text))


def _string_built(expr: ast.AST, data: RequestData) -> bool:
    """An f-string, ``+``/``%`` concatenation or ``.format()`` that carries request data."""
    if isinstance(expr, ast.JoinedStr):
        return data.is_tainted(expr)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mod)):
        return data.is_tainted(expr)
    if isinstance(expr, ast.Call) and last_name(expr.func) == "format" and isinstance(expr.func, ast.Attribute):
        return data.is_tainted(expr)
    if isinstance(expr, ast.Call) and last_name(expr.func) == "join":
        return any(data.is_tainted(a) for a in expr.args)
    return False


def _built_strings(fn, data: RequestData) -> dict[str, int]:
    """Names assigned SQL text built from request data (``sql = f"... {q}"``, ``sql += " AND x = " + v``),
    with the line where the request data went in."""
    names: dict[str, int] = {}
    for _ in range(2):
        for node in body_walk(fn):
            if isinstance(node, ast.Assign) and (_string_built(node.value, data) or (
                    isinstance(node.value, ast.Name) and node.value.id in names)):
                line = names.get(node.value.id, node.lineno) if isinstance(node.value, ast.Name) else _expr_line(
                    node.value)
                names.update({t.id: line for t in node.targets if isinstance(t, ast.Name)})
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and data.is_tainted(node.value):
                names[node.target.id] = node.lineno
    return names


def _expr_line(expr: ast.AST) -> int:
    """Where a built string starts: the f-string / concatenation itself, not the call around it."""
    return expr.lineno


def _built_line(sql: ast.AST, built: dict[str, int]) -> int:
    """The line that builds the SQL text: inside ``text(...)``, or the assignment of a name holding it."""
    if isinstance(sql, ast.Call) and last_name(sql.func) in ("text", "literal_column", "TextClause") and sql.args:
        return _built_line(sql.args[0], built)
    if isinstance(sql, ast.Name) and sql.id in built:
        return built[sql.id]
    return sql.lineno


def _sql_text_tainted(sql: ast.AST, data: RequestData, built: dict[str, int]) -> bool:
    """SQL *text* carrying request data: built by formatting, a name holding such text, raw request data,
    or ``text(...)`` of one. Query objects (``select(...).where(col == value)``) bind their values."""
    if isinstance(sql, ast.Call) and last_name(sql.func) in ("text", "literal_column", "TextClause") and sql.args:
        return _sql_text_tainted(sql.args[0], data, built)
    if isinstance(sql, ast.Name):
        return sql.id in built or (sql.id in data.tainted and not _assigned_query_object(sql.id, data))
    if _string_built(sql, data):
        return True
    return data.is_source(sql) or (isinstance(sql, (ast.Subscript, ast.Attribute)) and data.is_tainted(sql))


def _assigned_query_object(name: str, data: RequestData) -> bool:
    """Whether ``name`` is assigned a call result (a query object such as ``select(...)``) rather than text."""
    for node in body_walk(data.fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if isinstance(node.value, ast.Call) and last_name(node.value.func) not in ("get", "format", "join", "strip"):
                return True
    return False
