"""WB312 tls-verification-disabled: outbound TLS without certificate checks."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import call_qualname, import_aliases, is_false, last_name, mentions, nodes_of

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "send",
                          "Client", "AsyncClient", "Session", "ClientSession", "TCPConnector", "urlopen", "PoolManager",
                          "ws_connect", "connect"})


class TlsVerificationDisabled(Rule):
    """Flags outbound connections with TLS certificate verification turned off.

    ## What it does
    Finds `verify=False` on requests/httpx calls and clients, `ssl=False` /
    `verify_ssl=False` on aiohttp, `session.verify = False`, `cert_reqs="CERT_NONE"`,
    `ssl._create_unverified_context()`, `check_hostname = False` and
    `verify_mode = ssl.CERT_NONE`. bandit's B501 (requests `verify=False`), B323
    (unverified context) and B502-B504 (old TLS versions) map onto this category too.

    ## Why is this bad?
    Anyone on the path can impersonate the remote server and read or change the traffic,
    credentials included.

    ## Example
    ```python
    resp = requests.get(url, timeout=5, verify=False)
    ```

    ## Use instead
    ```python
    resp = requests.get(url, timeout=5)  # or verify="/path/to/internal-ca.pem"
    ```
    """

    id = "WB312"
    name = "tls-verification-disabled"
    category = Category.INSECURE_CONFIG
    severity = Severity.HIGH
    confidence = Severity.HIGH
    cwe = 295
    fixed_by = None

    VALID = (
        Example(
            "import requests\n"
            "def fetch(url):\n"
            "    return requests.get(url, timeout=5, verify='/etc/ssl/internal-ca.pem')\n"
        ),
        Example(
            "import httpx\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "client = httpx.AsyncClient(timeout=5)\n"
            "def check(token, verify=False):\n"
            "    return token\n"
        ),
    )
    INVALID = (
        Example(
            "import requests, ssl\n"
            "def fetch(url):\n"
            "    s = requests.Session()\n"
            "    s.verify = False\n"
            "    ctx = ssl._create_unverified_context()\n"
            "    return requests.get(url, timeout=5, verify=False)\n",
            lines=(4, 5, 6),
        ),
        Example(
            "import httpx, aiohttp, ssl\n"
            "client = httpx.AsyncClient(verify=False)\n"
            "async def go(url):\n"
            "    async with aiohttp.ClientSession() as s:\n"
            "        return await s.get(url, ssl=False)\n"
            "ctx = ssl.create_default_context()\n"
            "ctx.check_hostname = False\n"
            "ctx.verify_mode = ssl.CERT_NONE\n",
            lines=(2, 5, 7, 8),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "verify", "ssl", "CERT_NONE", "check_hostname", "cert_reqs", "unverified"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        for node in nodes_of(ctx.tree, ast.Call, ast.Assign):
            if isinstance(node, ast.Call):
                qual = call_qualname(node, aliases)
                if qual.endswith("_create_unverified_context") or qual.endswith("_create_stdlib_context"):
                    yield self.finding(ctx, node.lineno, "unverified TLS context")
                    continue
                if last_name(node.func) not in HTTP_METHODS:
                    continue
                for kw in node.keywords:
                    if kw.arg in ("verify", "ssl", "verify_ssl") and is_false(kw.value):
                        yield self.finding(ctx, kw.value.lineno, f"{kw.arg}=False: certificates not checked")
                    elif kw.arg == "cert_reqs" and "CERT_NONE" in ast.unparse(kw.value):
                        yield self.finding(ctx, kw.value.lineno, "cert_reqs=CERT_NONE: certificates not checked")
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if not isinstance(t, ast.Attribute):
                        continue
                    if t.attr in ("verify", "check_hostname") and is_false(node.value):
                        yield self.finding(ctx, node.lineno, f"{t.attr} = False: certificates not checked")
                    elif t.attr == "verify_mode" and "CERT_NONE" in ast.unparse(node.value):
                        yield self.finding(ctx, node.lineno, "verify_mode = CERT_NONE: certificates not checked")
