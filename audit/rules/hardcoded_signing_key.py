"""WB302 hardcoded-signing-key: a literal key passed to a token, HMAC or cipher call."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._secret_names import is_secret_value
from ._syntax import call_qualname, import_aliases, keyword, mentions, str_value

# call -> index of the key argument (and its keyword name)
KEYED_CALLS = {
    "jwt.encode": (1, "key"), "jwt.decode": (1, "key"), "jose.jwt.encode": (1, "key"), "jose.jwt.decode": (1, "key"),
    "hmac.new": (0, "key"), "hmac.HMAC": (0, "key"), "cryptography.fernet.Fernet": (0, "key"),
    "itsdangerous.URLSafeTimedSerializer": (0, "secret_key"), "itsdangerous.URLSafeSerializer": (0, "secret_key"),
    "itsdangerous.TimedSerializer": (0, "secret_key"), "itsdangerous.Serializer": (0, "secret_key"),
    "Crypto.Cipher.AES.new": (0, "key"),
}
# The last parts of those names: a call names one only if written with one, or through an import alias.
_LAST_PARTS = frozenset(q.rpartition(".")[2] for q in KEYED_CALLS)


class HardcodedSigningKey(Rule):
    """Flags a literal key given to a token, HMAC, serializer or cipher call.

    ## What it does
    Finds `jwt.encode(payload, "secret")`, `jwt.decode(token, "secret", ...)`,
    `hmac.new(b"key", ...)`, `Fernet(b"...")`, `URLSafeTimedSerializer("secret")` and
    `AES.new(b"...")` whose key is a string or bytes literal.

    ## Why is this bad?
    Whoever reads the code can forge tokens and signatures or decrypt the data.

    ## Example
    ```python
    token = jwt.encode({"sub": str(user.id)}, "super-secret", algorithm="HS256")
    ```

    ## Use instead
    ```python
    token = jwt.encode({"sub": str(user.id)}, os.environ["JWT_SECRET"], algorithm="HS256")
    ```
    """

    id = "WB302"
    name = "hardcoded-signing-key"
    category = Category.HARDCODED_SECRET
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 321
    fixed_by = "require_secrets"

    VALID = (
        Example(
            "import os, jwt\n"
            "def token(user_id):\n"
            "    return jwt.encode({'sub': str(user_id)}, os.environ['JWT_SECRET'], algorithm='HS256')\n"
        ),
        Example(
            "import hmac, hashlib\n"
            "from fastapi import FastAPI\n"
            "from .settings import settings\n"
            "def sign(body: bytes):\n"
            "    return hmac.new(settings.webhook_key.encode(), body, hashlib.sha256).hexdigest()\n"
        ),
    )
    INVALID = (
        Example(
            "import jwt\n"
            "def token(user_id):\n"
            "    return jwt.encode({'sub': str(user_id)}, 'super-secret', algorithm='HS256')\n"
            "def claims(token):\n"
            "    return jwt.decode(token, key='super-secret', algorithms=['HS256'])\n",
            lines=(3, 5),
        ),
        Example(
            "import hmac, hashlib\n"
            "from itsdangerous import URLSafeTimedSerializer\n"
            "serializer = URLSafeTimedSerializer('reset-salt-key')\n"
            "def sign(body: bytes):\n"
            "    return hmac.new(b'webhook-key', body, hashlib.sha256).hexdigest()\n",
            lines=(3, 5),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "jwt", "hmac", "Fernet", "Serializer", "AES", "jose"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        # (the calls that can name one: by their written name, or through an import alias)
        for node in ctx.calls_named(_LAST_PARTS | aliases.keys()):
            qual = call_qualname(node, aliases)
            spec = KEYED_CALLS.get(qual)
            if spec is None:
                continue
            index, name = spec
            key = node.args[index] if len(node.args) > index else keyword(node, name)
            if isinstance(key, ast.Constant) and isinstance(key.value, (str, bytes)):
                text = key.value.decode("latin-1") if isinstance(key.value, bytes) else str_value(key) or ""
                if is_secret_value(text):
                    yield self.finding(ctx, node.lineno, f"literal key passed to {qual}()")
