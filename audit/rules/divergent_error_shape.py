"""WB421 divergent-error-shape: an error response shaped differently from the app's usual one."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import keyword, last_name, nodes_of, str_value

# Keys that carry an error's message, in the order that names a shape.
MESSAGE_KEYS = ("error", "errors", "message", "msg", "detail", "description", "reason", "error_message", "fault")


class DivergentErrorShape(Rule):
    """Flags error responses whose body is shaped differently from the app's dominant error shape.

    ## What it does
    Collects the error responses of the project (`return jsonify(...), 4xx/5xx`,
    `make_response(body, 4xx)`, `JSONResponse(status_code=4xx, content=...)`,
    `raise HTTPException(status_code=..., detail=...)`, plain-text `return "...", 404`)
    and names each by the key that carries its message (`error`, `message`, `msg`,
    `detail`...; `success+error` for an envelope, `text` for plain text). The most common
    shape across the project is the app's shape; each error response with another shape is
    flagged on its `return`/`raise` line. The map engine supplies the project-wide counts
    (`ProjectFacts.error_shapes`); without them the rule compares within the file.

    ## Why is this bad?
    Clients must guess where the message is: some errors show up blank or crash the client,
    and error handling code multiplies.

    ## Example
    ```python
    return jsonify(error="post not found"), 404
    ...
    return jsonify({"msg": "You can only delete your own comments"}), 403
    ```

    ## Use instead
    ```python
    return jsonify(error="you can only delete your own comments"), 403
    ```
    """

    id = "WB421"
    name = "divergent-error-shape"
    category = Category.INCONSISTENT_ERROR
    severity = Severity.LOW
    confidence = Severity.MEDIUM
    cwe = 755
    fixed_by = "unify_errors"

    VALID = (
        Example(
            "from flask import Flask, jsonify\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/posts/<int:pid>')\n"
            "def post(pid):\n"
            "    if pid < 0:\n"
            "        return jsonify(error='bad id'), 400\n"
            "    if pid == 0:\n"
            "        return jsonify(error='invalid', details=['pid']), 400\n"
            "    return jsonify(error='post not found'), 404\n"
        ),
        Example(
            "from fastapi import FastAPI, HTTPException\n"
            "app = FastAPI()\n"
            "@app.get('/items/{item_id}')\n"
            "def item(item_id: int):\n"
            "    if item_id < 0:\n"
            "        raise HTTPException(status_code=400, detail='bad id')\n"
            "    raise HTTPException(status_code=404, detail='not found')\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, jsonify\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/comments/<int:cid>', methods=['DELETE'])\n"
            "def delete_comment(cid):\n"
            "    if cid < 0:\n"
            "        return jsonify(error='bad id'), 400\n"
            "    if cid == 0:\n"
            "        return jsonify(error='comment not found'), 404\n"
            "    if cid == 1:\n"
            "        return jsonify({'msg': 'You can only delete your own comments'}), 403\n"
            "    return 'Gone', 410\n",
            lines=(10, 11),
        ),
        Example(
            "from fastapi import FastAPI, HTTPException\n"
            "from fastapi.responses import JSONResponse\n"
            "app = FastAPI()\n"
            "@app.get('/items/{item_id}')\n"
            "def item(item_id: int):\n"
            "    if item_id < 0:\n"
            "        raise HTTPException(status_code=400, detail='bad id')\n"
            "    if item_id == 0:\n"
            "        raise HTTPException(status_code=404, detail='not found')\n"
            "    return JSONResponse(status_code=409, content={'error': 'conflict'})\n",
            lines=(10,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if ctx.in_test_file:
            return
        responses = _error_responses(ctx.tree)
        if not responses:
            return
        counts = Counter(dict(ctx.project.error_shapes)) or Counter(shape for _, shape in responses)
        ranked = counts.most_common(2)
        dominant, top = ranked[0]
        # Only a clear majority defines the app's shape; a tie says nothing.
        if top < 2 or (len(ranked) > 1 and ranked[1][1] == top):
            return
        for line, shape in responses:
            if shape != dominant:
                yield self.finding(ctx, line, f"error body shaped '{shape}', the app's errors are shaped '{dominant}'")


def error_shape_counts(tree: ast.Module) -> dict[str, int]:
    """How many error responses of each shape ``tree`` holds (for ``ProjectFacts.error_shapes``)."""
    return dict(Counter(shape for _, shape in _error_responses(tree)))


_RESPONSES = "_workbench_error_responses"  # the attribute of a tree holding its _error_responses


def _error_responses(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, shape) of the tree's error responses, in walk order; found once per tree and kept on
    it: the map's facts stage asks (error_shape_counts) and the rule again."""
    found = tree.__dict__.get(_RESPONSES)
    if found is None:
        found = list(_find_error_responses(tree))
        setattr(tree, _RESPONSES, found)
    return found


def _find_error_responses(tree: ast.Module) -> Iterable[tuple[int, str]]:
    for node in nodes_of(tree, ast.Return, ast.Raise):
        if isinstance(node, ast.Return) and node.value is not None:
            found = _response_shape(node.value)
            if found:
                yield node.lineno, found
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and last_name(node.exc.func) == "HTTPException":
            status = keyword(node.exc, "status_code") or (node.exc.args[0] if node.exc.args else None)
            if _error_status(status):
                detail = keyword(node.exc, "detail") or (node.exc.args[1] if len(node.exc.args) > 1 else None)
                shape = _body_shape(detail) if isinstance(detail, ast.Dict) else "detail"
                if shape:
                    yield node.lineno, shape


def _response_shape(value: ast.AST) -> str | None:
    if isinstance(value, ast.Tuple) and len(value.elts) >= 2 and _error_status(value.elts[1]):
        return _body_shape(value.elts[0])
    if isinstance(value, ast.Call):
        name = last_name(value.func)
        if name == "make_response" and len(value.args) >= 2 and _error_status(value.args[1]):
            return _body_shape(value.args[0])
        if name.endswith("JSONResponse") and _error_status(keyword(value, "status_code")):
            content = keyword(value, "content") or (value.args[0] if value.args else None)
            return _body_shape(content)
    return None


def _error_status(node: ast.AST | None) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return 400 <= node.value <= 599
    if isinstance(node, ast.Attribute):  # status.HTTP_404_NOT_FOUND, HTTPStatus.NOT_FOUND
        return node.attr.startswith(("HTTP_4", "HTTP_5")) or node.attr in ("NOT_FOUND", "BAD_REQUEST", "FORBIDDEN",
                                                                           "UNAUTHORIZED", "INTERNAL_SERVER_ERROR")
    return False


def _body_shape(body: ast.AST | None) -> str | None:
    """The name of a body's shape: its message key (``success+error`` for an envelope), ``text``, or None."""
    if body is None:
        return None
    if isinstance(body, ast.Call) and last_name(body.func) in ("jsonify", "dict", "json_response"):
        keys = [k.arg for k in body.keywords if k.arg]
        if body.args and isinstance(body.args[0], ast.Dict):
            keys += [str_value(k) or "" for k in body.args[0].keys]
        elif body.args:
            return None
    elif isinstance(body, ast.Dict):
        keys = [str_value(k) or "" for k in body.keys]
    elif str_value(body) is not None or isinstance(body, ast.JoinedStr):
        return "text"
    else:
        return None
    message = next((k for k in MESSAGE_KEYS if k in keys), None)
    if message is None:
        return None
    return f"success+{message}" if "success" in keys or "ok" in keys else message
