"""WB501 fast-password-hash: a password hashed with md5/sha1/sha256 (fast, often unsalted)."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._passwords import password_names
from ._syntax import call_qualname, enclosing_functions, import_aliases, last_name, mentions, str_value

FAST_HASHES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512",
                         "blake2b", "blake2s"})
# The called names a fast hash can be reached by (``hashlib.md5(...)``, ``hashlib.new("md5", ...)``).
_CALLED_NAMES = FAST_HASHES | {"new"}
PASSWORD_FUNCTION = re.compile(r"pass(word)?|pwd|credential", re.I)


class FastPasswordHash(Rule):
    """Flags passwords hashed with a fast general-purpose hash.

    ## What it does
    Finds `hashlib.md5/sha1/sha256/...` (or `hashlib.new("md5", ...)`) applied to a
    password-named value, or used inside a function whose name says it handles passwords
    (`hash_password`, `set_password`, `check_pwd`). bandit's B303/B324 (md5/sha1 anywhere)
    map onto this category only when the flagged line mentions a password; elsewhere (etags,
    cache keys) they are `other`.

    ## Why is this bad?
    A GPU tries billions of md5/sha256 guesses per second; without a per-user salt one
    precomputed table cracks every account at once.

    ## Example
    ```python
    def hash_password(password):
        return hashlib.md5(password.encode()).hexdigest()
    ```

    ## Use instead
    ```python
    from werkzeug.security import generate_password_hash
    def hash_password(password):
        return generate_password_hash(password)  # salted scrypt/pbkdf2
    ```
    """

    id = "WB501"
    name = "fast-password-hash"
    category = Category.WEAK_PASSWORD
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 916
    fixed_by = "harden_passwords"

    VALID = (
        Example(
            "import hashlib\n"
            "from werkzeug.security import generate_password_hash\n"
            "def hash_password(password):\n"
            "    return generate_password_hash(password)\n"
            "def etag(body: bytes):\n"
            "    return hashlib.md5(body).hexdigest()\n"
            "def derive(password, salt):\n"
            "    return hashlib.pbkdf2_hmac('sha256', password.encode(), salt, 600_000)\n"
        ),
        Example(
            "import hashlib\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "@app.get('/files/{name}')\n"
            "def checksum(name: str):\n"
            "    return {'sha256': hashlib.sha256(name.encode()).hexdigest()}\n"
        ),
    )
    INVALID = (
        Example(
            "import hashlib\n"
            "from hashlib import sha1\n"
            "def hash_password(raw):\n"
            "    return hashlib.md5(raw.encode('utf-8')).hexdigest()\n"
            "def store(user, data):\n"
            "    user.pw = sha1(data['password'].encode()).hexdigest()\n"
            "    user.alt = hashlib.new('sha256', data['password'].encode()).hexdigest()\n",
            lines=(4, 6, 7),
        ),
        Example(
            "import hashlib\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "@app.post('/register')\n"
            "def register(username: str, password: str):\n"
            "    digest = hashlib.sha256(password.encode()).hexdigest()\n"
            "    return {'user': username}\n",
            lines=(6,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "sha384" contains "sha3")
        if not mentions(ctx, "hashlib", "md5", "sha1", "sha2", "sha3", "sha5", "blake", "Crypto", "cryptography"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        owner: dict[int, ast.AST] | None = None  # found when a hashing call first needs it
        # (_fast_algorithm accepts only these called names)
        for node in ctx.calls_named(_CALLED_NAMES):
            algo = _fast_algorithm(node, aliases)
            if algo is None:
                continue
            about_password = any(password_names(a) for a in node.args)
            if not about_password:
                if owner is None:
                    owner = enclosing_functions(ctx.tree)
                fn = owner.get(id(node))
                about_password = fn is not None and PASSWORD_FUNCTION.search(fn.name) and node.args
            if about_password:
                yield self.finding(ctx, node.lineno, f"password hashed with {algo}, a fast unsalted hash")


def _fast_algorithm(call: ast.Call, aliases: dict[str, str]) -> str | None:
    qual = call_qualname(call, aliases)
    name = last_name(call.func)
    if qual.startswith(("hashlib.", "Crypto.Hash.", "cryptography")) or qual in FAST_HASHES:
        if name in FAST_HASHES:
            return name
        if name == "new" and call.args and (str_value(call.args[0]) or "").lower().replace("-", "") in FAST_HASHES:
            return str_value(call.args[0])
    return None
