"""WB210 ssrf-request-url: an outbound request to a URL taken from the client's request."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._request_data import RequestData
from ._syntax import (body_walk, call_qualname, dotted, functions, import_aliases, is_handler, keyword, last_name,
                      mentions, names_in, nodes_of, own_nodes)

# Outbound HTTP clients: module-level functions and methods of their client/session objects.
CLIENT_MODULES = ("requests", "httpx", "urllib.request", "urllib3", "aiohttp", "pycurl", "http.client")
METHOD_NAMES = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream",
                          "urlopen", "fetch", "send", "open", "urlretrieve"})
# Receivers of those methods that are HTTP clients (requests.Session(), httpx.AsyncClient(), aiohttp session...).
CLIENT_RECEIVER = re.compile(r"^(requests|httpx|urllib3|aiohttp|urllib\.request)$|(^|_)(https?|httpx|http_?client|"
                             r"web_?client|api_?client|rest_?client|http_?session)$|^(client|session|sess|s)$", re.I)
# Receivers that talk to a database or cache, whatever they are called.
NOT_HTTP_RECEIVER = re.compile(r"db|sql|orm|redis|cache|mongo|cursor|conn|repo|store|storage|query|model", re.I)
# A check that the URL goes only where it may: allow-list, private-address test, a named guard.
URL_GUARD = re.compile(r"(allow|safe|valid|verify|check|guard|whitelist|permit|trusted|block|deny|public)\w*"
                       r"(url|host|domain|address|ip|target|destination|netloc)|is_private|is_loopback|is_reserved|"
                       r"is_link_local|ip_address|ALLOWED_(HOSTS|DOMAINS|URLS)|allow_?list", re.I)


class SsrfRequestUrl(Rule):
    """Flags an outbound HTTP request whose URL comes from request data without a check.

    ## What it does
    Follows request data (JSON body, form, query string, headers, FastAPI/Flask route
    parameters) through assignments, f-strings, concatenation and `.get()` inside a function,
    and flags a `requests` / `httpx` / `urllib` / `aiohttp` call (module functions or client
    and session methods) whose URL carries it, unless the function checks the URL first: an
    allow-list comparison of the host, a private/loopback address test (`ipaddress`), or a
    call to a guard named for it (`is_safe_url(url)`, `validate_url(url)`).

    ## Why is this bad?
    The server becomes a proxy into its own network: cloud metadata endpoints
    (`169.254.169.254`), admin interfaces on localhost, internal services.

    ## Example
    ```python
    @app.post("/api/preview")
    def preview():
        url = request.json["url"]
        return requests.get(url, timeout=5).text
    ```

    ## Use instead
    ```python
    @app.post("/api/preview")
    def preview():
        url = request.json["url"]
        if not is_public_http_url(url):  # scheme http(s), resolved address not private
            abort(400)
        return requests.get(url, timeout=5).text
    ```
    """

    id = "WB210"
    name = "ssrf-request-url"
    category = Category.SSRF
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 918
    fixed_by = "guard_outbound_urls"

    VALID = (
        Example(
            "import requests\n"
            "from flask import Flask, request, abort\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/preview', methods=['POST'])\n"
            "def preview():\n"
            "    url = request.json['url']\n"
            "    if not is_safe_url(url):\n"
            "        abort(400)\n"
            "    return requests.get(url, timeout=5).text\n"
            "\n"
            "@app.route('/api/weather')\n"
            "def weather():\n"
            "    city = request.args.get('city')\n"
            "    return requests.get('https://api.weather.example/v1', params={'q': city}).json()\n"
        ),
        Example(
            "import httpx\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/status')\n"
            "async def status():\n"
            "    async with httpx.AsyncClient() as client:\n"
            "        return (await client.get('https://status.example.com')).json()\n"
        ),
    )
    INVALID = (
        Example(
            "import requests\n"
            "import urllib.request\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "\n"
            "@app.route('/api/fetch', methods=['POST'])\n"
            "def fetch():\n"
            "    data = request.get_json() or {}\n"
            "    target = data.get('url')\n"
            "    r = requests.get(target, timeout=5)\n"
            "    page = urllib.request.urlopen(f\"{request.args['base']}/index.html\").read()\n"
            "    return {'status': r.status_code, 'page': page.decode()}\n",
            lines=(10, 11),
        ),
        Example(
            "import httpx\n"
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/proxy')\n"
            "async def proxy(url: str):\n"
            "    async with httpx.AsyncClient() as client:\n"
            "        resp = await client.get(url)\n"
            "    return resp.json()\n",
            lines=(8,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "httpx" and "aiohttp" contain "http")
        if not mentions(ctx, "requests", "urllib", "urlopen", "pycurl", "http", "client", "session", "Session", "Client"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        clients = _client_names(ctx.tree, aliases)
        # The file's outbound calls first (_is_outbound accepts only these called names), and their
        # lines: most functions make none, and need no request-data analysis.
        outbound_calls = {id(node): node.lineno for node in ctx.calls_named(METHOD_NAMES)
                          if _is_outbound(node, aliases, clients)}
        if not outbound_calls:
            return
        lines = sorted(outbound_calls.values())
        for fn in functions(ctx.tree):
            end = fn.end_lineno
            if end is not None and bisect_right(lines, end) == bisect_left(lines, fn.lineno):
                continue
            outbound = [node for node in own_nodes(fn) if node.__class__ is ast.Call and id(node) in outbound_calls]
            if not outbound:
                continue
            data = RequestData.of(ctx, fn, follow_returning=True)
            if not data.tainted and not data.reads_request():
                continue
            guarded = _guarded(fn)
            for node in outbound:
                url = node.args[0] if node.args else keyword(node, "url")
                if isinstance(node.func, ast.Attribute) and node.func.attr == "request" and len(node.args) > 1:
                    url = node.args[1]  # session.request("GET", url)
                if url is not None and data.is_tainted(url) and not (guarded & names_in(url)):
                    yield self.finding(ctx, node.lineno, f"outbound request to a client-chosen URL: {ast.unparse(url)}")


def _client_names(tree: ast.Module, aliases: dict[str, str]) -> set[str]:
    """Local names bound to HTTP client objects (``s = requests.Session()``, ``async with httpx.AsyncClient() as c``)."""
    names: set[str] = set()
    for node in nodes_of(tree, ast.Assign, ast.withitem):
        value, targets = None, []
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            value, targets = node.context_expr, [node.optional_vars]
        if isinstance(value, ast.Call) and call_qualname(value, aliases).startswith(CLIENT_MODULES):
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            names.update(t.attr for t in targets if isinstance(t, ast.Attribute))
    return names


def _is_outbound(call: ast.Call, aliases: dict[str, str], clients: set[str]) -> bool:
    method = last_name(call.func)
    if method not in METHOD_NAMES:
        return False
    qual = call_qualname(call, aliases)
    if qual.startswith(CLIENT_MODULES):
        return True
    if isinstance(call.func, ast.Attribute):
        receiver = call.func.value
        if isinstance(receiver, ast.Call):  # requests.Session().get(url)
            return call_qualname(receiver, aliases).startswith(CLIENT_MODULES)
        rname = dotted(receiver) or ast.unparse(receiver)  # (a dotted name unparses to itself)
        if rname in clients or rname.split(".")[-1] in clients:
            return True
        return bool(CLIENT_RECEIVER.search(rname)) and not NOT_HTTP_RECEIVER.search(rname)
    return False


def _guarded(fn) -> set[str]:
    """Names that the function passes through a URL check."""
    guarded: set[str] = set()
    for node in body_walk(fn):
        if isinstance(node, ast.Call) and URL_GUARD.search(ast.unparse(node.func)):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                guarded |= names_in(arg)
        elif isinstance(node, ast.Compare) and any(isinstance(o, (ast.In, ast.NotIn)) for o in node.ops):
            if any(URL_GUARD.search(ast.unparse(c)) or re.search(r"ALLOW|WHITELIST|TRUSTED", ast.unparse(c), re.I)
                   for c in node.comparators):
                guarded |= names_in(node.left)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and URL_GUARD.search(
                ast.unparse(node.value.func)):
            guarded |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    # A host/netloc checked after parsing the URL guards the URL it came from.
    for node in body_walk(fn):
        if isinstance(node, ast.Assign) and guarded & {t.id for t in node.targets if isinstance(t, ast.Name)}:
            guarded |= names_in(node.value)
    return guarded
