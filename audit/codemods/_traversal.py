"""A leaner walk of a libcst tree, with libcst's visiting order and semantics.

libcst's ``CSTNode.visit`` rebuilds every node it passes (a dataclass construction and
validation per node, even when nothing changed) and routes each child through
``visit_required``/``visit_sequence``... with two attribute callbacks. On a large tree
that is most of a codemod's cost. :func:`transform` walks the same children in the same
order, calls the visitor's ``on_visit``/``on_leave`` the same way, applies the same rules
for ``RemovalSentinel``/``FlattenSentinel``, and rebuilds a node only when one of its
children was replaced: an unchanged subtree comes back as the very same object, so a
codemod that changed nothing returns the tree it was given.

The order and kind of each node type's children are read once from libcst's own
``_visit_and_replace_children`` (its source is a single ``return Node(field=visit_x(self,
"field", self.field, visitor), ...)``); a node type written differently is walked by libcst
itself (its children still come back here through ``CSTNode.visit``).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import operator
import textwrap
from functools import lru_cache
from typing import Any, Callable

import libcst as cst
from libcst import FlattenSentinel, MaybeSentinel, RemovalSentinel

__all__ = ["TRIVIA_NAMES", "TRIVIA_TYPES", "children", "children_plan", "findall", "parents", "transform", "visit"]

_REQUIRED, _OPTIONAL, _SENTINEL, _SEQUENCE, _BODY, _EITHER = range(6)  # (_EITHER: node or sequence)
_KINDS = {"visit_required": _REQUIRED, "visit_optional": _OPTIONAL, "visit_sentinel": _SENTINEL,
          "visit_sequence": _SEQUENCE, "visit_iterable": _SEQUENCE,
          "visit_body_sequence": _BODY, "visit_body_iterable": _BODY}


@lru_cache(maxsize=None)
def children_plan(node_type: type) -> tuple[tuple[int, str], ...] | None:
    """((kind, field), ...) in libcst's visiting order, or None when libcst's method for
    ``node_type`` is not the plain one-constructor form (then libcst walks that node)."""
    method = getattr(node_type, "_visit_and_replace_children", None)
    if method is None:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return None
    func = tree.body[0]
    if not isinstance(func, ast.FunctionDef):
        return None
    body = [s for s in func.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    # ``names = self.names`` first, ``ret = Node(...); return ret`` (both occur in libcst)
    while len(body) > 1 and _is_self_alias(body[0]):
        body = body[1:]
    if len(body) == 2 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1 \
            and isinstance(body[0].targets[0], ast.Name) and isinstance(body[1], ast.Return) \
            and isinstance(body[1].value, ast.Name) and body[1].value.id == body[0].targets[0].id:
        body = [ast.Return(value=body[0].value)]
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return None
    value = body[0].value
    if isinstance(value, ast.Name) and value.id == "self":
        return ()  # a token: no children
    if not isinstance(value, ast.Call) or value.args:
        return None
    callee = value.func
    if not (isinstance(callee, ast.Name) and callee.id == node_type.__name__) and not (
            isinstance(callee, ast.Attribute) and callee.attr == "__class__"
            and isinstance(callee.value, ast.Name) and callee.value.id == "self"):
        return None
    plan: list[tuple[int, str]] = []
    covered: set[str] = set()
    for kw in value.keywords:
        name, arg = kw.arg, kw.value
        if name is None:
            return None
        if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "self" \
                and arg.attr == name:
            covered.add(name)  # passed through unvisited (a str, a bool, an enum...)
            continue
        if isinstance(arg, ast.IfExp):
            # names=(visit_required(...) if isinstance(names, ImportStar) else visit_sequence(...)),
            # format_spec=(visit_sequence(...) if format_spec is not None else None): decided by the value
            kinds = [_visit_kind(branch, name) for branch in (arg.body, arg.orelse)
                     if not (isinstance(branch, ast.Constant) and branch.value is None)]
            if not kinds or None in kinds:
                return None
            plan.append((_EITHER, name))
        else:
            kind = _visit_kind(arg, name)
            if kind is None:
                return None
            plan.append((kind, name))
        covered.add(name)
    if covered != {f.name for f in dataclasses.fields(node_type)}:
        return None
    return tuple(plan)


def _is_self_alias(stmt: ast.stmt) -> bool:
    """``names = self.names``"""
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Attribute) and isinstance(stmt.value.value, ast.Name)
            and stmt.value.value.id == "self" and stmt.value.attr == stmt.targets[0].id)


def _visit_kind(call: ast.expr, name: str) -> int | None:
    """The kind of ``visit_x(self, "name", self.name, visitor)`` (or ``..., name, visitor)``)."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _KINDS
            and len(call.args) == 4 and not call.keywords):
        return None
    parent, field_name, field_value, visitor = call.args
    value_ok = (isinstance(field_value, ast.Attribute) and field_value.attr == name) or (
        isinstance(field_value, ast.Name) and field_value.id == name)
    if isinstance(parent, ast.Name) and parent.id == "self" and isinstance(field_name, ast.Constant) \
            and field_name.value == name and value_ok and isinstance(visitor, ast.Name):
        return _KINDS[call.func.id]
    return None


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` (in visiting order) without rebuilding ``node``."""
    node_type = type(node)
    try:
        getter = _GETTERS[node_type]
    except KeyError:
        plan = children_plan(node_type)
        names = [name for _kind, name in plan] if plan is not None else None
        getter = _GETTERS[node_type] = (None if names is None else
                                        (lambda _node: ()) if not names else
                                        (lambda _node, _name=names[0]: (getattr(_node, _name),)) if len(names) == 1 else
                                        operator.attrgetter(*names))
    if getter is None:
        return list(node.children)
    kids: list[cst.CSTNode] = []
    for value in getter(node):
        if value is None or value.__class__ is MaybeSentinel:
            continue
        if value.__class__ is tuple or value.__class__ is list:
            kids.extend(value)
        else:
            kids.append(value)
    return kids


# node type -> a function giving its children fields' values in visiting order (None: use libcst)
_GETTERS: dict[type, Callable[[Any], tuple] | None] = {}


def _sequence_error(node: cst.CSTNode, what: str) -> TypeError:
    return TypeError(f"We got a {what} while visiting a {type(node).__name__}. This node's parent does "
                     "not allow it to be removed or replaced with a sequence.")


def transform(node: cst.CSTNode, visitor: cst.CSTTransformer) -> Any:
    """``node.visit(visitor)`` for a transformer, keeping unchanged subtrees as they are.

    The visitor's ``on_visit_attribute``/``on_leave_attribute`` are not called: use this
    only for visitors that define no attribute hooks."""
    on_visit, on_leave = visitor.on_visit, visitor.on_leave

    def walk(node: cst.CSTNode) -> Any:
        updated = node
        if on_visit(node):
            plan = children_plan(type(node))
            if plan is None:
                rebuilt = node._visit_and_replace_children(visitor)
                updated = node if _same_fields(node, rebuilt) else rebuilt
            else:
                changes: dict[str, Any] | None = None
                for kind, name in plan:
                    value = getattr(node, name)
                    if kind == _EITHER:
                        if value is None or isinstance(value, MaybeSentinel):
                            continue
                        kind = _REQUIRED if isinstance(value, cst.CSTNode) else _SEQUENCE
                    if kind == _REQUIRED:
                        new = walk(value)
                        if new is not value and isinstance(new, (RemovalSentinel, FlattenSentinel)):
                            raise _sequence_error(value, type(new).__name__)
                    elif kind == _OPTIONAL or kind == _SENTINEL:
                        if value is None or isinstance(value, MaybeSentinel):
                            continue
                        new = walk(value)
                        if isinstance(new, FlattenSentinel):
                            raise _sequence_error(value, "FlattenSentinel")
                        if isinstance(new, RemovalSentinel):
                            new = None if kind == _OPTIONAL else MaybeSentinel.DEFAULT
                    else:
                        new = _walk_sequence(value, walk, kind == _BODY)
                    if new is not value:
                        if changes is None:
                            changes = {}
                        changes[name] = new
                if changes:
                    updated = node.with_changes(**changes)
        result = on_leave(node, updated)
        if result is not updated and not isinstance(result, (cst.CSTNode, RemovalSentinel, FlattenSentinel)):
            raise cst.CSTValidationError("Expected a node of type CSTNode or a RemovalSentinel, "
                                         f"but got a return value of {type(result).__name__}")
        return result

    result = walk(node)
    if isinstance(node, cst.Module) and isinstance(result, RemovalSentinel):
        return node.with_changes(body=(), header=(), footer=())
    return result


def _same_fields(node: cst.CSTNode, rebuilt: cst.CSTNode) -> bool:
    """True when libcst rebuilt ``node`` from the very same children (nothing changed)."""
    for f in dataclasses.fields(node):
        old, new = getattr(node, f.name), getattr(rebuilt, f.name)
        if old is new:
            continue
        if isinstance(old, (tuple, list)) and isinstance(new, (tuple, list)) and len(old) == len(new) \
                and all(a is b for a, b in zip(old, new)):
            continue
        if isinstance(old, (str, int, float, bool)) and type(old) is type(new) and old == new:
            continue
        return False
    return True


def _walk_sequence(children: Any, walk: Callable[[Any], Any], body: bool) -> Any:
    """The children after the walk (the same sequence object when none changed)."""
    out: list[Any] | None = None
    for index, child in enumerate(children):
        new = walk(child)
        if new is child and out is None:
            continue
        if out is None:
            out = list(children[:index])
        if isinstance(new, RemovalSentinel):
            continue
        if isinstance(new, FlattenSentinel):
            for item in new:
                if body and not child._is_removable() and item._is_removable():
                    continue  # (visit_body_iterable: a statement emptied by a removal is dropped)
                out.append(item)
        elif not (body and not child._is_removable() and new._is_removable()):
            out.append(new)
    return children if out is None else tuple(out)


def _matcher_types(matcher: Any) -> frozenset[str] | None:
    """Names of the node types ``matcher`` can match (``m.Call() | m.Name()``), None if any."""
    import libcst.matchers as m

    if isinstance(matcher, m.OneOf):
        names: set[str] = set()
        for option in matcher.options:
            sub = _matcher_types(option)
            if sub is None:
                return None
            names |= sub
        return frozenset(names)
    if isinstance(matcher, m.BaseMatcherNode) and not isinstance(matcher, (m.AllOf, m.TypeOf)) \
            and type(matcher).__module__.startswith("libcst.matchers") and hasattr(cst, type(matcher).__name__):
        return frozenset({type(matcher).__name__})
    return None


def findall(tree: Any, matcher: Any) -> list[cst.CSTNode]:
    """``libcst.matchers.findall(tree, matcher)`` (no metadata matchers): the same nodes in
    the same (pre-)order, found without rebuilding the tree; only the nodes of the
    matcher's types are tested against it."""
    import libcst.matchers as m

    types = _matcher_types(matcher) if isinstance(tree, cst.CSTNode) else None
    if types is None:  # a sentinel, a metadata wrapper, a predicate matcher: libcst's own search
        return list(m.findall(tree, matcher))
    # Whitespace and punctuation subtrees hold only more of the same: not searched for other types.
    skip = frozenset() if types & TRIVIA_NAMES else TRIVIA_TYPES
    found: list[cst.CSTNode] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if type(node).__name__ in types and m.matches(node, matcher):
            found.append(node)
        kids = children(node)
        if kids:
            stack.extend(reversed([kid for kid in kids if kid.__class__ not in skip] if skip else kids))
    return found


def _trivia_types() -> frozenset[type]:
    """Whitespace, comments, newlines, punctuation and operators, with their subclasses:
    node types whose subtrees hold nothing but more of them."""
    roots: tuple[type, ...] = (
        cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
        cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.ImportStar, cst.Asynchronous,
        cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
        cst.RightCurlyBrace, cst.BaseUnaryOp, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseAugOp,
    )
    found: set[type] = set()
    todo = list(roots)
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo += cls.__subclasses__()
    return frozenset(found)


TRIVIA_TYPES = _trivia_types()
TRIVIA_NAMES = frozenset(t.__name__ for t in TRIVIA_TYPES)


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a read-only visitor without attribute hooks, without
    rebuilding the tree (same order of ``on_visit``/``on_leave`` calls)."""
    on_visit, on_leave = visitor.on_visit, visitor.on_leave

    def walk(node: cst.CSTNode) -> None:
        if on_visit(node):
            for child in children(node):
                walk(child)
        on_leave(node)

    walk(node)


def parents(tree: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """child -> parent for every node under ``tree``: what libcst's ``ParentNodeProvider``
    computes (it asks every node for its ``children``, which rebuilds each node once more)."""
    found: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        kids = children(node)
        for kid in kids:
            found[kid] = node
        stack.extend(kids)
    return found
