"""WB104 jwt-verification-disabled: a token decoded without checking its signature."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import call_qualname, import_aliases, is_false, keyword, last_name, mentions, nodes_of, str_value


class JwtVerificationDisabled(Rule):
    """Flags JWT decoding that does not verify the signature.

    ## What it does
    Finds `jwt.decode(...)` (PyJWT, python-jose, authlib style) called with
    `options={"verify_signature": False}`, `verify=False`, or with `"none"` among the
    accepted algorithms; `jwt.get_unverified_claims(...)` (python-jose); and tokens
    decoded by hand (`base64` of `token.split(".")[1]`), which read the claims without any
    signature check.

    ## Why is this bad?
    Anyone can write a token with `"sub": "1"` and become user 1: the identity is taken
    from data the client controls.

    ## Example
    ```python
    claims = jwt.decode(token, options={"verify_signature": False})
    g.user_id = claims["sub"]
    ```

    ## Use instead
    ```python
    claims = jwt.decode(token, os.environ["JWT_SECRET"], algorithms=["HS256"])
    ```
    """

    id = "WB104"
    name = "jwt-verification-disabled"
    category = Category.AUTH_BYPASS
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 347
    fixed_by = "add_authentication"

    VALID = (
        Example(
            "import os\n"
            "import jwt\n"
            "def current_user_id(token):\n"
            "    return jwt.decode(token, os.environ['JWT_SECRET'], algorithms=['HS256'])['sub']\n"
        ),
        Example(
            "from jose import jwt\n"
            "def claims(token, key):\n"
            "    return jwt.decode(token, key, algorithms=['HS256'], options={'verify_aud': False})\n"
        ),
    )
    INVALID = (
        Example(
            "import jwt\n"
            "from flask import request, g\n"
            "def load_user():\n"
            "    token = request.headers.get('Authorization', '').split()[-1]\n"
            "    g.user_id = jwt.decode(token, options={'verify_signature': False})['sub']\n",
            lines=(5,),
        ),
        Example(
            "import jwt as pyjwt\n"
            "def decode(token, key):\n"
            "    return pyjwt.decode(token, key, algorithms=['HS256', 'none'])\n"
            "def decode_old(token, key):\n"
            "    return pyjwt.decode(token, key, verify=False)\n",
            lines=(3, 5),
        ),
        Example(
            "import base64, json\n"
            "from fastapi import Header\n"
            "def get_current_user(authorization: str = Header(...)):\n"
            "    payload = authorization.split()[1].split('.')[1]\n"
            "    return json.loads(base64.urlsafe_b64decode(payload + '=='))\n"
            "def sub(token):\n"
            "    return json.loads(base64.b64decode(token.split('.')[1]))['sub']\n",
            lines=(5, 7),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "jwt", "b64decode", "get_unverified", "jws"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        # Names holding a token's claims segment (`payload = token.split(".")[1]`).
        segments = {
            t.id
            for node in nodes_of(ctx.tree, ast.Assign)
            if isinstance(node, ast.Assign) and _jwt_payload(node.value, set())
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for node in nodes_of(ctx.tree, ast.Call):
            if not isinstance(node, ast.Call):
                continue
            qual = call_qualname(node, aliases)
            if qual.endswith("get_unverified_claims"):
                yield self.finding(ctx, node.lineno, "token claims read without verifying the signature")
            elif qual.endswith(("jwt.decode", "jwt.decode_complete", "jws.verify")) or qual in ("decode_complete",):
                reason = self._unverified(node)
                if reason:
                    yield self.finding(ctx, node.lineno, f"JWT decoded with {reason}")
            elif last_name(node.func) in ("b64decode", "urlsafe_b64decode") and node.args and _jwt_payload(node.args[0], segments):
                yield self.finding(ctx, node.lineno, "JWT payload decoded by hand, signature never checked")

    @staticmethod
    def _unverified(call: ast.Call) -> str | None:
        options = keyword(call, "options")
        if isinstance(options, ast.Dict):
            for k, v in zip(options.keys, options.values):
                if str_value(k) == "verify_signature" and is_false(v):
                    return "signature verification turned off"
        if is_false(keyword(call, "verify")):
            return "verify=False"
        algorithms = keyword(call, "algorithms")
        if isinstance(algorithms, (ast.List, ast.Tuple, ast.Set)):
            if any((str_value(e) or "").lower() == "none" for e in algorithms.elts):
                return 'the "none" algorithm accepted'
        elif (str_value(algorithms) or "").lower() == "none":
            return 'the "none" algorithm accepted'
        return None


def _jwt_payload(node: ast.AST, segments: set[str]) -> bool:
    """``x.split(".")[1]`` (or a name holding it) in ``node``: the claims segment of a JWT."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in segments:
            return True
        if (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.slice, ast.Constant)
            and sub.slice.value == 1
            and isinstance(sub.value, ast.Call)
            and last_name(sub.value.func) == "split"
            and sub.value.args
            and str_value(sub.value.args[0]) == "."
        ):
            return True
    return False
