"""WB222 eval-of-request-data: request data evaluated as code or unpickled."""

from __future__ import annotations

import ast
from bisect import bisect_left, bisect_right
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._request_data import RequestData
from ._syntax import (call_qualname, functions, import_aliases, is_handler, keyword, last_name, may_name_one_of,
                      mentions, own_nodes)

CODE_FUNCTIONS = frozenset({"eval", "exec", "compile", "builtins.eval", "builtins.exec"})
DESERIALISERS = frozenset({"pickle.loads", "pickle.load", "cPickle.loads", "dill.loads", "marshal.loads",
                           "shelve.open", "jsonpickle.decode", "yaml.unsafe_load", "yaml.load_all", "yaml.full_load",
                           "pandas.read_pickle", "joblib.load", "torch.load"})

# The last parts of the names above: a call named otherwise cannot be one of them, unless its
# name was imported under another (``from os import system as run``).
_LAST_PARTS = frozenset(q.rpartition(".")[2] for q in (*CODE_FUNCTIONS, *DESERIALISERS, "yaml.load"))


def _is_sink(call: ast.Call, aliases: dict[str, str]) -> bool:
    """Whether ``call`` evaluates or deserialises its first argument."""
    if not call.args or not may_name_one_of(call.func, _LAST_PARTS, aliases):
        return False
    qual = call_qualname(call, aliases)
    unsafe_yaml = qual == "yaml.load" and "Safe" not in ast.unparse(
        keyword(call, "Loader") or (call.args[1] if len(call.args) > 1 else ast.Constant(None)))
    return qual in CODE_FUNCTIONS or qual in DESERIALISERS or unsafe_yaml


class EvalOfRequestData(Rule):
    """Flags request data passed to `eval`/`exec`/`compile` or to an unsafe deserialiser.

    ## What it does
    Follows request data inside a function and flags `eval()`, `exec()`, `compile()`,
    `pickle.loads()`, `marshal.loads()`, `dill`/`jsonpickle`/`joblib` loaders and
    `yaml.load()` without a safe loader when their input carries it. bandit's B307 (eval),
    B102 (exec), B301 (pickle), B302 (marshal) and B506 (yaml.load) map onto the same
    category for the cases without request data.

    ## Why is this bad?
    The client runs arbitrary Python on the server.

    ## Example
    ```python
    result = eval(request.args["expr"])
    ```

    ## Use instead
    ```python
    result = ast.literal_eval(request.args["expr"])  # or a real parser for the expected input
    ```
    """

    id = "WB222"
    name = "eval-of-request-data"
    category = Category.INJECTION
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 94
    fixed_by = None

    VALID = (
        Example(
            "import ast, json\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/calc')\n"
            "def calc():\n"
            "    value = ast.literal_eval(request.args['expr'])\n"
            "    return json.loads(request.data)\n"
        ),
        Example(
            "import yaml\n"
            "from fastapi import FastAPI, Request\n"
            "app = FastAPI()\n"
            "\n"
            "@app.post('/config')\n"
            "async def config(request: Request):\n"
            "    return yaml.safe_load(await request.body())\n"
        ),
    )
    INVALID = (
        Example(
            "import pickle\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/calc', methods=['POST'])\n"
            "def calc():\n"
            "    expr = request.json['expr']\n"
            "    state = pickle.loads(request.get_data())\n"
            "    return {'result': eval(expr), 'state': state}\n",
            lines=(8, 9),
        ),
        Example(
            "import yaml\n"
            "from fastapi import FastAPI, Request\n"
            "app = FastAPI()\n"
            "\n"
            "@app.post('/config')\n"
            "async def config(request: Request):\n"
            "    return yaml.load(await request.body(), Loader=yaml.Loader)\n",
            lines=(7,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "jsonpickle" contains "pickle")
        if not mentions(ctx, "eval", "exec", "compile", "pickle", "marshal", "yaml", "dill", "shelve", "joblib", "torch"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        # (the calls that can name one: by their written name, or through an import alias)
        lines = sorted(node.lineno for node in ctx.calls_named(_LAST_PARTS | aliases.keys()) if _is_sink(node, aliases))
        if not lines:
            return  # no such call anywhere in the file
        for fn in functions(ctx.tree):
            end = fn.end_lineno
            if end is not None and bisect_right(lines, end) == bisect_left(lines, fn.lineno):
                continue  # (none in its lines)
            # the dangerous calls first: most functions make none, and need no request-data analysis
            sinks = [node for node in own_nodes(fn) if isinstance(node, ast.Call) and _is_sink(node, aliases)]
            if not sinks:
                continue
            data = RequestData.of(ctx, fn, follow_returning=True)
            if not data.tainted and not data.reads_request():
                continue
            for node in sinks:
                if data.is_tainted(node.args[0]):
                    yield self.finding(ctx, node.lineno, f"request data passed to {last_name(node.func)}()")
