"""WB320 missing-security-headers: an app created in a project that never sets security headers."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import call_qualname, import_aliases, mentions

APP_CLASSES = frozenset({"flask.Flask", "fastapi.FastAPI", "starlette.applications.Starlette", "quart.Quart",
                         "sanic.Sanic", "connexion.App", "connexion.FlaskApp", "apiflask.APIFlask"})
# The last parts of those names: a call names one only if written with one, or through an import alias.
_LAST_PARTS = frozenset(q.rpartition(".")[2] for q in APP_CLASSES)
# Mentioning one of these anywhere in the project means some code sets security headers.
HEADER_MARKERS = ("content-security-policy", "strict-transport-security", "x-content-type-options", "talisman",
                  "secure_headers", "secureheaders")


class MissingSecurityHeaders(Rule):
    """Flags the creation of an app object when no code of the project sets security headers.

    ## What it does
    When no module of the project mentions Content-Security-Policy,
    Strict-Transport-Security or X-Content-Type-Options, Talisman or the `secure` package
    (an after-request hook, a middleware or an extension), every line that creates an app
    object (`Flask(__name__)`, `FastAPI()`, `Starlette()`, `Quart()`, ...) is flagged,
    including second apps built for jobs or workers.

    ## Why is this bad?
    Browsers fall back to permissive defaults: content sniffing, framing
    (clickjacking), plain-HTTP downgrades, and no second line of defence against XSS.

    ## Example
    ```python
    app = Flask(__name__)
    ```

    ## Use instead
    ```python
    app = Flask(__name__)

    @app.after_request
    def security_headers(resp):
        resp.headers["Content-Security-Policy"] = "default-src 'self'"
        resp.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp
    ```
    """

    id = "WB320"
    name = "missing-security-headers"
    category = Category.MISSING_SECURITY_HEADERS
    severity = Severity.MEDIUM
    confidence = Severity.MEDIUM
    cwe = 693
    fixed_by = "add_security_setup"

    VALID = (
        Example(
            "from flask import Flask\n"
            "from flask_talisman import Talisman\n"
            "app = Flask(__name__)\n"
            "Talisman(app)\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "from .security import add_headers\n"
            "app = FastAPI()\n"
            "app.middleware('http')(add_headers)\n",
            files=(("app/security.py",
                    "async def add_headers(request, call_next):\n"
                    "    response = await call_next(request)\n"
                    "    response.headers['X-Content-Type-Options'] = 'nosniff'\n"
                    "    return response\n"),),
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask\n"
            "def create_app():\n"
            "    app = Flask(__name__)\n"
            "    return app\n"
            "worker = Flask('jobs')\n",
            lines=(3, 5),
        ),
        Example(
            "import fastapi\n"
            "app = fastapi.FastAPI(title='api')\n",
            lines=(2,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "Flask", "FastAPI", "Starlette", "Quart", "Sanic", "connexion", "App("):
            return  # nothing this rule looks for can be in the file
        if ctx.project.security_headers_set or ctx.in_test_file:
            return
        low = ctx.source.lower()
        if any(marker in low for marker in HEADER_MARKERS):
            return
        aliases = import_aliases(ctx.tree)
        # (the calls that can name one: by their written name, or through an import alias)
        for node in ctx.calls_named(_LAST_PARTS | aliases.keys()):
            if call_qualname(node, aliases) in APP_CLASSES:
                yield self.finding(ctx, node.lineno, "app created without any security headers in the project")
