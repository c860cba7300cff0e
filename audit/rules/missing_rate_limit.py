"""WB130 missing-rate-limit: a sensitive route (auth, password, upload) without a rate limit."""

from __future__ import annotations

from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext


class MissingRateLimit(Rule):
    """Flags a sensitive route that no rate limit covers.

    ## What it does
    Reads the route inventory: a route that is sensitive (login, register/signup, token
    refresh, password reset/change, verification codes, file upload, or a path on the
    config's `sensitive` list) and whose `rate_limited` flag is false (no limit decorator,
    no blueprint/router limit, no app-wide default limit) gets one finding on its handler's
    `def` line. The id sits in the auth range because these limits protect credentials.

    ## Why is this bad?
    Without a limit an attacker can guess passwords and one-time codes at full speed, or
    fill the disk and the CPU with uploads.

    ## Example
    ```python
    @app.post("/api/auth/login")
    def login():
        ...
    ```

    ## Use instead
    ```python
    @app.post("/api/auth/login")
    @limiter.limit("5 per minute")
    def login():
        ...
    ```
    """

    id = "WB130"
    name = "missing-rate-limit"
    category = Category.MISSING_RATE_LIMIT
    severity = Severity.MEDIUM
    confidence = Severity.MEDIUM
    cwe = 307
    fixed_by = "add_rate_limits"

    VALID = (
        Example(
            "from flask import Flask\n"
            "from flask_limiter import Limiter\n"
            "from flask_limiter.util import get_remote_address\n"
            "app = Flask(__name__)\n"
            "limiter = Limiter(get_remote_address, app=app)\n"
            "\n"
            "@app.route('/api/auth/login', methods=['POST'])\n"
            "@limiter.limit('5 per minute')\n"
            "def login():\n"
            "    return {}\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/items')\n"
            "def items():\n"
            "    return []\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/auth/login', methods=['POST'])\n"
            "def login():\n"
            "    return {}\n",
            lines=(5,),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.post('/auth/register')\n"
            "async def register():\n"
            "    return {}\n",
            lines=(5,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        seen: set[int] = set()
        for route in ctx.routes:
            if not route.sensitive or route.rate_limited or route.line in seen:
                continue
            seen.add(route.line)
            yield self.finding(ctx, route.line, f"{route.key}: sensitive route without a rate limit")
