"""What a built app really serves, and how each route answers: the part of ``verify``
that runs inside the app's own process.

``workbench verify`` never imports the audited app into the workbench process; it
starts ``python -m audit.probe`` in a subprocess, which builds the app, lists its
routes from the framework's own tables (Flask ``url_map``, FastAPI ``app.routes``),
probes each one with the framework's test client (no network) and prints one JSON
document on stdout. :func:`served_routes` is also what the fixture tests use to
compare an EXPECTED.yml with the real app.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import os
import re
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

__all__ = ["LiveRoute", "build_app", "fill_path", "import_target", "import_modules", "is_envelope", "main",
           "make_token", "probe_app", "served_routes"]

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
                yield LiveRoute(method, rule.rule, *located, framework="flask", params=params)


def _fastapi_routes(app: Any, app_dir: Path) -> Iterator[LiveRoute]:
    for path, methods, endpoint in _fastapi_endpoints(app):
        if not methods or endpoint is None:
            continue  # mounts, websockets
        params = _fastapi_path_params(path, endpoint)
        for method in sorted(set(methods) - {"HEAD", "OPTIONS"}):
            located = _locate(endpoint, method, app_dir)
            if located:
                yield LiveRoute(method, path, *located, framework="fastapi", params=params)


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


def _locate(view: Any, method: str, app_dir: Path) -> tuple[str, int, str] | None:
    """(file, def line, handler name) of the code serving ``method``; None outside app_dir."""
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
    return path.relative_to(app_dir).as_posix(), line, name_prefix + func.__name__


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
_LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Exception:", "Error:")


def fill_path(path: str, params: dict[str, str]) -> str:
    """``/items/<int:item_id>`` -> ``/items/1``: sample values that the converters accept."""

    def sample(name: str, kind: str) -> str:
        return SAMPLE_VALUES.get((params.get(name) or kind or "").lower(), "sample")

    path = re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", lambda m: sample(m.group(2), m.group(1) or "string"), path)
    return re.sub(r"{([^}:]+)(?::([^}]*))?}", lambda m: sample(m.group(1), m.group(2) or ""), path)


def make_token(secret: str, sub: str = "1", lifetime: int = 600) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + lifetime}, secret, algorithm="HS256")


def is_envelope(body: Any) -> bool:
    """Whether a JSON body is the contract's error envelope."""
    return (isinstance(body, dict) and body.get("success") is False and isinstance(body.get("error"), dict)
            and isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str))


def _answer(status: int, headers: Any, text: str) -> dict[str, Any]:
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    lower = {k.lower() for k in headers.keys()}
    return {
        "status": status,
        "envelope": is_envelope(body),
        "csp": "content-security-policy" in lower,
        "hsts": "strict-transport-security" in lower,
        "nosniff": headers.get("X-Content-Type-Options", "").lower() == "nosniff",
        "response_time": any(h.lower() in lower for h in TIMING_HEADERS),
        "leak": status >= 500 and any(marker in text for marker in _LEAK_MARKERS),
    }


class _FlaskCaller:
    def __init__(self, app: Any) -> None:
        app.testing = False  # a crash must answer 500 as it would for a client, not raise here
        app.config["PROPAGATE_EXCEPTIONS"] = False  # even in debug mode
        self.client = app.test_client()

    def __call__(self, method: str, url: str, headers: dict[str, str]) -> dict[str, Any]:
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        reply = self.client.open(url, method=method, headers=headers, **kwargs)
        return _answer(reply.status_code, reply.headers, reply.get_data(as_text=True))

    def close(self) -> None:
        pass


class _StarletteCaller:
    def __init__(self, app: Any) -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()  # runs the app's startup/lifespan handlers

    def __call__(self, method: str, url: str, headers: dict[str, str]) -> dict[str, Any]:
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        reply = self.client.request(method, url, headers=headers, **kwargs)
        return _answer(reply.status_code, reply.headers, reply.text)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def probe_app(app: Any, app_dir: Path, secret: str) -> list[dict[str, Any]]:
    """Every served route, called without credentials, with a valid bearer token and with a
    forged one (right claims, wrong key); one dict per route with the three answers."""
    credentials = {
        "none": {},
        "valid": {"Authorization": f"Bearer {make_token(secret)}"},
        "forged": {"Authorization": f"Bearer {make_token(secret + '-forged-' + os.urandom(8).hex())}"},
    }
    caller = _FlaskCaller(app) if _framework(app) == "flask" else _StarletteCaller(app)
    results = []
    try:
        for route in served_routes(app, app_dir):
            url = fill_path(route.path, route.params)
            row = asdict(route) | {"url": url}
            for name, headers in credentials.items():
                try:
                    row[name] = caller(route.method, url, dict(headers))
                except Exception as exc:  # the test client itself failed: report, go on
                    row[name] = {"status": 0, "error": f"{type(exc).__name__}: {exc}"}
            results.append(row)
    finally:
        caller.close()
    return results


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


def _no_network() -> None:
    """Probes must never leave the machine: outbound connections fail at once (loopback
    and Unix sockets still work, for in-process servers and databases)."""
    import socket

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network disabled by workbench verify (tried {host})")
        return real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]


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
    args = parser.parse_args(argv)
    app_dir = args.app.resolve()
    # Only the app's own folder (and what the environment provides) should be importable.
    here = str(Path(__file__).resolve().parents[1])
    sys.path[:] = [p for p in sys.path if p != here or p == str(app_dir.parent)]
    _no_network()
    _no_servers()
    result: dict[str, Any] = {"factory": args.factory, "framework": None, "error": None, "routes": [], "imports": []}
    started = time.perf_counter()
    sys.path.insert(0, str(app_dir.parent if (app_dir / "__init__.py").exists() else app_dir))
    if args.factory:
        try:
            app = build_app(app_dir, args.factory)
            result["framework"] = _framework(app)
            if result["framework"] is None:
                raise ValueError(f"{args.factory} gave a {type(app).__name__}, not a Flask or FastAPI app")
            result["routes"] = probe_app(app, app_dir, args.secret)
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
