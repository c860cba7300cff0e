"""Helpers of the inventory tests: write a tiny app into a folder, and read the URL map
the real framework builds from it (imported in the test only: the map itself never
imports audited code), in the same shape as the inventory's routes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from audit.inventory import inventory_of


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def flask_url_map(app) -> set[tuple[str, str, str]]:
    """(method, rule, endpoint function name) served by a real Flask app, HEAD/OPTIONS/static excluded."""
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        cls = getattr(view, "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = f"{cls.__name__}.{method.lower()}" if cls is not None and hasattr(cls, method.lower()) else (
                f"{cls.__name__}.dispatch_request" if cls is not None else view.__name__)
            out.add((method, rule.rule, handler))
    return out


def fastapi_paths(app) -> set[tuple[str, str]]:
    """(method, path) served by a real FastAPI app, from its OpenAPI document (this FastAPI
    version includes routers lazily, so ``app.routes`` does not list them)."""
    out = set()
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            if method.upper() not in ("HEAD", "OPTIONS"):
                out.add((method.upper(), path))
    return out


def inventory_set(src: Path) -> set[tuple[str, str, str]]:
    return {(r.method, r.path, r.handler) for r in inventory_of(src).routes}


def routes_by_key(src: Path) -> dict[tuple[str, str], object]:
    return {(r.method, r.path): r for r in inventory_of(src).routes}
