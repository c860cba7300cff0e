"""WB201 unvalidated-input: a route that reads request data without validating it."""

from __future__ import annotations

from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext


class UnvalidatedInput(Rule):
    """Flags a route handler that reads request data without validating it against a schema.

    ## What it does
    Reads the route inventory's `validated` flag: a handler that reads the JSON body, form,
    query string or uploaded file metadata and does not validate every field it reads (a
    pydantic / marshmallow / webargs schema, FastAPI typed parameters and body models, or an
    explicit check of each field) gets one finding on its `def` line.

    ## Why is this bad?
    Missing or wrongly typed fields crash the handler (500 instead of 400) or reach the
    database and other systems unchecked: type confusion, mass assignment, oversized input.

    ## Example
    ```python
    @app.post("/api/posts")
    def create_post():
        data = request.get_json()
        post = Post(title=data["title"], body=data["body"])
    ```

    ## Use instead
    ```python
    class PostIn(BaseModel):
        title: str = Field(min_length=1, max_length=200)
        body: str

    @app.post("/api/posts")
    def create_post():
        data = PostIn.model_validate(request.get_json())
    ```
    """

    id = "WB201"
    name = "unvalidated-input"
    category = Category.UNVALIDATED_INPUT
    severity = Severity.MEDIUM
    confidence = Severity.MEDIUM
    cwe = 20
    fixed_by = "add_validation"

    VALID = (
        Example(
            "from flask import Flask, request\n"
            "from pydantic import BaseModel\n"
            "app = Flask(__name__)\n"
            "\n"
            "class PostIn(BaseModel):\n"
            "    title: str\n"
            "\n"
            "@app.route('/api/posts', methods=['POST'])\n"
            "def create_post():\n"
            "    data = PostIn.model_validate(request.get_json())\n"
            "    return {'title': data.title}\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "from pydantic import BaseModel\n"
            "app = FastAPI()\n"
            "\n"
            "class ItemIn(BaseModel):\n"
            "    name: str\n"
            "\n"
            "@app.post('/items')\n"
            "def create(item: ItemIn, limit: int = 10):\n"
            "    return item\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/posts', methods=['POST'])\n"
            "def create_post():\n"
            "    data = request.get_json()\n"
            "    return {'title': data['title']}\n",
            lines=(5,),
        ),
        Example(
            "from fastapi import FastAPI, Request\n"
            "app = FastAPI()\n"
            "\n"
            "@app.post('/items')\n"
            "async def create(request: Request):\n"
            "    body = await request.json()\n"
            "    return {'name': body['name']}\n",
            lines=(5,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        seen: set[int] = set()
        for route in ctx.routes:
            if route.validated or route.line in seen:
                continue
            seen.add(route.line)
            reads = ", ".join(route.reads) or "request data"
            yield self.finding(ctx, route.line, f"{route.handler} reads {reads} without validating it")
