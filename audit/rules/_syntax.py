"""Small questions the rules ask of a stdlib ``ast`` tree: what a name was imported as,
which functions are route handlers, where the ``__main__`` guard is, what a literal says.

Private to the rules package (the leading underscore keeps it out of rule discovery).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from typing import Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Decorator methods that register a route handler (Flask 2+ shortcuts, FastAPI, Starlette, Quart).
_ROUTE_METHODS = frozenset({"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "head", "options"})


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name it was imported as (``{"md5": "hashlib.md5", "rq": "requests"}``)."""
    return _import_aliases_cached(tree)


@lru_cache(maxsize=32)  # every rule asks for the same file's aliases; AST nodes hash by identity
def _import_aliases_cached(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None (calls and subscripts break the chain)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def qualified(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name of ``node`` with its first segment resolved through the imports."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    base = aliases.get(head, head)
    return f"{base}.{rest}" if rest else base


def call_qualname(call: ast.Call, aliases: dict[str, str]) -> str:
    """Qualified name of the called function, or its last attribute when the receiver is an expression."""
    q = qualified(call.func, aliases)
    if q is not None:
        return q
    return last_name(call.func)


def last_name(node: ast.AST) -> str:
    """``get`` for ``requests.Session().get``; ``print`` for ``print``; '' otherwise."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return last_name(node.func)
    return ""


def str_value(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def functions(tree: ast.AST) -> Iterator[FunctionNode]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def names_in(node: ast.AST) -> set[str]:
    """Every identifier mentioned in ``node``: names, attribute names and string subscript keys."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.Subscript) and (key := str_value(sub.slice)) is not None:
            found.add(key)
        elif isinstance(sub, ast.Call) and last_name(sub.func) in ("get", "pop", "getlist") and sub.args:
            if (key := str_value(sub.args[0])) is not None:
                found.add(key)
    return found


def is_route_decorator(dec: ast.expr) -> bool:
    """``@app.route("/x")``, ``@bp.get("/x")``, ``@router.post("/x")``, ``@app.websocket("/ws")``."""
    if not isinstance(dec, ast.Call) or not isinstance(dec.func, ast.Attribute):
        return False
    if dec.func.attr not in _ROUTE_METHODS:
        return False
    first = dec.args[0] if dec.args else (keyword(dec, "rule") or keyword(dec, "path"))
    path = str_value(first)
    return path is not None and (path == "" or path.startswith("/"))


def handler_functions(ctx) -> list[FunctionNode]:
    """The route handlers of the file: the inventory's def lines, plus route-decorated functions."""
    lines = {r.line for r in ctx.routes if r.file == ctx.file}
    found = []
    for fn in functions(ctx.tree):
        if fn.lineno in lines or any(is_route_decorator(d) for d in fn.decorator_list):
            found.append(fn)
    return found


def is_handler(ctx, fn: FunctionNode) -> bool:
    return fn.lineno in {r.line for r in ctx.routes if r.file == ctx.file} or any(
        is_route_decorator(d) for d in fn.decorator_list
    )


_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_tests?\.py$|(^|/)conftest\.py$")
_SCRIPT_PATH = re.compile(r"(^|/)(scripts?|bin|tools|migrations|alembic)/|(^|/)(manage|setup|noxfile|fabfile)\.py$")


def is_test_file(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def is_script_file(path: str) -> bool:
    return bool(_SCRIPT_PATH.search(path))


def main_guard_lines(tree: ast.Module) -> set[int]:
    """Lines inside ``if __name__ == "__main__":`` blocks."""
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and _is_main_test(node.test):
            for stmt in node.body:
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _is_main_test(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        str_value(s) == "__main__" for s in sides
    )


def enclosing_functions(tree: ast.AST) -> dict[int, FunctionNode]:
    """id(node) -> innermost function containing it (for every node inside a function)."""
    owner: dict[int, FunctionNode] = {}

    def visit(node: ast.AST, fn: FunctionNode | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else fn
            if fn is not None:
                owner[id(child)] = fn
            visit(child, inner)

    visit(tree, None)
    return owner


def parents(tree: ast.AST) -> dict[int, ast.AST]:
    """id(node) -> parent node."""
    up: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            up[id(child)] = node
    return up


def body_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    """Every node in a function's body (decorators and default values excluded)."""
    for stmt in fn.body:
        yield from ast.walk(stmt)


def own_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    """Nodes of ``fn``'s body, not descending into nested functions, lambdas or classes."""
    stack: list[ast.AST] = list(reversed(fn.body))
    while stack:
        node = stack.pop()
        yield node
        children = [c for c in ast.iter_child_nodes(node)
                    if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))]
        stack.extend(reversed(children))


def functions_with_outer(tree: ast.AST) -> Iterator[tuple[FunctionNode, list[FunctionNode]]]:
    """Every function with the functions enclosing it (outermost first)."""

    def visit(node: ast.AST, outer: list[FunctionNode]) -> Iterator[tuple[FunctionNode, list[FunctionNode]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child, outer
                yield from visit(child, [*outer, child])
            else:
                yield from visit(child, outer)

    yield from visit(tree, [])
