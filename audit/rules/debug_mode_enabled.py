"""WB310 debug-mode-enabled: the framework's debug mode switched on in code."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import is_true, last_name, mentions, nodes_of, str_value

# Calls whose debug=True turns on the interactive debugger or tracebacks in responses.
DEBUG_CALLS = frozenset({"run", "Flask", "FastAPI", "Starlette", "Quart", "Sanic", "run_simple", "create_app"})
_CALLS = DEBUG_CALLS | {"update"}  # (app.config.update(DEBUG=True))
# Config classes meant for local development or tests, where DEBUG = True is their purpose.
DEV_CLASS = re.compile(r"dev|local|test|debug", re.I)


class DebugModeEnabled(Rule):
    """Flags debug mode switched on in code.

    ## What it does
    Finds `debug=True` passed to `app.run()`, `socketio.run()`, `run_simple()`, `Flask()`
    / `FastAPI()` / `Starlette()`, `app.debug = True`, `app.config["DEBUG"] = True`,
    `config.update(DEBUG=True)`, and `DEBUG = True` at module level or in a config class
    that is not a development/test one. bandit's B201 (`flask_debug_true`) maps onto this
    category too.

    ## Why is this bad?
    Werkzeug's debugger runs arbitrary Python for whoever reaches the error page; debug
    responses leak tracebacks, settings and source.

    ## Example
    ```python
    socketio.run(app, host="0.0.0.0", debug=True)
    ```

    ## Use instead
    ```python
    socketio.run(app, host="0.0.0.0", debug=os.getenv("FLASK_DEBUG") == "1")
    ```
    """

    id = "WB310"
    name = "debug-mode-enabled"
    category = Category.INSECURE_CONFIG
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 489
    fixed_by = "add_security_setup"

    VALID = (
        Example(
            "import os\n"
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "if __name__ == '__main__':\n"
            "    app.run(debug=os.getenv('FLASK_DEBUG') == '1')\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI(debug=False)\n"
            "class DevelopmentConfig:\n"
            "    DEBUG = True\n",
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask\n"
            "from flask_socketio import SocketIO\n"
            "app = Flask(__name__)\n"
            "app.config['DEBUG'] = True\n"
            "socketio = SocketIO(app)\n"
            "if __name__ == '__main__':\n"
            "    socketio.run(app, host='0.0.0.0',\n"
            "                 debug=True)\n",
            lines=(4, 8),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI(debug=True)\n"
            "class Config:\n"
            "    DEBUG = True\n",
            lines=(2, 4),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "debug", "DEBUG"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        for node in nodes_of(ctx.tree, ast.Call, ast.Assign, ast.ClassDef, ast.Module):
            kind = node.__class__
            if kind is ast.Call:
                if not node.keywords or last_name(node.func) not in _CALLS:  # (keywords first: most calls have none)
                    continue
                for kw in node.keywords:
                    if kw.arg in ("debug", "DEBUG", "use_debugger") and is_true(kw.value):
                        yield self.finding(ctx, kw.value.lineno, f"{kw.arg}=True in {last_name(node.func)}()")
            elif kind is ast.Assign and is_true(node.value):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and t.attr == "debug":
                        yield self.finding(ctx, node.lineno, "debug mode switched on")
                    elif isinstance(t, ast.Subscript) and str_value(t.slice) == "DEBUG":
                        yield self.finding(ctx, node.lineno, "DEBUG setting switched on")
            elif isinstance(node, ast.ClassDef) and not DEV_CLASS.search(node.name):
                yield from self._debug_setting(ctx, node.body)
            elif isinstance(node, ast.Module):
                yield from self._debug_setting(ctx, node.body)

    def _debug_setting(self, ctx: RuleContext, body: list[ast.stmt]) -> Iterable[Finding]:
        for stmt in body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and is_true(stmt.value):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id in ("DEBUG", "debug") for t in targets):
                    yield self.finding(ctx, stmt.lineno, "DEBUG = True in the settings")
