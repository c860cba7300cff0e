"""WB402 secret-in-log: a log call that writes a password, token or secret."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._request_data import RequestData
from ._secret_names import is_secret_name
from ._syntax import FunctionNode, body_walk, dotted, enclosing_functions, last_name, mentions, names_in, str_value

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "msg"})
LOGGER_NAME = re.compile(r"(^|[._])(log|logger|logging|_log|_logger|LOG|LOGGER|structlog|audit_log)$", re.I)
# Whole objects that carry credentials: the request headers, the Authorization header.
CREDENTIAL_CARRIERS = re.compile(r"request\.(headers|authorization|cookies)$|^(headers|auth_header|authorization)$")


class SecretInLog(Rule):
    """Flags log calls that write a password, token or secret.

    ## What it does
    Finds calls on a logger (`logger.info(...)`, `logging.debug(...)`,
    `app.logger.warning(...)`, `current_app.logger...`) whose arguments (after the message
    template: the values, f-string parts, `%`/`.format()` operands) include a secret-named
    variable, attribute or key (`password`, `new_password`, `token`, `api_key`,
    `client_secret`...), the whole request headers or Authorization header, or a whole
    request body that carries a password field.

    ## Why is this bad?
    Logs are kept for months, copied to other systems and read by many people: every
    password and token in them is leaked.

    ## Example
    ```python
    logger.info("password change for %s: new password %s", user.id, data["new_password"])
    ```

    ## Use instead
    ```python
    logger.info("password changed for user %s", user.id)
    ```
    """

    id = "WB402"
    name = "secret-in-log"
    category = Category.DEBUG_LOGGING
    severity = Severity.MEDIUM
    confidence = Severity.MEDIUM
    cwe = 532
    fixed_by = "replace_print_with_logging"

    VALID = (
        Example(
            "import logging\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "logger = logging.getLogger(__name__)\n"
            "@app.route('/api/auth/password', methods=['POST'])\n"
            "def change_password():\n"
            "    data = request.get_json()\n"
            "    logger.info('password changed for %s (token type %s)', data['email'], 'bearer')\n"
            "    return {}\n"
        ),
        Example(
            "import logging\n"
            "log = logging.getLogger('api')\n"
            "def login(username, password_hash_algo):\n"
            "    log.warning(f'failed login for {username}')\n"
        ),
    )
    INVALID = (
        Example(
            "import logging\n"
            "from flask import Flask, request, current_app\n"
            "app = Flask(__name__)\n"
            "logger = logging.getLogger(__name__)\n"
            "@app.route('/api/auth/password', methods=['POST'])\n"
            "def change_password():\n"
            "    data = request.get_json()\n"
            "    logger.info('password change for %s: new password %s', data['email'], data['new_password'])\n"
            "    current_app.logger.debug(f'headers: {request.headers}')\n"
            "    app.logger.debug('payload %s', data)\n"
            "    return {}\n",
            lines=(8, 9, 10),
        ),
        Example(
            "import logging\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "@app.post('/login')\n"
            "def login(body: dict):\n"
            "    logging.debug('login %s with token %s', body['user'], make_token(body['user']))\n"
            "    token = make_token(body['user'])\n"
            "    logging.info('issued %s', token)\n",
            lines=(8,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "log", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        owner: dict[int, FunctionNode] | None = None  # found when a log call first needs it
        bodies: dict[int, tuple[RequestData, set[str]] | None] = {}
        for node in ctx.calls_named(LOG_METHODS):
            if not isinstance(node.func, ast.Attribute):
                continue
            if not LOGGER_NAME.search(ast.unparse(node.func.value)):
                continue
            args = list(node.args)
            if args and str_value(args[0]) is not None:
                args = args[1:]  # the message template itself only describes
            args += [k.value for k in node.keywords if k.arg not in ("exc_info", "stack_info", "stacklevel")]
            leaked = _leaked(args)
            if not leaked and owner is None:
                owner = enclosing_functions(ctx.tree)
            fn = owner.get(id(node)) if not leaked else None
            if not leaked and fn is not None:
                if id(fn) not in bodies:
                    bodies[id(fn)] = _password_body(fn, ctx.tree)
                data = bodies[id(fn)]
                if data is not None and any(_whole_body(a, data) for a in args):
                    leaked = "a request body that carries a password"
            if leaked:
                yield self.finding(ctx, node.lineno, f"log call writes {leaked}")


def _password_body(fn, tree: ast.Module) -> tuple[RequestData, set[str]] | None:
    """The function's request data and the names holding a whole request body, when the function
    reads a password/secret/token field from it."""
    if any(_SECRET_KEY.search(n) for node in body_walk(fn) if node.__class__ in _KEY_READS for n in _keys_read(node)):
        data = RequestData.plain(fn, tree)
        bodies = set()
        for node in body_walk(fn):
            if isinstance(node, ast.Assign):
                value = node.value.values[0] if isinstance(node.value, ast.BoolOp) else node.value  # `... or {}`
                if data.is_source(value.value if isinstance(value, ast.Await) else value):
                    bodies.update(t.id for t in node.targets if isinstance(t, ast.Name))
        return data, bodies
    return None


_SECRET_KEY = re.compile(r"pass(word)?|pwd|secret|token", re.I)
_KEY_READS = frozenset({ast.Subscript, ast.Call})  # the only nodes _keys_read reads a key from


def _whole_body(arg: ast.expr, found: tuple[RequestData, set[str]]) -> bool:
    """``data`` (holding the body) / ``request.json`` / ``request.get_json()`` itself, not one of its fields."""
    data, bodies = found
    if isinstance(arg, ast.JoinedStr):
        return any(_whole_body(v.value, found) for v in arg.values if isinstance(v, ast.FormattedValue))
    if isinstance(arg, ast.Name):
        return arg.id in bodies
    return data.is_source(arg) and not (isinstance(arg, ast.Attribute) and arg.attr in ("args", "headers", "cookies"))


def _keys_read(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Subscript) and (key := str_value(node.slice)):
        return [key]
    if isinstance(node, ast.Call) and last_name(node.func) == "get" and node.args and (key := str_value(node.args[0])):
        return [key]
    return []


def _leaked(args: list[ast.expr]) -> str | None:
    for arg in args:
        for sub in ast.walk(arg):
            if isinstance(sub, ast.Constant):
                continue
            if isinstance(sub, (ast.Name, ast.Attribute)):
                text = dotted(sub) or ast.unparse(sub)  # (a dotted name unparses to itself)
                if CREDENTIAL_CARRIERS.search(text):
                    return text
        for name in names_in(arg):
            if is_secret_name(name):
                return name
    return None
