"""Small questions the rules ask of a stdlib ``ast`` tree: what a name was imported as,
which functions are route handlers, where the ``__main__`` guard is, what a literal says.

Private to the rules package (the leading underscore keeps it out of rule discovery).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterator

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Decorator methods that register a route handler (Flask 2+ shortcuts, FastAPI, Starlette, Quart).
_ROUTE_METHODS = frozenset({"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "head", "options"})


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name it was imported as (``{"md5": "hashlib.md5", "rq": "requests"}``).
    Found once per tree (every rule asks) and kept on it, like the index: ``release`` drops it."""
    aliases = tree.__dict__.get(_ALIASES)
    if aliases is None:
        aliases = _import_aliases(tree)
        setattr(tree, _ALIASES, aliases)
    return aliases


_ALIASES = "_workbench_import_aliases"


def _import_aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in nodes_of(tree, ast.Import, ast.ImportFrom):
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
    kind = node.__class__  # (class tests, not isinstance: one of the map's hottest functions)
    if kind is ast.Name:
        return node.id
    parts: list[str] = []
    while kind is ast.Attribute:
        parts.append(node.attr)
        node = node.value
        kind = node.__class__
    if kind is ast.Name:
        parts.append(node.id)
        parts.reverse()
        return ".".join(parts)
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


def may_name_one_of(func: ast.AST, last_parts: frozenset[str], aliases: dict[str, str]) -> bool:
    """A cheap test before :func:`call_qualname`: whether a call of ``func`` can resolve to a
    name whose last part is in ``last_parts`` (a bare name may also be an import alias)."""
    if func.__class__ is ast.Attribute:
        return func.attr in last_parts
    if func.__class__ is ast.Name:
        return func.id in last_parts or func.id in aliases
    return True


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


class _Index:
    """One traversal of a tree, shared by every rule: the nodes in walk order, the functions, and for
    each function its own nodes (nested functions excluded) and all its body's nodes."""

    __slots__ = ("nodes", "functions", "own", "body", "spans", "outer", "idents", "by_type")

    def __init__(self, tree: ast.AST) -> None:
        # One depth-first traversal in source order, on a stack of nodes. The traversal's context
        # is the list of own nodes of the innermost function (None outside functions and inside
        # nested lambdas and classes) and the chain of enclosing functions; markers on the stack
        # change it when they come off. Own nodes stop at nested functions, lambdas and classes; a
        # function's decorators, defaults and annotations belong to the enclosing scope. A
        # function's body is a run of the pre-order walk: its markers record where it starts and ends.
        all_nodes: list[ast.AST] = []
        functions: list[FunctionNode] = []
        self.own: dict[int, list[ast.AST]] = {}
        self.outer: dict[int, list[FunctionNode]] = {}
        spans: dict[int, list[int]] = {}
        append = all_nodes.append
        stack: list[Any] = [tree]
        pop, push = stack.pop, stack.append
        function_types, scope_types, node_type, marker_type = _FUNCTION_TYPES, _SCOPE_TYPES, ast.AST, _Marker
        child_fields = _CHILD_FIELDS_LAST_FIRST
        mine: list[ast.AST] | None = None
        chain: tuple[FunctionNode, ...] = ()
        while stack:
            node = pop()
            kind = node.__class__
            if kind is marker_type:
                mine, chain = node.mine, node.chain
                if node.function is not None:
                    spans[id(node.function)][node.end] = len(all_nodes)
                continue
            append(node)
            if mine is not None:
                mine.append(node)
            if kind in function_types:
                functions.append(node)
                body_own = self.own[id(node)] = []
                self.outer[id(node)] = list(chain)
                spans[id(node)] = [0, 0]
                first, last = node.body[0], node.body[-1]
                # pushed last first: the header's nodes in this context, the body between a marker
                # into the function's context and one back to this context
                for c in reversed(child_nodes(node)):
                    if c is last:
                        push(_Marker(mine, chain, node, 1))
                    push(c)
                    if c is first:
                        push(_Marker(body_own, (*chain, node), node, 0))
                continue
            fields = child_fields.get(kind)
            if fields is None:
                _child_fields(kind)
                fields = child_fields[kind]
            if not fields:
                continue
            if kind in scope_types:
                push(_Marker(mine, chain))  # back to this context after the lambda's or class's nodes
                mine = None  # (they are not the enclosing function's own)
            # the children, pushed last first so that they come off the stack in source order
            for name in fields:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for v in reversed(value):
                        if isinstance(v, node_type):
                            push(v)
                elif isinstance(value, node_type):
                    push(value)
        self.nodes = tuple(all_nodes)
        self.functions = tuple(functions)
        self.spans = spans
        self.body: dict[int, tuple[ast.AST, ...]] = {}
        self.idents: dict[int, frozenset[str]] = {}
        self.by_type: dict[type, tuple[list[ast.AST], list[int]]] | None = None  # kind -> (nodes, positions)


class _Marker:
    """An entry of the index's stack that sets the traversal's context when it comes off; for a
    function's body, it also records where the body starts (``end`` 0) or ends (1) in the walk."""

    __slots__ = ("mine", "chain", "function", "end")

    def __init__(self, mine: list[ast.AST] | None, chain: tuple, function: FunctionNode | None = None,
                 end: int = 0) -> None:
        self.mine, self.chain, self.function, self.end = mine, chain, function, end


_FUNCTION_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef})
_SCOPE_TYPES = frozenset({ast.Lambda, ast.ClassDef})

# Fields that never hold a node worth indexing: names and numbers, and the shared singletons of
# contexts and operators (``Load()``, ``Add()``, ``Eq()``: a third of all nodes; the rules read
# them as attributes, ``node.ops[0]``, never look them up). ``TypeAlias.name`` is a Name node.
_NOT_CHILDREN = frozenset({"ctx", "op", "ops", "id", "attr", "name", "asname", "arg", "kind", "type_comment",
                           "level", "module", "conversion", "simple", "is_async", "tag", "rest", "kwd_attrs"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}  # kind -> its child fields in source order
_CHILD_FIELDS_LAST_FIRST: dict[type, tuple[str, ...]] = {}  # the same, last first (the index's stack order)


def _child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that can hold child nodes, in source order (cached per class)."""
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = () if kind is ast.Constant else tuple(
            f for f in kind._fields if f not in _NOT_CHILDREN or (f == "name" and kind.__name__ == "TypeAlias"))
        _CHILD_FIELDS[kind] = fields
        _CHILD_FIELDS_LAST_FIRST[kind] = fields[::-1]
    return fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` without its generator overhead (the index's hot loop), and without
    the context and operator singletons (see ``_NOT_CHILDREN``)."""
    out: list[ast.AST] = []
    kind = node.__class__
    for name in _CHILD_FIELDS.get(kind) or _child_fields(kind):
        value = getattr(node, name, None)
        if value.__class__ is list:
            for v in value:  # (a plain loop: faster than extend() over a generator)
                if isinstance(v, ast.AST):
                    out.append(v)
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def walk(node: ast.AST) -> list[ast.AST]:
    """The nodes of ``node`` in ``ast.walk`` order (breadth first), as a list: without the
    generators' cost, and without the context and operator singletons (see ``child_nodes``),
    which no test on walked nodes asks about."""
    found = [node]
    for sub in found:  # (the list grows while it is read)
        found += child_nodes(sub)
    return found


def nodes_of(tree: ast.AST, *types: type) -> list[ast.AST]:
    """The nodes of ``tree`` of the given types, in ``nodes(tree)`` order (grouped once per tree)."""
    index = _index(tree)
    groups = index.by_type
    if groups is None:
        groups = index.by_type = {}
        for position, n in enumerate(index.nodes):
            group = groups.get(n.__class__)
            if group is None:
                group = groups[n.__class__] = ([], [])
            group[0].append(n)
            group[1].append(position)
    if len(types) == 1:
        found = groups.get(types[0])
        return found[0] if found is not None else []
    # several kinds: their groups merged back into walk order by position
    chosen = [groups[t] for t in dict.fromkeys(types) if t in groups]
    if len(chosen) == 1:
        return chosen[0][0]
    positions: list[int] = []
    for _, group_positions in chosen:
        positions += group_positions
    positions.sort()
    every = index.nodes
    return [every[p] for p in positions]


_INDEX = "_workbench_index"  # the attribute of a tree (and of its functions) holding its index


def _index(tree: ast.AST) -> _Index:
    """The index of ``tree``, built on first use and kept on the tree itself, so that it lives as
    long as the tree: the map's facts stage and rules stage share it."""
    index = tree.__dict__.get(_INDEX)
    if index is None:
        index = _Index(tree)
        setattr(tree, _INDEX, index)
        for fn in index.functions:
            setattr(fn, _INDEX, index)
    return index


def release(tree: ast.AST) -> None:
    """Drop the index kept on ``tree`` (it refers back to the tree: without this, the tree would
    wait for the cyclic garbage collector, which the map keeps off while it works)."""
    index = tree.__dict__.pop(_INDEX, None)
    for name in [n for n in tree.__dict__ if n.startswith("_workbench_")]:  # the rules' caches
        del tree.__dict__[name]
    if index is not None:
        for fn in index.functions:
            fn.__dict__.pop(_INDEX, None)


def _index_of(fn: FunctionNode) -> _Index | None:
    return fn.__dict__.get(_INDEX)


def nodes(tree: ast.AST) -> tuple[ast.AST, ...]:
    """Every node of ``tree`` in depth-first source order, computed once per tree: the rules share one walk."""
    return _index(tree).nodes


def functions(tree: ast.AST) -> tuple[FunctionNode, ...]:
    """Every function of ``tree`` (nested ones included), in walk order; computed once per tree."""
    nodes(tree)
    return _index(tree).functions


def body_walk(fn: FunctionNode) -> tuple[ast.AST, ...]:
    """Every node of a function's body (nested functions included), computed once per function."""
    index = _index_of(fn)
    if index is None:
        return tuple(n for stmt in fn.body for n in ast.walk(stmt))
    found = index.body.get(id(fn))
    if found is None:
        start, end = index.spans[id(fn)]
        found = index.body[id(fn)] = index.nodes[start:end]
    return found


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
    return [fn for fn in functions(ctx.tree) if is_handler(ctx, fn)]


def is_handler(ctx, fn: FunctionNode) -> bool:
    lines = ctx.__dict__.get("_handler_lines")
    if lines is None:
        lines = ctx.__dict__["_handler_lines"] = frozenset(r.line for r in ctx.routes if r.file == ctx.file)
    return fn.lineno in lines or any(is_route_decorator(d) for d in fn.decorator_list)


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
    """id(node) -> innermost function containing it (for every node of a function body)."""
    nodes(tree)
    index = _index(tree)
    owner: dict[int, FunctionNode] = {}
    # Outer functions first, inner ones overwrite: the innermost wins.
    for fn in index.functions:
        for node in body_walk(fn):
            owner[id(node)] = fn
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


def identifiers(fn: FunctionNode) -> frozenset[str]:
    """Names, attribute names and string constants of a function's own nodes (computed once)."""
    index = _index_of(fn)
    cached = index.idents.get(id(fn)) if index is not None else None
    if cached is not None:
        return cached
    found = set()
    name, attribute, constant = ast.Name, ast.Attribute, ast.Constant
    for n in own_nodes(fn):
        kind = n.__class__
        if kind is name:
            found.add(n.id)
        elif kind is attribute:
            found.add(n.attr)
        elif kind is constant and n.value.__class__ is str and len(n.value) < 80:
            found.add(n.value)
    result = frozenset(found)
    if index is not None:
        index.idents[id(fn)] = result
    return result


def own_nodes(fn: FunctionNode) -> list[ast.AST]:
    """Nodes of ``fn``'s body in source order, not descending into nested functions, lambdas or
    classes; computed once per function (with the rest of its tree)."""
    index = _index_of(fn)
    if index is None:
        return list(_iter_own_nodes(fn))
    return index.own[id(fn)]


def _iter_own_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(reversed(fn.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.Lambda, ast.ClassDef)):
            continue  # a nested scope: its own nodes belong to it
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = set(map(id, node.body))  # decorators and defaults stay here; the body is the function's
            children = [c for c in children if id(c) not in body]
        stack.extend(reversed(children))


def functions_with_outer(tree: ast.AST) -> Iterator[tuple[FunctionNode, list[FunctionNode]]]:
    """Every function with the functions enclosing it (outermost first)."""
    nodes(tree)
    index = _index(tree)
    for fn in index.functions:
        yield fn, index.outer.get(id(fn), [])

def mentions(ctx, *words: str, lower: bool = False) -> bool:
    """Whether the file's text contains one of ``words``: a cheap test that lets a rule skip files
    its pattern cannot match (every word is one the pattern needs to see)."""
    text = (getattr(ctx, "lowered", None) or ctx.source.lower()) if lower else ctx.source
    for w in words:  # (a plain loop: any() over a generator costs more than the tests here)
        if w in text:
            return True
    return False
