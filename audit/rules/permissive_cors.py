"""WB311 permissive-cors: every origin allowed, with credentials."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import is_false, is_true, keyword, last_name, mentions, nodes_of, str_value

ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"


class PermissiveCors(Rule):
    """Flags CORS set up to allow every origin together with credentials.

    ## What it does
    Finds flask-cors `CORS(app, supports_credentials=True)` with no origin list or with
    `"*"`, Starlette/FastAPI `CORSMiddleware(allow_origins=["*"], allow_credentials=True)`
    (or an `allow_origin_regex` matching everything), Socket.IO servers with
    `cors_allowed_origins="*"` (Engine.IO sends `Access-Control-Allow-Credentials` by
    default), and hand-written headers: `Access-Control-Allow-Origin: *` or the reflected
    `Origin` together with `Access-Control-Allow-Credentials: true`, in one function or
    one headers dict.

    ## Why is this bad?
    Any web page the user visits can call the API with the user's cookies or credentials
    and read the answers.

    ## Example
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    ```

    ## Use instead
    ```python
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True)
    ```
    """

    id = "WB311"
    name = "permissive-cors"
    category = Category.INSECURE_CONFIG
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 942
    fixed_by = "add_security_setup"

    VALID = (
        Example(
            "from flask import Flask\n"
            "from flask_cors import CORS\n"
            "app = Flask(__name__)\n"
            "CORS(app, origins=['https://app.example.com'], supports_credentials=True)\n"
            "CORS(app, resources={r'/public/*': {'origins': '*'}})\n"
            "@app.after_request\n"
            "def cors(resp):\n"
            "    resp.headers['Access-Control-Allow-Origin'] = '*'\n"
            "    return resp\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "from fastapi.middleware.cors import CORSMiddleware\n"
            "app = FastAPI()\n"
            "app.add_middleware(CORSMiddleware, allow_origins=['https://app.example.com'], allow_credentials=True)\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask\n"
            "from flask_cors import CORS\n"
            "from flask_socketio import SocketIO\n"
            "app = Flask(__name__)\n"
            "CORS(app, supports_credentials=True)\n"
            "socketio = SocketIO(app, cors_allowed_origins='*')\n"
            "@app.after_request\n"
            "def cors(resp):\n"
            "    resp.headers.update({'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Credentials': 'true'})\n"
            "    return resp\n",
            lines=(5, 6, 9),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "from fastapi.middleware.cors import CORSMiddleware\n"
            "app = FastAPI()\n"
            "app.add_middleware(\n"
            "    CORSMiddleware,\n"
            "    allow_origins=['*'],\n"
            "    allow_credentials=True,\n"
            ")\n",
            lines=(6,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "cors", "access-control", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        for node in nodes_of(ctx.tree, ast.Call):
            if isinstance(node, ast.Call):
                found = _call_problem(node)
                if found:
                    yield self.finding(ctx, found[0], found[1])
        scopes: list[ast.AST] = [n for n in nodes_of(ctx.tree, ast.FunctionDef, ast.AsyncFunctionDef) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for scope in scopes or [ctx.tree]:
            origin_line, credentials = None, False
            for node in ast.walk(scope):
                for name, value, line in _header_sets(node):
                    if name == ACAO and _any_origin(value):
                        origin_line = origin_line or line
                    elif name == ACAC and (str_value(value) or "").lower() == "true" or (name == ACAC and is_true(value)):
                        credentials = True
            if origin_line and credentials:
                yield self.finding(ctx, origin_line, "Access-Control-Allow-Origin: * with Allow-Credentials: true")


def _is_star(node: ast.AST | None) -> bool:
    if str_value(node) in ("*", ".*", "^.*$"):
        return True
    return isinstance(node, (ast.List, ast.Tuple, ast.Set)) and any(str_value(e) == "*" for e in node.elts)


def _any_origin(value: ast.AST) -> bool:
    """``"*"``, or the request's own Origin header reflected back."""
    if _is_star(value):
        return True
    text = ast.unparse(value).lower()
    return "origin" in text and ("request" in text or "headers" in text)


def _call_problem(call: ast.Call) -> tuple[int, str] | None:
    name = last_name(call.func)
    if name == "CORS":
        origins = keyword(call, "origins")
        resources = keyword(call, "resources")
        if is_true(keyword(call, "supports_credentials")):
            star = _is_star(origins) or (origins is None and (resources is None or "'*'" in ast.unparse(resources)))
            if star:
                return call.lineno, "CORS allows every origin with credentials"
    elif name == "add_middleware" and call.args and last_name(call.args[0]) == "CORSMiddleware" or name == "CORSMiddleware":
        origins = keyword(call, "allow_origins")
        regex = keyword(call, "allow_origin_regex")
        if is_true(keyword(call, "allow_credentials")) and (_is_star(origins) or _is_star(regex)):
            where = origins if _is_star(origins) else regex
            return where.lineno, "CORSMiddleware allows every origin with credentials"
    elif name in ("SocketIO", "init_app", "AsyncServer", "Server", "ASGIApp"):
        origins = keyword(call, "cors_allowed_origins")
        if origins is not None and _is_star(origins) and not is_false(keyword(call, "cors_credentials")):
            return origins.lineno, "Socket.IO accepts every origin (with credentials, Engine.IO's default)"
    return None


def _header_sets(node: ast.AST) -> Iterable[tuple[str, ast.AST, int]]:
    """(lower-case header name, value, line) for headers set by ``node``."""
    if isinstance(node, ast.Assign):
        for t in node.targets:
            if isinstance(t, ast.Subscript) and (key := str_value(t.slice)):
                yield key.lower(), node.value, node.lineno
    elif isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values):
            if (key := str_value(k)) and key.lower().startswith("access-control-"):
                yield key.lower(), v, v.lineno
    elif isinstance(node, ast.Call) and last_name(node.func) in ("add", "set", "setdefault", "add_header", "header") \
            and len(node.args) >= 2 and (key := str_value(node.args[0])):
        yield key.lower(), node.args[1], node.lineno
