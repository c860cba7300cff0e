"""WB110 missing-auth: a route that is not public and has no authentication."""

from __future__ import annotations

from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext


class MissingAuth(Rule):
    """Flags a route handler that is not public and that no authentication covers.

    ## What it does
    Reads the route inventory: a route whose path is not on the public list (login,
    register, health, docs, ... plus the config's `public` list) and that has no auth
    decorator or dependency, no `before_request`/router-level guard and no app-wide auth
    middleware gets one finding on its handler's `def` line (once per handler, however
    many methods it serves). Guards are recognised by what they do (reading the
    `Authorization` header or the session, verifying a token, aborting 401/403), so a
    codebase's own decorator counts; a guard that lets a request through without a valid
    credential does not.

    ## Why is this bad?
    Anyone on the network can call the route: read other users' data, or change it.

    ## Example
    ```python
    @app.route("/api/posts/<int:post_id>", methods=["DELETE"])
    def delete_post(post_id):
        ...
    ```

    ## Use instead
    ```python
    @app.route("/api/posts/<int:post_id>", methods=["DELETE"])
    @login_required
    def delete_post(post_id):
        ...
    ```
    """

    id = "WB110"
    name = "missing-auth"
    category = Category.MISSING_AUTH
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 306
    fixed_by = "add_authentication"

    VALID = (
        Example(
            "from flask import Flask, jsonify\n"
            "from flask_login import login_required\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/posts')\n"
            "@login_required\n"
            "def list_posts():\n"
            "    return jsonify([])\n"
            "\n"
            "@app.route('/api/health')\n"
            "def health():\n"
            "    return {'ok': True}\n"
        ),
        Example(
            "from fastapi import Depends, FastAPI\n"
            "from .auth import get_current_user\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/items')\n"
            "def items(user=Depends(get_current_user)):\n"
            "    return []\n",
            files=(("app/auth.py",
                    "from fastapi import Header, HTTPException\n"
                    "import jwt\n"
                    "def get_current_user(authorization: str = Header(...)):\n"
                    "    try:\n"
                    "        return jwt.decode(authorization.split()[1], 'k', algorithms=['HS256'])['sub']\n"
                    "    except jwt.PyJWTError:\n"
                    "        raise HTTPException(status_code=401)\n"),),
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, jsonify\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/posts/<int:post_id>', methods=['GET', 'DELETE'])\n"
            "def post(post_id):\n"
            "    return jsonify({})\n",
            lines=(5,),
        ),
        Example(
            "from fastapi import APIRouter\n"
            "router = APIRouter()\n"
            "\n"
            "@router.delete('/users/{user_id}')\n"
            "async def delete_user(user_id: int):\n"
            "    return None\n",
            lines=(5,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        seen: set[int] = set()
        for route in ctx.routes:
            if route.public or route.auth or route.line in seen:
                continue
            seen.add(route.line)
            keys = ", ".join(r.key for r in ctx.routes_of(route.line))
            yield self.finding(ctx, route.line, f"{keys}: no authentication on a non-public route")
