"""What the whole project tells each file's codemods: read once, with ``ast``, before rewriting.

* the project's own auth decorator, when it verifies a token (``AuthHelper``);
* the ORM columns of its models and their Python types (for generated schemas);
* the names other modules import (a constant imported elsewhere is never deleted);
* the functions that fetch a URL given as a parameter (``fetch_title(url)`` ->
  ``requests.get(url)``), so that a handler in another module passing request data to
  one sends it through the SSRF guard first.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field

from . import AuthHelper

_COLUMN_TYPES = {
    "Integer": "int", "BigInteger": "int", "SmallInteger": "int",
    "String": "str", "Text": "str", "Unicode": "str", "UnicodeText": "str", "Enum": "str",
    "Boolean": "bool", "Float": "float", "Numeric": "float", "Double": "float",
}
_PY_TYPES = {"int", "str", "bool", "float"}


@dataclass
class ProjectScan:
    """The facts gathered from every module (paths relative to the root, dotted module names)."""

    modules: dict[str, str] = field(default_factory=dict)  # file -> module
    auth_helper: AuthHelper | None = None
    columns: tuple[tuple[str, str, str], ...] = ()
    imported_names: frozenset[str] = frozenset()
    uses_sessions: bool = False  # flask's signed session is used: SECRET_KEY is a start-up secret
    url_fetchers: tuple[tuple[str, str, int, str], ...] = ()  # (module, function, parameter index, parameter)


def module_name(file: str) -> str:
    parts = file[:-3].split("/") if file.endswith(".py") else file.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _decodes_jwt(func: ast.AST, verifiers: set[str]) -> bool:
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            callee = node.func
            if isinstance(callee, ast.Attribute) and callee.attr == "decode" and isinstance(callee.value, ast.Name) \
                    and callee.value.id in ("jwt", "pyjwt"):
                return True
            if isinstance(callee, ast.Name) and callee.id in verifiers:
                return True
    return False


_HTTP_CLIENTS = {"requests", "httpx"}
_HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}


def _outbound_url(call: ast.Call) -> ast.AST | None:
    """The URL argument of ``requests.get(url)`` / ``httpx.post(url=...)`` / ``urlopen(url)``."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    head = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
    if head in _HTTP_CLIENTS and name in _HTTP_VERBS:
        index = 1 if name in ("request", "stream") else 0
    elif name == "urlopen":
        index = 0
    else:
        return None
    keyword = next((k.value for k in call.keywords if k.arg == "url"), None)
    return keyword if keyword is not None else (call.args[index] if len(call.args) > index else None)


def _url_fetchers(module: str, tree: ast.Module) -> list[tuple[str, str, int, str]]:
    """Module-level functions that pass one of their parameters, as it is, as a request's URL."""
    found = []
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        for node in ast.walk(func):
            url = _outbound_url(node) if isinstance(node, ast.Call) else None
            if isinstance(url, ast.Name) and url.id in params:
                found.append((module, func.name, params.index(url.id), url.id))
    return found


def _is_decorator(func: ast.FunctionDef) -> bool:
    return bool(func.args.args) and any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in func.body)


def _column_type(value: ast.AST) -> str | None:
    if not isinstance(value, ast.Call):
        return None
    callee = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
    if callee not in ("Column", "mapped_column"):
        return None
    for arg in value.args:
        target = arg.func if isinstance(arg, ast.Call) else arg
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _COLUMN_TYPES:
            return _COLUMN_TYPES[name]
    return None


def _mapped_type(annotation: ast.AST) -> str | None:
    if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "Mapped":
        inner = annotation.slice
        if isinstance(inner, ast.BinOp):  # str | None
            inner = inner.left
        if isinstance(inner, ast.Subscript) and getattr(inner.value, "id", "") == "Optional":
            inner = inner.slice
        name = getattr(inner, "id", None)
        return name if name in _PY_TYPES else None
    return None


def scan_project(sources: dict[str, str]) -> ProjectScan:
    """Scan ``sources`` (file -> source text; files that do not parse are ignored here)."""
    scan = ProjectScan(modules={f: module_name(f) for f in sources})
    trees: dict[str, ast.Module] = {}
    for file, source in sources.items():
        try:
            trees[file] = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
    columns: set[tuple[str, str, str]] = set()
    imported: set[str] = set()
    helpers: list[tuple[str, str]] = []  # (file, function)
    used_as_decorator: Counter[str] = Counter()
    fetchers: list[tuple[str, str, int, str]] = []
    for file, tree in trees.items():
        fetchers += _url_fetchers(module_name(file), tree)
        verifiers = {f.name for f in tree.body if isinstance(f, ast.FunctionDef) and _decodes_jwt(f, set())}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _is_decorator(node) and _decodes_jwt(node, verifiers):
                helpers.append((file, node.name))
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                        pytype = _mapped_type(stmt.annotation) or (_column_type(stmt.value) if stmt.value else None)
                        if pytype:
                            columns.add((node.name, stmt.target.id, pytype))
                    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                        pytype = _column_type(stmt.value)
                        if pytype:
                            columns.add((node.name, stmt.targets[0].id, pytype))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                imported |= {alias.name for alias in node.names}
                if node.module == "flask" and any(alias.name == "session" for alias in node.names):
                    scan.uses_sessions = True
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                    used_as_decorator[name] += 1
    if helpers:
        # The helper the routes use most; ties broken by a conventional name, then by path.
        file, name = max(helpers, key=lambda h: (used_as_decorator[h[1]],
                                                 bool(re.search(r"(?i)auth|login|token", h[1])), h[0]))
        scan.auth_helper = AuthHelper(module=module_name(file), name=name, file=file)
    scan.columns = tuple(sorted(columns))
    scan.imported_names = frozenset(imported)
    scan.url_fetchers = tuple(sorted(set(fetchers)))
    return scan
