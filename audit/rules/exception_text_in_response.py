"""WB420 exception-text-in-response: exception text or a traceback sent to the client."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import (call_qualname, functions, identifiers, import_aliases, is_handler, last_name, mentions,
                      nodes_of, own_nodes, walk)

TRACEBACK_CALLS = frozenset({"traceback.format_exc", "traceback.format_exception", "traceback.format_tb",
                             "traceback.format_stack", "traceback.format_exception_only", "sys.exc_info"})
# Calls that build what the client receives.
RESPONSE_CALLS = frozenset({"jsonify", "make_response", "JSONResponse", "ORJSONResponse", "PlainTextResponse",
                            "HTMLResponse", "Response", "HTTPException", "abort", "render_template", "json_response",
                            "emit", "send"})
ERROR_HANDLER_DECORATORS = frozenset({"errorhandler", "app_errorhandler", "exception_handler", "register_error_handler"})
EXCEPTION_ATTRS = frozenset({"args", "message", "msg", "strerror", "orig", "detail", "__str__"})


class ExceptionTextInResponse(Rule):
    """Flags responses that carry exception text or a traceback.

    ## What it does
    Inside `except ... as e:` blocks, finds `str(e)`, `repr(e)`, `f"{e}"`, `e.args`,
    `e.message`, `"..." % e` and the exception itself, and anywhere
    `traceback.format_exc()` / `format_exception()`, when they end up in what the client
    receives: a returned value, `jsonify()`/`JSONResponse()`/`make_response()`,
    `abort()`, `raise HTTPException(detail=...)` (also through a variable). Flagged on the
    line of the leaking expression.

    ## Why is this bad?
    Exception text reveals SQL, file paths, library versions and data of other users,
    which helps an attacker aim; tracebacks reveal the code itself.

    ## Example
    ```python
    except Exception as e:
        return jsonify(error=str(e)), 500
    ```

    ## Use instead
    ```python
    except Exception:
        logger.exception("deleting post %s failed", post_id)
        return jsonify(success=False, error={"code": "internal_error", "message": "internal error"}), 500
    ```
    """

    id = "WB420"
    name = "exception-text-in-response"
    category = Category.INCONSISTENT_ERROR
    severity = Severity.MEDIUM
    confidence = Severity.HIGH
    cwe = 209
    fixed_by = "unify_errors"

    VALID = (
        Example(
            "import logging\n"
            "from flask import Flask, jsonify\n"
            "from pydantic import ValidationError\n"
            "app = Flask(__name__)\n"
            "logger = logging.getLogger(__name__)\n"
            "@app.route('/api/posts/<int:pid>', methods=['DELETE'])\n"
            "def delete_post(pid):\n"
            "    try:\n"
            "        remove(pid)\n"
            "    except ValidationError as exc:\n"
            "        return jsonify(error='invalid', details=exc.errors()), 400\n"
            "    except Exception as e:\n"
            "        logger.error('delete failed: %s', e)\n"
            "        return jsonify(error='internal error'), 500\n"
            "    return jsonify(deleted=pid)\n"
        ),
        Example(
            "from fastapi import FastAPI, HTTPException\n"
            "app = FastAPI()\n"
            "@app.get('/items/{item_id}')\n"
            "def item(item_id: int):\n"
            "    try:\n"
            "        return load(item_id)\n"
            "    except KeyError:\n"
            "        raise HTTPException(status_code=404, detail='item not found')\n"
        ),
    )
    INVALID = (
        Example(
            "import traceback\n"
            "from flask import Flask, jsonify\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/backup', methods=['POST'])\n"
            "def backup():\n"
            "    try:\n"
            "        run_backup()\n"
            "    except Exception as e:\n"
            "        message = f'backup failed: {e}'\n"
            "        if isinstance(e, OSError):\n"
            "            return jsonify(error=message), 500\n"
            "        return jsonify({'error': 'backup failed',\n"
            "                        'trace': traceback.format_exc()}), 500\n"
            "    return jsonify(ok=True)\n",
            lines=(11, 13),
        ),
        Example(
            "from fastapi import FastAPI, HTTPException\n"
            "app = FastAPI()\n"
            "@app.get('/items/{item_id}')\n"
            "def item(item_id: int):\n"
            "    try:\n"
            "        return load(item_id)\n"
            "    except Exception as exc:\n"
            "        raise HTTPException(status_code=500, detail=repr(exc))\n",
            lines=(8,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "except", "traceback", "exc_info"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        seen: set[int] = set()
        # Names through which a traceback call can be written in this file (``traceback``, ``sys``,
        # their aliases, names imported from them): a function mentioning none of them and catching
        # no named exception has no exception text to leak.
        modules = {q.split(".")[0] for q in TRACEBACK_CALLS}
        carriers = modules | {q.rsplit(".", 1)[-1] for q in TRACEBACK_CALLS} | {
            local for local, full in aliases.items() if full.split(".")[0] in modules}
        # The lines of the file's named handlers (``except E as e``): a function without one in its
        # lines has none of its own, and needs no search for them.
        handler_lines = sorted(h.lineno for h in nodes_of(ctx.tree, ast.ExceptHandler) if h.name)
        for fn in functions(ctx.tree):
            end = fn.end_lineno
            if end is not None and bisect_right(handler_lines, end) == bisect_left(handler_lines, fn.lineno):
                exc_names: set[str] = set()
            else:
                exc_names = {h.name for h in own_nodes(fn) if isinstance(h, ast.ExceptHandler) and h.name}
            if not exc_names and carriers.isdisjoint(identifiers(fn)):
                continue
            leaky_vars: set[str] = set()
            for node in own_nodes(fn):  # variables holding exception text (message = f"... {e}")
                if isinstance(node, ast.Assign) and _leak(node.value, exc_names, set(), aliases):
                    leaky_vars.update(t.id for t in node.targets if isinstance(t, ast.Name))
            responder = is_handler(ctx, fn) or any(
                last_name(d.func if isinstance(d, ast.Call) else d) in ERROR_HANDLER_DECORATORS for d in fn.decorator_list)
            for node in own_nodes(fn):
                if node.__class__ not in _SINK_KINDS:
                    continue  # (_sinks would find none)
                for sink in _sinks(node, responder):
                    leak = _leak(sink, exc_names, leaky_vars, aliases)
                    if leak is not None and leak.lineno not in seen:
                        seen.add(leak.lineno)
                        yield self.finding(ctx, leak.lineno, f"exception details sent to the client: {ast.unparse(leak)}")


_SINK_KINDS = frozenset({ast.Return, ast.Raise, ast.Expr})  # the only kinds of node _sinks finds a sink in


def _sinks(node: ast.AST, responder: bool) -> list[ast.AST]:
    """The parts of ``node`` the client receives. A ``return`` counts in route and error handlers, or
    anywhere when it builds a response (``jsonify(...)``, ``(body, 500)``)."""
    if isinstance(node, ast.Return) and node.value is not None:
        if responder or _builds_response(node.value):
            return [node.value]
        return []
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and last_name(node.exc.func) in RESPONSE_CALLS:
        return [node.exc]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        name = last_name(call.func)
        socket_call = name in ("emit", "send") and (isinstance(call.func, ast.Name) or re.search(
            r"sio|socket|ws", ast.unparse(call.func.value), re.I))
        if name == "abort" or socket_call:
            return [call]
    return []


def _builds_response(value: ast.AST) -> bool:
    if isinstance(value, ast.Tuple) and len(value.elts) >= 2 and isinstance(value.elts[1], ast.Constant) and \
            isinstance(value.elts[1].value, int):
        return True
    return any(isinstance(n, ast.Call) and last_name(n.func) in RESPONSE_CALLS for n in walk(value))


def _leak(expr: ast.AST, exc_names: set[str], leaky_vars: set[str], aliases: dict[str, str]) -> ast.AST | None:
    """The sub-expression of ``expr`` that carries exception text, if any (the first in ``ast.walk`` order)."""
    for sub in walk(expr):
        if isinstance(sub, ast.Call):
            qual = call_qualname(sub, aliases)
            if qual in TRACEBACK_CALLS:
                return sub
            if last_name(sub.func) in ("str", "repr", "format") and sub.args and _is_exc(sub.args[0], exc_names):
                return sub
            if last_name(sub.func) in ("errors", "messages", "normalized_messages", "json"):
                continue
        elif isinstance(sub, ast.FormattedValue) and _is_exc(sub.value, exc_names):
            return sub
        elif isinstance(sub, ast.Attribute) and sub.attr in EXCEPTION_ATTRS and _is_exc(sub.value, exc_names):
            return sub
        elif isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Mod) and _is_exc(sub.right, exc_names):
            return sub
        elif isinstance(sub, ast.Name) and sub.id in leaky_vars:
            return sub
        elif isinstance(sub, ast.keyword) and sub.value is not None and _is_exc(sub.value, exc_names):
            return sub.value
        elif isinstance(sub, ast.Dict):
            for v in sub.values:
                if _is_exc(v, exc_names):
                    return v
    return None


def _is_exc(node: ast.AST, exc_names: set[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in exc_names
