"""WB313 insecure-cookie-settings: session or auth cookies without Secure/HttpOnly."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import is_false, last_name, mentions, nodes, nodes_of, str_value

COOKIE_SETTING = re.compile(r"^(SESSION|REMEMBER|JWT|CSRF)_COOKIE_(SECURE|HTTPONLY)$|^(SESSION|CSRF)_COOKIE_SECURE$",
                            re.I)
# Config classes meant for local development or tests (plain-http localhost needs Secure off).
DEV_CLASS = re.compile(r"dev|local|test", re.I)


class InsecureCookieSettings(Rule):
    """Flags session and auth cookies configured without `Secure` or `HttpOnly`.

    ## What it does
    Finds `SESSION_COOKIE_SECURE = False`, `SESSION_COOKIE_HTTPONLY = False`,
    `REMEMBER_COOKIE_SECURE`/`JWT_COOKIE_SECURE = False` (as assignments, config keys or
    keyword arguments, outside development/test config classes) and
    `set_cookie(..., secure=False)` / `httponly=False`.

    ## Why is this bad?
    Without `Secure` the session cookie travels over plain HTTP; without `HttpOnly` any
    injected script can read it. Either way the session can be stolen.

    ## Example
    ```python
    app.config["SESSION_COOKIE_SECURE"] = False
    ```

    ## Use instead
    ```python
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    ```
    """

    id = "WB313"
    name = "insecure-cookie-settings"
    category = Category.INSECURE_CONFIG
    severity = Severity.MEDIUM
    confidence = Severity.HIGH
    cwe = 614
    fixed_by = "add_security_setup"

    VALID = (
        Example(
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True)\n"
            "class DevelopmentConfig:\n"
            "    SESSION_COOKIE_SECURE = False\n"
        ),
        Example(
            "from fastapi import FastAPI, Response\n"
            "app = FastAPI()\n"
            "@app.post('/login')\n"
            "def login(response: Response):\n"
            "    response.set_cookie('session', 'x', secure=True, httponly=True)\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "app.config['SESSION_COOKIE_SECURE'] = False\n"
            "app.config.update(SESSION_COOKIE_HTTPONLY=False)\n"
            "class Config:\n"
            "    REMEMBER_COOKIE_SECURE = False\n",
            lines=(3, 4, 6),
        ),
        Example(
            "from fastapi import FastAPI, Response\n"
            "app = FastAPI()\n"
            "@app.post('/login')\n"
            "def login(response: Response):\n"
            "    response.set_cookie('session', 'x', httponly=False)\n",
            lines=(5,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "cookie", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        dev_lines: set[int] = set()
        for node in nodes_of(ctx.tree, ast.ClassDef):
            if isinstance(node, ast.ClassDef) and DEV_CLASS.search(node.name):
                dev_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        for node in nodes(ctx.tree):
            if getattr(node, "lineno", 0) in dev_lines:
                continue
            if isinstance(node, ast.Assign) and is_false(node.value):
                for t in node.targets:
                    name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else str_value(
                        getattr(t, "slice", None))
                    if name and COOKIE_SETTING.match(name):
                        yield self.finding(ctx, node.lineno, f"{name} = False")
            elif isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg and COOKIE_SETTING.match(kw.arg) and is_false(kw.value):
                        yield self.finding(ctx, kw.value.lineno, f"{kw.arg}=False")
                    elif last_name(node.func) == "set_cookie" and kw.arg in ("secure", "httponly") and is_false(kw.value):
                        yield self.finding(ctx, kw.value.lineno, f"cookie set with {kw.arg}=False")
