"""Which functions of a module are route handlers: ``GatherRouteHandlersVisitor``.

Codemods match handlers by qualified name (``list_posts``, ``PostAPI.get``), not by line,
because earlier codemods move lines. The map inventory gives the routes with their flags;
this visitor finds the handlers of one module by itself (``@x.route``/``@x.get``...,
``add_url_rule(view_func=...)``, MethodView classes) so that a codemod also works on a
file alone and never misses a handler the inventory did not list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from ..config import Config
from ..model import Route
from ._traversal import TRIVIA_TYPES, visit

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
_VIEW_BASES = {"MethodView", "View", "Resource"}
# Decorators that authenticate, whatever the project calls them (recognised by name here;
# the map inventory recognises them by what they do).
AUTH_DECORATOR = re.compile(
    r"(?i)^(login_required|jwt_required|require_auth|requires_auth|auth_required|token_required|"
    r"authenticated|require_login|requires_login|fresh_jwt_required|require_token|.*_required)$"
)


@dataclass
class Handler:
    """A route handler of the module (paths as written in the module, without prefixes)."""

    qualname: str
    paths: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


def dotted(node: cst.CSTNode) -> str:
    """``a.b.c`` for a Name/Attribute chain (a Call gives its callee's name), else ``""``."""
    if isinstance(node, cst.Call):
        return dotted(node.func)
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else ""
    return ""


def string_value(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def route_of_decorator(decorator: cst.Decorator) -> tuple[list[str], list[str]] | None:
    """(paths, methods) when ``decorator`` registers a route (``@bp.route``, ``@app.get``...)."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    verb = call.func.attr.value
    positional = [a.value for a in call.args if a.keyword is None]
    path = string_value(positional[0]) if positional else string_value(keyword(call, "rule") or keyword(call, "path"))
    if path is None:
        return None
    if verb == "route":
        methods_node = keyword(call, "methods")
        methods = ["GET"]
        if isinstance(methods_node, (cst.List, cst.Tuple, cst.Set)):
            methods = [s.upper() for s in (string_value(e.value) for e in methods_node.elements) if s]
        return [path], [mth for mth in methods if mth not in ("HEAD", "OPTIONS")]
    if verb in HTTP_METHODS:
        return [path], [verb.upper()]
    return None


def has_auth_decorator(func: cst.FunctionDef, extra_names: frozenset[str] = frozenset()) -> bool:
    for decorator in func.decorators:
        name = dotted(decorator.decorator).rsplit(".", 1)[-1]
        if name in extra_names or AUTH_DECORATOR.match(name):
            return True
    return False


def class_decorator_names(cls: cst.ClassDef) -> set[str]:
    """Names in a MethodView's ``decorators = [...]`` list."""
    names: set[str] = set()
    for stmt in cls.body.body:
        if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name("decorators"))])])):
            value = stmt.body[0].value
            if isinstance(value, (cst.List, cst.Tuple)):
                names |= {dotted(e.value).rsplit(".", 1)[-1] for e in value.elements}
    return names


class GatherRouteHandlersVisitor(cst.CSTVisitor):
    """Collects the module's route handlers into ``self.handlers`` (qualname -> Handler)."""

    def __init__(self, calls: bool = True) -> None:
        super().__init__()
        # calls=False: the module has no ``add_url_rule`` (so visit_Call finds nothing):
        # only the statements that can hold a handler's ``def`` are walked, not expressions
        # or function bodies (nested functions are never handlers). Same handlers, far fewer nodes.
        self._calls = calls
        self.handlers: dict[str, Handler] = {}
        self.view_classes: dict[str, list[str]] = {}  # class -> its HTTP method names
        self._class_stack: list[str] = []
        self._function_depth = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        descend = super().on_visit(node)
        if self._calls:
            return descend and node.__class__ not in TRIVIA_TYPES  # (whitespace holds no call)
        return descend and isinstance(node, _HOLDS_DEFS)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_stack.append(node.name.value)
        bases = {dotted(b.value).rsplit(".", 1)[-1] for b in node.bases}
        if bases & _VIEW_BASES:
            self.view_classes[node.name.value] = [
                s.name.value for s in node.body.body
                if isinstance(s, cst.FunctionDef) and s.name.value in HTTP_METHODS
            ]

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._function_depth == 0:
            qualname = ".".join([*self._class_stack, node.name.value])
            for decorator in node.decorators:
                found = route_of_decorator(decorator)
                if found:
                    handler = self.handlers.setdefault(qualname, Handler(qualname))
                    handler.paths += found[0]
                    handler.methods += found[1]
        self._function_depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._function_depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Attribute) and node.func.attr.value == "add_url_rule"):
            return
        positional = [a.value for a in node.args if a.keyword is None]
        path = string_value(positional[0]) if positional else string_value(keyword(node, "rule"))
        view = keyword(node, "view_func") or (positional[2] if len(positional) > 2 else None)
        if path is None or view is None:
            return
        methods_node = keyword(node, "methods")
        explicit = None
        if isinstance(methods_node, (cst.List, cst.Tuple, cst.Set)):
            explicit = [s.upper() for s in (string_value(e.value) for e in methods_node.elements) if s]
        if isinstance(view, cst.Call) and m.matches(view.func, m.Attribute(attr=m.Name("as_view"))):
            cls = dotted(view.func.value).rsplit(".", 1)[-1]
            self._pending_views.append((cls, path, explicit))
        else:
            name = dotted(view).rsplit(".", 1)[-1]
            if name:
                handler = self.handlers.setdefault(name, Handler(name))
                handler.paths.append(path)
                handler.methods += explicit or ["GET"]

    def visit_Module(self, node: cst.Module) -> None:
        self._pending_views: list[tuple[str, str, list[str] | None]] = []

    def leave_Module(self, original_node: cst.Module) -> None:
        for cls, path, explicit in self._pending_views:
            for method in self.view_classes.get(cls, []):
                if explicit and method.upper() not in explicit:
                    continue
                handler = self.handlers.setdefault(f"{cls}.{method}", Handler(f"{cls}.{method}"))
                handler.paths.append(path)
                handler.methods.append(method.upper())


# The nodes on the way from the module to a ``def`` (the body of a class, an if/try/with/for
# block at module level...): all a handler search without ``add_url_rule`` walks.
_HOLDS_DEFS = (cst.Module, cst.IndentedBlock, cst.ClassDef, cst.If, cst.Else, cst.Try, cst.TryStar,
               cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.With, cst.For, cst.While,
               cst.Match, cst.MatchCase)


def gather_handlers(module: cst.Module, source: str | None = None,
                    cache: dict | None = None) -> GatherRouteHandlersVisitor:
    """The handlers of ``module``; ``source`` is its code when the caller has it (printing
    the module only to look for ``add_url_rule`` costs more than the search).

    With a ``cache`` (a dict kept for one file), each top-level statement is searched once
    and its findings reused while the statement is the same object: the codemods of a file
    leave the statements they do not change as they are, so after a change only the changed
    statements are searched again. Same handlers, in the same order, as one walk."""
    calls = "add_url_rule" in (module.code if source is None else source)
    if cache is None:
        visitor = GatherRouteHandlersVisitor(calls=calls)
        visit(module, visitor)
        return visitor
    total = GatherRouteHandlersVisitor(calls=calls)
    total.visit_Module(module)
    for stmt in module.body:
        hit = cache.get((id(stmt), calls))
        if hit is None or hit[0] is not stmt:
            part = GatherRouteHandlersVisitor(calls=calls)
            part.visit_Module(module)
            visit(stmt, part)
            hit = cache[(id(stmt), calls)] = (stmt, part)  # (the statement kept: its id stays its own)
        part = hit[1]
        for name, handler in part.handlers.items():
            merged = total.handlers.setdefault(name, Handler(name))
            merged.paths += handler.paths
            merged.methods += handler.methods
        total.view_classes.update(part.view_classes)
        total._pending_views += part._pending_views
    total.leave_Module(module)
    return total


def routes_of_module(module: cst.Module, file: str, config: Config, source: str | None = None,
                     cache: dict | None = None) -> list[Route]:
    """The routes one module declares, with ``public``/``sensitive`` judged on the paths as
    written (blueprint prefixes are unknown to a single file; the inventory knows them)."""
    routes = []
    for handler in gather_handlers(module, source, cache).handlers.values():
        for path in handler.paths:
            for method in handler.methods or ["GET"]:
                routes.append(Route(method=method, path=path, file=file, line=0, handler=handler.qualname,
                                    framework="flask", public=config.is_public(path),
                                    sensitive=config.is_sensitive(path)))
    return routes
