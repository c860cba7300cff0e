"""Print the routes a holdout app really serves (method, path, file, def line, handler).

    .venv/bin/python benchmarks/holdout/live_routes.py flask_shop

Builds the app from the factory named in its EXPECTED.yml (this imports the app, which
`workbench map` never does) and lists what Flask's url_map / FastAPI's route table hold,
so that the hand-written EXPECTED.yml can be checked against reality.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
import tempfile
from pathlib import Path

import yaml

HOLDOUT = Path(__file__).resolve().parent


def _def_line(path: Path, name: str, near: int) -> int:
    """The `def` line of function `name` in `path` nearest to `near` (decorators shift co_firstlineno)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = [n.lineno for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if not lines:
        raise LookupError(f"def {name} not in {path}")
    return min(lines, key=lambda i: abs(i - near))


def _where(func, app_dir: Path) -> tuple[str, int, str]:
    func = inspect.unwrap(func)
    path = Path(inspect.getsourcefile(func)).resolve()
    qual = func.__qualname__.replace(".<locals>", "")
    name = func.__name__
    line = _def_line(path, name, func.__code__.co_firstlineno)
    handler = qual if "." in qual and not qual.startswith(name) else name
    return path.relative_to(app_dir.resolve()).as_posix(), line, handler


def served_routes(app_name: str) -> list[dict]:
    app_dir = HOLDOUT / app_name
    expected = yaml.safe_load((app_dir / "EXPECTED.yml").read_text(encoding="utf-8"))
    module_name, attr = expected["factory"].split(":")
    tmp = tempfile.mkdtemp()
    os.environ.setdefault("DATABASE", f"{tmp}/live.db")
    os.environ.setdefault("UPLOAD_FOLDER", tmp)
    os.environ.setdefault("UPLOAD_DIR", tmp)
    sys.path.insert(0, str(app_dir.parent))
    obj = getattr(importlib.import_module(module_name), attr)
    rows = []
    if expected["framework"] == "flask":
        app = obj() if callable(obj) and not hasattr(obj, "url_map") else obj
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            file, line, handler = _where(app.view_functions[rule.endpoint], app_dir)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                rows.append({"method": method, "path": rule.rule, "file": file, "line": line, "handler": handler})
    else:
        from fastapi import routing

        app = obj
        # recent FastAPI keeps included routers as lazy nodes; iter_route_contexts flattens them
        walk = getattr(routing, "iter_route_contexts", None)
        for route in (walk(app.routes) if walk else app.routes):
            if not getattr(route, "methods", None) or getattr(route, "endpoint", None) is None:
                continue
            if not inspect.getsourcefile(inspect.unwrap(route.endpoint)).startswith(str(app_dir.resolve())):
                continue  # FastAPI's own docs/openapi routes
            file, line, handler = _where(route.endpoint, app_dir)
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                rows.append({"method": method, "path": route.path, "file": file, "line": line, "handler": handler})
    return sorted(rows, key=lambda r: (r["file"], r["line"], r["method"], r["path"]))


if __name__ == "__main__":
    for row in served_routes(sys.argv[1]):
        print(row)
