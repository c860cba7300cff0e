"""WB401 debug-print: print / pprint / traceback.print_exc left in application code."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import call_qualname, functions, import_aliases, last_name, main_guard_lines, mentions

DEBUG_CALLS = frozenset({"print", "builtins.print", "pprint", "pprint.pprint", "pprint.pp", "pp",
                         "traceback.print_exc", "traceback.print_exception", "traceback.print_stack",
                         "traceback.print_tb", "traceback.print_last", "icecream.ic", "ic"})
# The last parts of those names: a call names one only if written with one, or through an import alias.
_LAST_PARTS = frozenset(q.rpartition(".")[2] for q in DEBUG_CALLS)
# Decorators of command-line entry points, where printing is the interface.
CLI_DECORATORS = frozenset({"command", "group", "cli", "callback"})


class DebugPrint(Rule):
    """Flags `print()`, `pprint()` and `traceback.print_exc()` in application code.

    ## What it does
    Finds calls of `print`, `pprint`/`pp`, `traceback.print_exc`/`print_exception`/
    `print_stack` and `icecream.ic` outside tests, scripts (`scripts/`, `bin/`, `manage.py`,
    a package's `__main__.py`), `if __name__ == "__main__":` blocks and command-line
    commands (`@click.command`, `@app.cli.command`).

    ## Why is this bad?
    Output goes to stdout with no level, no timestamp and no request context, is lost or
    mixed up in production, and often carries personal data or secrets that nobody
    reviews because it was "just for debugging".

    ## Example
    ```python
    print(f"follow {g.user_id} -> {user_id}")
    ```

    ## Use instead
    ```python
    logger = logging.getLogger(__name__)
    logger.debug("follow %s -> %s", g.user_id, user_id)
    ```
    """

    id = "WB401"
    name = "debug-print"
    category = Category.DEBUG_LOGGING
    severity = Severity.LOW
    confidence = Severity.HIGH
    cwe = 489
    fixed_by = "replace_print_with_logging"

    VALID = (
        Example(
            "import logging\n"
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "logger = logging.getLogger(__name__)\n"
            "@app.route('/api/ping')\n"
            "def ping():\n"
            "    logger.debug('ping')\n"
            "    return {'ok': True}\n"
            "@app.cli.command('seed')\n"
            "def seed():\n"
            "    print('seeded')\n"
            "if __name__ == '__main__':\n"
            "    print('starting')\n"
            "    app.run()\n"
        ),
        Example("print('running the migration')\n", path="scripts/migrate.py"),
    )
    INVALID = (
        Example(
            "import traceback\n"
            "from pprint import pprint\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/events', methods=['POST'])\n"
            "def rsvp():\n"
            "    data = request.get_json()\n"
            "    pprint(data)\n"
            "    try:\n"
            "        print('rsvp', data)\n"
            "    except Exception:\n"
            "        traceback.print_exc()\n"
            "    return {}\n",
            lines=(8, 10, 12),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "@app.get('/items')\n"
            "async def items():\n"
            "    print('items requested')\n"
            "    return []\n",
            lines=(5,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "print", "pp(", "traceback", "ic("):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file or ctx.in_script_file or ctx.file.endswith("__main__.py"):
            return
        aliases = import_aliases(ctx.tree)
        skip = main_guard_lines(ctx.tree)
        for fn in functions(ctx.tree):
            if any(last_name(d.func if isinstance(d, ast.Call) else d) in CLI_DECORATORS for d in fn.decorator_list):
                skip.update(range(fn.lineno, (fn.end_lineno or fn.lineno) + 1))
        # (the calls that can name one: by their written name, or through an import alias)
        for node in ctx.calls_named(_LAST_PARTS | aliases.keys()):
            if node.lineno not in skip:
                qual = call_qualname(node, aliases)
                if qual in DEBUG_CALLS:
                    yield self.finding(ctx, node.lineno, f"{qual}() in application code")
