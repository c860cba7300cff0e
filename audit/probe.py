"""What a built app really serves, and how each route answers: the part of ``verify``
that runs inside the app's own process.

``workbench verify`` never imports the audited app into the workbench process; it
starts ``python -m audit.probe`` in a subprocess, which builds the app, fills its
database with the app's own seed (:func:`seed_app`), lists its routes from the
framework's own tables (Flask ``url_map``, FastAPI ``app.routes``), probes each one with
the framework's test client (:class:`Prober`; outbound connections and name lookups
fail, ``app.run()`` does nothing) and writes one JSON document to ``--result``.
:func:`served_routes` is also what the fixture tests use to compare an EXPECTED.yml
with the real app.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import inspect
import io
import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

__all__ = ["LiveRoute", "NoAnswer", "Prober", "Request", "build_app", "fill_path", "import_modules", "import_target",
           "is_envelope", "main", "make_token", "probe_app", "seed_app", "served_routes"]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SECURITY_HEADERS = {
    "csp": "Content-Security-Policy",
    "hsts": "Strict-Transport-Security",
    "nosniff": "X-Content-Type-Options",
}
TIMING_HEADERS = ("Server-Timing", "X-Response-Time")


@dataclass
class LiveRoute:
    """One (method, path) the built app serves, with where its handler is defined."""

    method: str
    path: str
    file: str  # relative to the app folder, forward slashes
    line: int  # the handler's ``def`` line
    handler: str  # function name, or ``Class.method`` for class-based views
    framework: str
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> converter/type
    view: Any = field(default=None, repr=False, compare=False)  # the handler function (not serialised)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: dict(v) if isinstance(v := getattr(self, f.name), dict) else v
                for f in fields(self) if f.name != "view"}


def import_target(app_dir: Path, factory: str) -> tuple[str, str, Path]:
    """Split ``module:attr`` and say which folder goes on ``sys.path``.

    A package app (``APP/__init__.py``) is imported as a package from APP's parent;
    its factory's first module component is the package, renamed to APP's folder
    name (a migrated copy keeps working under its new name). A flat app is imported
    with APP itself on ``sys.path``.
    """
    module, sep, attr = factory.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"--factory {factory!r}: expected module:function or module:app")
    if (app_dir / "__init__.py").exists():
        _head, dot, rest = module.partition(".")
        return f"{app_dir.name}{dot}{rest}", attr, app_dir.parent
    return module, attr, app_dir


def build_app(app_dir: Path, factory: str) -> Any:
    """Import the factory's module and return the app (calling the factory if it is one)."""
    module_name, attr, path_entry = import_target(app_dir, factory)
    if str(path_entry) not in sys.path:
        sys.path.insert(0, str(path_entry))
    module = importlib.import_module(module_name)
    try:
        target = getattr(module, attr)
    except AttributeError:
        raise ValueError(f"{module_name} has no attribute {attr!r}") from None
    if _framework(target):
        return target
    if callable(target):
        return target()
    raise ValueError(f"{factory} is neither an app nor a function returning one")


def _framework(app: Any) -> str | None:
    kinds = {type_.__module__.split(".")[0] for type_ in type(app).__mro__}
    if "flask" in kinds and hasattr(app, "url_map"):
        return "flask"
    if ("fastapi" in kinds or "starlette" in kinds) and hasattr(app, "routes"):
        return "fastapi"
    return None


def served_routes(app: Any, app_dir: str | Path) -> list[LiveRoute]:
    """The routes whose handlers live under ``app_dir`` (static files, HEAD, OPTIONS and
    framework-generated pages such as FastAPI's /docs are left out), sorted by path and method."""
    app_dir = Path(app_dir).resolve()
    framework = _framework(app)
    if framework == "flask":
        routes = list(_flask_routes(app, app_dir))
    elif framework == "fastapi":
        routes = list(_fastapi_routes(app, app_dir))
    else:
        raise ValueError(f"not a Flask or FastAPI app: {type(app).__name__}")
    return sorted(routes, key=lambda r: (r.path, HTTP_METHODS.index(r.method) if r.method in HTTP_METHODS else 9))


def _flask_routes(app: Any, app_dir: Path) -> Iterator[LiveRoute]:
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None:
            continue
        params = {name: type(conv).__name__.removesuffix("Converter").lower() or "string"
                  for name, conv in rule._converters.items()}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            located = _locate(view, method, app_dir)
            if located:
                file, line, handler, func = located
                yield LiveRoute(method, rule.rule, file, line, handler, "flask", params, view=func)


def _fastapi_routes(app: Any, app_dir: Path) -> Iterator[LiveRoute]:
    for path, methods, endpoint in _fastapi_endpoints(app):
        if not methods or endpoint is None:
            continue  # mounts, websockets
        params = _fastapi_path_params(path, endpoint)
        for method in sorted(set(methods) - {"HEAD", "OPTIONS"}):
            located = _locate(endpoint, method, app_dir)
            if located:
                file, line, handler, func = located
                yield LiveRoute(method, path, file, line, handler, "fastapi", params, view=func)


def _fastapi_endpoints(app: Any) -> Iterator[tuple[str, set[str], Any]]:
    """(path, methods, endpoint) of every route, included routers flattened.

    Recent FastAPI keeps included routers as lazy nodes and offers
    ``fastapi.routing.iter_route_contexts`` to walk them; older versions copy
    every route into ``app.routes``.
    """
    from fastapi import routing

    walk = getattr(routing, "iter_route_contexts", None)
    items = walk(app.routes) if walk else app.routes
    for item in items:
        path = getattr(item, "path", None)
        if path is not None:
            yield path, set(getattr(item, "methods", None) or ()), getattr(item, "endpoint", None)


def _fastapi_path_params(path: str, endpoint: Any) -> dict[str, str]:
    try:
        hints = inspect.signature(endpoint).parameters
    except (TypeError, ValueError):
        hints = {}
    params = {}
    for name in re.findall(r"{([^}:]+)(?::[^}]*)?}", path):
        annotation = hints[name].annotation if name in hints else str
        params[name] = getattr(annotation, "__name__", "str") if annotation is not inspect.Parameter.empty else "str"
    return params


def _locate(view: Any, method: str, app_dir: Path) -> tuple[str, int, str, Any] | None:
    """(file, def line, handler name, function) of the code serving ``method``; None outside app_dir."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        func = getattr(view_class, method.lower(), None)
        if func is None and method == "HEAD":
            func = getattr(view_class, "get", None)
        if func is None:  # a View with dispatch_request
            func = getattr(view_class, "dispatch_request")
        name_prefix = view_class.__name__ + "."
    else:
        func, name_prefix = view, ""
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    path = Path(code.co_filename).resolve()
    if not path.is_relative_to(app_dir):
        return None
    line = _def_line(str(path), code.co_firstlineno, func.__name__)
    return path.relative_to(app_dir).as_posix(), line, name_prefix + func.__name__, func


def _def_line(filename: str, first_line: int, name: str) -> int:
    """The ``def`` line of the function whose code starts at ``first_line`` (its first decorator)."""
    for node in _functions(filename):
        if node.name == name and first_line in (node.lineno, *(d.lineno for d in node.decorator_list[:1])):
            return node.lineno
    return first_line


@lru_cache(maxsize=256)
def _functions(filename: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, ...]:
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"), filename)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ()
    return tuple(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


# ---------------------------------------------------------------------------
# Probing (only ever runs inside the subprocess started by audit.verify)

SAMPLE_VALUES = {"int": "1", "integer": "1", "float": "1.5", "uuid": "00000000-0000-4000-8000-000000000001",
                 "path": "sample/file.txt", "any": "sample"}
# Path parameters that name another user: the probe acts on user 2 while logged in as user 1,
# so that "ban user", "follow user" or "delete user" never act on the probe's own identity.
_OTHER_USER = re.compile(r"(?i)(^|_)(user|member|other|recipient|friend|follow\w*|target|account|uid)(_?id)?$")
_LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Exception:", "Error:")
_BODY_METHODS = ("POST", "PUT", "PATCH")
_SAFE_METHODS = ("GET",)
PROBE_SUB = "1"  # the token's user: the first row a seed creates
REPEATS = 20  # calls per route for the latency figures
RETIME_CALLS = 20  # more calls for a route whose p95 is over the budget, before it is judged
RATE_LIMIT_ATTEMPTS = 120  # calls to a sensitive route before concluding it has no limit
PHASES = ("credentials", "inputs", "valid", "rate_limit")  # what Prober.run does, in this order
REQUEST_TIMEOUT = 10.0  # seconds one request may take before the probe gives up on it and goes on


def fill_path(path: str, params: dict[str, str], row_id: str | None = None) -> str:
    """``/items/<int:item_id>`` -> ``/items/1``: sample values that the converters accept.

    Numeric parameters get ``row_id`` (default 1), or 2 when they name another user (the
    probe's token is user 1)."""

    def sample(name: str, kind: str) -> str:
        kind = (params.get(name) or kind or "").lower()
        if kind in ("int", "integer"):
            if row_id is not None:
                return row_id
            return "2" if _OTHER_USER.search(name) else "1"
        return SAMPLE_VALUES.get(kind, "sample")

    path = re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", lambda m: sample(m.group(2), m.group(1) or "string"), path)
    return re.sub(r"{([^}:]+)(?::([^}]*))?}", lambda m: sample(m.group(1), m.group(2) or ""), path)


def make_token(secret: str, sub: str = PROBE_SUB, lifetime: int = 600) -> str:
    """An HS256 bearer token as the contract describes it; a negative ``lifetime`` gives an
    expired one. Each token is unique (``jti``), so an app that revokes one on logout does
    not refuse the next."""
    import jwt

    now = int(time.time())
    claims = {"sub": sub, "iat": min(now, now + lifetime), "exp": now + lifetime, "jti": os.urandom(8).hex()}
    return jwt.encode(claims, secret, algorithm="HS256")


def is_envelope(body: Any) -> bool:
    """Whether a JSON body is the contract's error envelope."""
    return (isinstance(body, dict) and body.get("success") is False and isinstance(body.get("error"), dict)
            and isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str))


def _answer(status: int, headers: Any, text: str, ms: float) -> dict[str, Any]:
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    lower = {k.lower() for k in headers.keys()}
    envelope = is_envelope(body)
    details = body["error"].get("details") if envelope else None
    return {
        "status": status,
        "ms": round(ms, 3),
        "envelope": envelope,
        "code": body["error"]["code"] if envelope else None,
        "details": len(details) if isinstance(details, list) else None,
        "csp": "content-security-policy" in lower,
        "hsts": "strict-transport-security" in lower,
        "nosniff": headers.get("X-Content-Type-Options", "").lower() == "nosniff",
        "response_time": any(h.lower() in lower for h in TIMING_HEADERS),
        "retry_after": headers.get("Retry-After"),
        "leak": status >= 500 and any(marker in text for marker in _LEAK_MARKERS),
    }


@dataclass
class Request:
    """One request of a probe: what is sent (and what the CSV says was sent)."""

    method: str
    url: str
    token: str | None = None  # a bearer token, or None
    json: Any = None
    send_json: bool = False
    query: dict[str, Any] | None = None
    form: dict[str, Any] | None = None
    files: dict[str, tuple[bytes, str, str]] | None = None  # field -> (content, file name, MIME type)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def describe(self) -> str:
        """A short text of what was sent, for routes_verified.csv."""
        parts = [self.method, self.url]
        if self.query:
            parts.append("?" + "&".join(f"{k}={v}" for k, v in self.query.items()))
        if self.send_json:
            parts.append("json=" + json.dumps(self.json, default=str)[:160])
        if self.form is not None:
            parts.append("form=" + json.dumps(self.form, default=str)[:120])
        if self.files:
            parts.append("files=" + ",".join(f"{k}:{v[1]}" for k, v in self.files.items()))
        return " ".join(parts)


class _FlaskCaller:
    def __init__(self, app: Any) -> None:
        app.testing = False  # a crash must answer 500 as it would for a client, not raise here
        app.config["PROPAGATE_EXCEPTIONS"] = False  # even in debug mode
        self.app = app
        self.client = app.test_client()

    def __call__(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": request.headers()}
        if request.query:
            kwargs["query_string"] = request.query
        if request.files is not None or request.form is not None:
            data: dict[str, Any] = dict(request.form or {})
            for name, (content, filename, mime) in (request.files or {}).items():
                data[name] = (io.BytesIO(content), filename, mime)
            kwargs["data"], kwargs["content_type"] = data, "multipart/form-data"
        elif request.send_json:
            kwargs["json"] = request.json
        started = time.perf_counter()
        reply = self.client.open(request.url, method=request.method, **kwargs)
        text = reply.get_data(as_text=True)
        return _answer(reply.status_code, reply.headers, text, (time.perf_counter() - started) * 1000)

    def reset_limits(self) -> None:
        for limiter in list(self.app.extensions.get("limiter", ())):
            try:
                limiter.reset()
            except Exception:  # a storage that cannot be reset: the rate-limit probe says so
                pass

    def close(self) -> None:
        pass


class _StarletteCaller:
    def __init__(self, app: Any) -> None:
        from fastapi.testclient import TestClient

        self.app = app
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()  # runs the app's startup/lifespan handlers

    def __call__(self, request: Request) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": request.headers()}
        if request.query:
            kwargs["params"] = request.query
        if request.files is not None or request.form is not None:
            kwargs["data"] = request.form or {}
            kwargs["files"] = {k: (v[1], v[0], v[2]) for k, v in (request.files or {}).items()}
        elif request.send_json:
            kwargs["json"] = request.json
        started = time.perf_counter()
        reply = self.client.request(request.method, request.url, **kwargs)
        return _answer(reply.status_code, reply.headers, reply.text, (time.perf_counter() - started) * 1000)

    def reset_limits(self) -> None:
        limiter = getattr(getattr(self.app, "state", None), "limiter", None)
        if limiter is not None and hasattr(limiter, "reset"):
            try:
                limiter.reset()
            except Exception:
                pass

    def close(self) -> None:
        self.client.__exit__(None, None, None)


class NoAnswer(BaseException):
    """A request got no answer in time. A BaseException, so that the app's own
    ``except Exception`` and error handlers do not swallow it."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM; a no-op where there is none)."""
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise NoAnswer()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


class Prober:
    """Calls every route of a built app the ways ``verify`` checks, and keeps the answers.

    Phases, in an order that keeps the probe's own identity and rows alive as long as
    possible (reads first, deletions last): credentials (none, valid, forged, expired);
    input (empty and wrongly typed request, valid token); a valid request built from the
    handler's schema, timed over ``repeats`` calls; then the sensitive routes' rate limits.
    """

    def __init__(self, app: Any, app_dir: Path, secret: str, *, sensitive: Iterable[tuple[str, str]] = (),
                 repeats: int = REPEATS, rate_attempts: int = RATE_LIMIT_ATTEMPTS,
                 request_timeout: float = REQUEST_TIMEOUT, phases: Iterable[str] = PHASES,
                 latency_budget_ms: float | None = None) -> None:
        self.app, self.app_dir, self.secret = app, app_dir, secret
        self.phases = set(phases)
        self.request_timeout = request_timeout
        self.framework = _framework(app)
        self.sensitive = set(sensitive)
        self.repeats, self.rate_attempts = max(1, repeats), rate_attempts
        self.latency_budget_ms = latency_budget_ms
        self.sub = PROBE_SUB
        self.identity_events: list[str] = []
        self.canary: Request | None = None  # a GET that accepted the valid token
        self.call = _FlaskCaller(app) if self.framework == "flask" else _StarletteCaller(app)

    def token(self) -> str:
        return make_token(self.secret, self.sub)

    def send(self, request: Request, *, keep_limits: bool = False, check_identity: bool = True) -> dict[str, Any]:
        if not keep_limits:
            self.call.reset_limits()  # the other probes are not about limits
        blocked = BLOCKED_CONNECTIONS[0]
        try:
            with _deadline(self.request_timeout):
                answer = self.call(request)
        except NoAnswer:
            answer = {"status": 0, "error": f"no answer within {self.request_timeout:g}s (the handler hangs)"}
        except Exception as exc:  # the test client itself failed: report, go on
            answer = {"status": 0, "error": f"{type(exc).__name__}: {exc}"}
        answer["sent"] = request.describe()
        answer["network_blocked"] = BLOCKED_CONNECTIONS[0] > blocked
        if request.method != "GET" and request.token and self.canary is not None and check_identity \
                and 200 <= answer.get("status", 0) < 400:  # only a request that did something can lose the user
            self._check_identity(request)
        return answer

    def _check_identity(self, after: Request) -> None:
        """A request that bans, deletes or demotes the probe's own user would make every
        later probe fail for the wrong reason: switch to the next user and say why."""
        try:
            status = self.call(Request(self.canary.method, self.canary.url, self.token()))["status"]
        except Exception:
            return
        if status in (401, 403) and self.sub.isdigit() and int(self.sub) < 5:
            self.identity_events.append(f"{after.method} {after.url} made the token of user {self.sub} invalid; "
                                        f"later probes use user {int(self.sub) + 1}")
            self.sub = str(int(self.sub) + 1)

    def run(self) -> list[dict[str, Any]]:
        from .probe_requests import handler_inputs

        routes = served_routes(self.app, self.app_dir)
        # reads first, deletions last: what a probe creates or deletes changes the next one's answer
        order = sorted(routes, key=lambda r: ({"GET": 0, "DELETE": 2}.get(r.method, 1), r.path))
        rows = {id(r): r.to_dict() | {"url": fill_path(r.path, r.params)} for r in routes}
        inputs = {id(r): handler_inputs(r.view, r.framework) for r in routes}
        try:
            for route in order:
                self._credentials(route, rows[id(route)])
            for route in order:
                rows[id(route)]["reads"] = inputs[id(route)].describe()
                if "inputs" in self.phases:
                    self._inputs(route, rows[id(route)], inputs[id(route)])
            for route in order:
                if "valid" in self.phases:
                    self._valid(route, rows[id(route)], inputs[id(route)])
            for route in order:
                if "rate_limit" in self.phases and (route.method, _key_path(route.path)) in self.sensitive:
                    self._rate_limit(route, rows[id(route)])
        finally:
            self.call.close()
        return [rows[id(r)] for r in routes]

    def _credentials(self, route: LiveRoute, row: dict[str, Any]) -> None:
        body = route.method in _BODY_METHODS
        tokens = {
            "none": None,
            "valid": self.token(),
            "forged": make_token(self.secret + "-forged-" + os.urandom(8).hex(), self.sub),
            "expired": make_token(self.secret, self.sub, lifetime=-3600),
        }
        for name, token in tokens.items():
            row[name] = self.send(Request(route.method, row["url"], token, json={}, send_json=body))
        if route.method == "GET" and self.canary is None and 200 <= row["valid"]["status"] < 300 \
                and row["none"]["status"] in (401, 403):
            self.canary = Request("GET", row["url"])

    def _inputs(self, route: LiveRoute, row: dict[str, Any], found: Any) -> None:
        from .probe_requests import required_fields, wrong_payload

        if not found.reads:
            return
        row["requires"] = []
        for source in ("json", "form", "query"):
            if source in found.sources:
                row["requires"] += required_fields(found.schema(source))
        row["schema_known"] = any(s in found.models for s in found.sources - {"files"})
        url = row["url"]
        if "json" in found.sources or "form" in found.sources or "files" in found.sources:
            if "json" in found.sources:
                empty = Request(route.method, url, self.token(), json={}, send_json=True)
                wrong_body = wrong_payload(found.schema("json"))
                wrong = Request(route.method, url, self.token(), json=wrong_body, send_json=True)
            else:
                empty = Request(route.method, url, self.token(), form={})
                wrong_form = wrong_payload(found.schema("form"), for_query=True)
                wrong = Request(route.method, url, self.token(), form=wrong_form) if wrong_form else None
        else:
            empty = Request(route.method, url, self.token(), query={})
            wrong_query = wrong_payload(found.schema("query"), for_query=True)
            wrong = Request(route.method, url, self.token(), query=wrong_query) if wrong_query else None
        row["empty"] = self.send(empty)
        if wrong is not None:
            row["wrong"] = self.send(wrong)

    def _valid_request(self, route: LiveRoute, url: str, found: Any) -> Request:
        from .probe_requests import PNG_BYTES, valid_data

        def valid(source: str) -> dict[str, Any] | None:
            model = found.models.get(source)
            schema = found.schema(source)
            return valid_data(model, schema) if model is not None and schema is not None else None

        request = Request(route.method, url, self.token())
        if "query" in found.sources:
            data = valid("query")
            request.query = {k: v for k, v in data.items() if v is not None} if data is not None else None
        if "files" in found.sources or "form" in found.sources:
            data = valid("form")
            request.form = {k: str(v) for k, v in data.items() if v is not None} if data is not None else {}
            if "files" in found.sources:
                request.files = {name: (PNG_BYTES, "probe.png", "image/png") for name in found.file_fields}
        elif "json" in found.sources or route.method in _BODY_METHODS:
            data = valid("json")
            request.json, request.send_json = (data if data is not None else {}), True
        return request

    def _valid(self, route: LiveRoute, row: dict[str, Any], found: Any) -> None:
        """A request the handler's schema accepts, with a valid token: it should succeed.
        A refusal (403/404) for the sample row is retried once with row 2."""
        attempts = [fill_path(route.path, route.params)]
        if any(kind in ("int", "integer") for kind in route.params.values()):
            attempts.append(fill_path(route.path, route.params, row_id="2"))
        answer: dict[str, Any] = {}
        for url in attempts:
            request = self._valid_request(route, url, found)
            answer = self.send(request)
            if answer.get("status", 0) < 400 and answer.get("status"):
                break
        row["valid_request"] = answer
        sent = request.json if isinstance(request.json, dict) else request.form or {}
        row["valid_request_credentials"] = any(re.search(r"(?i)pass(word|wd)|secret|token|otp|(^|_)code$", str(k))
                                               for k in sent)
        row["valid_request_attempts"] = len(attempts[:attempts.index(url) + 1])
        # latency: a GET repeats the valid request; other methods repeat the empty-body call,
        # so that the repetitions neither create nor delete rows
        if route.method in _SAFE_METHODS:
            timed, what = request, "valid request"
        else:
            timed = Request(route.method, url, self.token(), json={}, send_json=route.method in _BODY_METHODS)
            what = "valid token, empty body" if route.method in _BODY_METHODS else "valid token"
        timings: list[float] = []
        network = self._time(timed, self.repeats, timings)
        retimed = 0
        # With few calls p95 is the slowest one, so one pause of the machine (another process,
        # a collection) would fail a fast route: a route over the budget is timed again with
        # more calls, and judged on all of them. A route that is really slow stays over it.
        p95 = _percentile(timings, 0.95)
        if self.latency_budget_ms is not None and p95 is not None and p95 >= self.latency_budget_ms:
            retimed = RETIME_CALLS
            network = self._time(timed, retimed, timings) or network
        row["latency"] = {"request": what, "calls": len(timings), "p50": _percentile(timings, 0.5),
                          "p95": _percentile(timings, 0.95), "network_blocked": network, "retimed": retimed}

    def _time(self, timed: Request, calls: int, timings: list[float]) -> bool:
        """Send ``timed`` ``calls`` times, adding each answered call's milliseconds to
        ``timings``; whether any call met the disabled network."""
        network = False
        for _ in range(calls):
            timed.token = self.token()
            timing = self.send(timed, check_identity=False)
            network = network or timing.get("network_blocked", False)
            if timing.get("status"):
                timings.append(timing["ms"])
        return network

    def _rate_limit(self, route: LiveRoute, row: dict[str, Any]) -> None:
        """Call a sensitive route until it answers 429 (or ``rate_attempts`` times)."""
        self.call.reset_limits()
        request = Request(route.method, fill_path(route.path, route.params), self.token(), json={},
                          send_json=route.method in _BODY_METHODS)
        answer: dict[str, Any] = {}
        calls = 0
        for calls in range(1, self.rate_attempts + 1):
            answer = self.send(request, keep_limits=True, check_identity=False)
            if answer.get("status") == 429:
                break
        row["rate_limit"] = answer | {"calls": calls}
        self.call.reset_limits()


def _key_path(path: str) -> str:
    """Paths compare with parameter names only (``<int:id>`` == ``{id}``), as in verify."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)
    return re.sub(r"{([^}:]+)(?::[^}]*)?}", r"{\1}", path)


def probe_app(app: Any, app_dir: Path, secret: str, **options: Any) -> list[dict[str, Any]]:
    """Every served route, probed (see :class:`Prober`); one dict per route with the answers."""
    return Prober(app, app_dir, secret, **options).run()


def seed_app(app: Any, app_dir: Path, seed: str | None) -> dict[str, Any]:
    """Fill the probe's empty database with the app's own demo data, so that valid requests
    hit real rows: ``module:function`` (called in an app context), ``cli:NAME`` (a Flask CLI
    command), ``auto`` (a Flask CLI command whose name says seed), or ``none``."""
    if not seed or seed == "none":
        return {"how": "none", "ok": None, "error": None}
    how = seed
    try:
        if seed == "auto" or seed.startswith("cli:"):
            commands = getattr(getattr(app, "cli", None), "commands", {}) or {}
            name = seed[4:] if seed.startswith("cli:") else next(
                (n for n in sorted(commands) if re.search(r"seed|fixtures|demo", n)), None)
            if name is None:
                return {"how": "none (no seed entry point found)", "ok": None, "error": None}
            how = f"flask {name}"
            outcome = app.test_cli_runner().invoke(args=[name])
            if outcome.exit_code != 0:
                raise RuntimeError((outcome.output or str(outcome.exception)).strip().splitlines()[-1:])
        else:
            module_name, attr, path_entry = import_target(app_dir, seed)
            function = getattr(importlib.import_module(module_name), attr)
            context = app.app_context() if hasattr(app, "app_context") else contextlib.nullcontext()
            with context:
                function()
        return {"how": how, "ok": True, "error": None}
    except BaseException as exc:  # the app's seed code failed: probes go on with what is there
        return {"how": how, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def import_modules(app_dir: Path, modules: list[str]) -> list[dict[str, Any]]:
    """Import each module; a failure is recorded with its error and does not stop the others."""
    out = []
    for name in modules:
        try:
            importlib.import_module(name)
            out.append({"module": name, "ok": True, "error": ""})
        except BaseException as exc:  # SystemExit and friends from module-level code count too
            out.append({"module": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return out


BLOCKED_CONNECTIONS = [0]  # outbound connections refused so far (a request that tried one is marked)


def _no_network() -> None:
    """Probes must never leave the machine: outbound connections fail at once (loopback
    and Unix sockets still work, for in-process servers and databases)."""
    import socket

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            BLOCKED_CONNECTIONS[0] += 1
            raise OSError(f"network disabled by workbench verify (tried {host})")
        return real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    # Name lookups would wait for a resolver that cannot answer: fail them at once too
    # (IP literals and localhost still resolve, without asking anyone).
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name.lower() not in ("localhost", "") and not _is_ip(name):
            BLOCKED_CONNECTIONS[0] += 1
            raise socket.gaierror(socket.EAI_NONAME, f"network disabled by workbench verify (looked up {name})")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def _is_ip(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _no_servers() -> None:
    """A module that starts its server at import time must not block the probe."""
    for module_name, attr in (("flask", "Flask"), ("flask_socketio", "SocketIO")):
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except Exception:
            continue
        cls.run = lambda self, *a, **k: None  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True, type=Path)
    parser.add_argument("--factory", default=None, help="module:attr; without it only --modules are imported")
    parser.add_argument("--result", required=True, type=Path, help="JSON file to write")
    parser.add_argument("--secret", default=os.environ.get("JWT_SECRET", ""))
    parser.add_argument("--modules", default="", help="comma-separated modules to import (integrity)")
    parser.add_argument("--origin", default=None, type=Path, help="the audited tree --app is a copy of")
    parser.add_argument("--plan", default=None, type=Path,
                        help="JSON: sensitive [[method, path]...], seed, repeats, rate_attempts")
    args = parser.parse_args(argv)
    app_dir = args.app.resolve()
    plan = json.loads(args.plan.read_text()) if args.plan else {}
    # Only the app's own folder (and what the environment provides) should be importable.
    here = str(Path(__file__).resolve().parents[1])
    sys.path[:] = [p for p in sys.path if p != here or p == str(app_dir.parent)]
    _no_network()
    _no_servers()
    result: dict[str, Any] = {"factory": args.factory, "framework": None, "error": None, "routes": [], "imports": []}
    started = time.perf_counter()
    sys.path.insert(0, str(app_dir.parent if (app_dir / "__init__.py").exists() else app_dir))
    if args.origin:  # the app runs from a copy; what sits beside the original stays importable, after it
        origin = args.origin.resolve()
        sys.path.insert(1, str(origin.parent if (origin / "__init__.py").exists() else origin))
    if args.factory:
        try:
            app = build_app(app_dir, args.factory)
            result["framework"] = _framework(app)
            if result["framework"] is None:
                raise ValueError(f"{args.factory} gave a {type(app).__name__}, not a Flask or FastAPI app")
            result["seed"] = seed_app(app, app_dir, plan.get("seed"))
            prober = Prober(app, app_dir, args.secret, sensitive=[tuple(k) for k in plan.get("sensitive", [])],
                            repeats=plan.get("repeats", REPEATS),
                            rate_attempts=plan.get("rate_attempts", RATE_LIMIT_ATTEMPTS),
                            request_timeout=plan.get("request_timeout", REQUEST_TIMEOUT),
                            phases=plan.get("phases", PHASES),
                            latency_budget_ms=plan.get("latency_budget_ms"))
            result["routes"] = prober.run()
            result["identity_events"] = prober.identity_events
        except BaseException as exc:  # whatever the app raises while building is the finding
            result["error"] = f"{type(exc).__name__}: {exc}"
            result["traceback"] = traceback.format_exc(limit=-8)
    if args.modules:
        result["imports"] = import_modules(app_dir, [m for m in args.modules.split(",") if m])
    result["seconds"] = round(time.perf_counter() - started, 3)
    args.result.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
