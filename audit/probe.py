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

__all__ = ["LiveRoute", "served_routes", "import_target", "probe_app", "main"]

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
