"""Which values inside one function come from the HTTP request (a small intra-function taint pass).

Sources: ``request.json`` / ``get_json()`` / ``form`` / ``args`` / ``values`` / ``files`` /
``data`` / ``headers`` / ``cookies`` (Flask, Quart, Werkzeug), ``await request.json()`` /
``query_params`` / ``form()`` / ``body()`` (Starlette/FastAPI), ``req.body`` style names, and
the parameters of a route handler (path and query parameters, pydantic bodies), except
injected dependencies (``Depends(...)``, sessions, the current user).
Propagation: assignments (also tuple targets, ``for`` targets, walrus, ``with ... as``), through
any expression that contains a tainted value: attribute and subscript access, ``.get()``,
f-strings, concatenation, ``%`` and ``.format()``, calls such as ``str(x)`` or ``x.strip()``.
"""

from __future__ import annotations

import ast
import re

from ._syntax import FunctionNode, import_aliases, last_name

# Attributes of a request object that carry client data.
REQUEST_ATTRS = frozenset({
    "json", "get_json", "form", "args", "values", "files", "data", "get_data", "headers", "cookies",
    "query_params", "path_params", "body", "stream", "query_string", "authorization", "view_args",
    "query", "params", "input_stream",
})
_REQUEST_TYPES = re.compile(r"^(Request|WebSocket|HTTPConnection|flask\.Request|starlette\..*Request)$")
# Handler parameters that are injected by the framework, not sent by the client.
_INJECTED_PARAM = re.compile(r"^(self|cls|db|session|conn|connection|cursor|current_user|settings|config|"
                             r"background_tasks|response|request|websocket|app|logger|redis|cache)$")
_INJECTED_TYPES = re.compile(r"(Session|Connection|BackgroundTasks|Response|Request|WebSocket|Settings|Redis)$")


class RequestData:
    """The request-derived names of one function, and a test for whether an expression carries them."""

    def __init__(self, fn: FunctionNode, tree: ast.Module, *, handler: bool) -> None:
        self.fn = fn
        aliases = import_aliases(tree)
        # Names that denote the request object: flask's/quart's `request` (however imported), a
        # parameter typed Request/WebSocket, and the conventional `request`/`req` names.
        self.request_names = {"request", "req"} | {
            local for local, full in aliases.items() if full.endswith(".request") or full == "request"
        }
        self.tainted: set[str] = set()
        args = fn.args
        params = args.posonlyargs + args.args + args.kwonlyargs
        defaults = dict(zip([a.arg for a in (args.posonlyargs + args.args)][::-1], args.defaults[::-1]))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        for p in params:
            ann = ast.unparse(p.annotation) if p.annotation is not None else ""
            if _REQUEST_TYPES.match(ann.split("[")[0]):
                self.request_names.add(p.arg)
                continue
            if not handler:
                continue
            default = defaults.get(p.arg)
            injected = isinstance(default, ast.Call) and last_name(default.func) in ("Depends", "Security")
            if injected or _INJECTED_PARAM.match(p.arg) or (ann and _INJECTED_TYPES.search(ann.split("[")[0])):
                continue
            self.tainted.add(p.arg)
        self._propagate()

    # -- sources -------------------------------------------------------------------------------
    def is_source(self, node: ast.AST) -> bool:
        """``request.json``, ``request.args.get("q")``'s base, ``request.get_json()``, ``await request.json()``."""
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call):
            node = node.func
        return (
            isinstance(node, ast.Attribute)
            and node.attr in REQUEST_ATTRS
            and isinstance(node.value, ast.Name)
            and node.value.id in self.request_names
        )

    def is_tainted(self, node: ast.AST | None) -> bool:
        if node is None:
            return False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.tainted and not isinstance(sub.ctx, ast.Store):
                return True
            if self.is_source(sub):
                return True
        return False

    def sources(self, node: ast.AST) -> list[ast.AST]:
        return [sub for sub in ast.walk(node) if self.is_source(sub)]

    def reads_request(self) -> bool:
        return any(self.is_source(n) for stmt in self.fn.body for n in ast.walk(stmt))

    # -- propagation ---------------------------------------------------------------------------
    def _propagate(self) -> None:
        # Two passes reach values assigned before a loop that re-reads them; more rarely matter.
        for _ in range(2):
            before = len(self.tainted)
            for stmt in self.fn.body:
                for node in ast.walk(stmt):
                    self._visit(node)
            if len(self.tainted) == before:
                break

    def _visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign) and self.is_tainted(node.value):
            for t in node.targets:
                self._taint_target(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None and self.is_tainted(node.value):
            self._taint_target(node.target)
        elif isinstance(node, ast.NamedExpr) and self.is_tainted(node.value):
            self._taint_target(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and self.is_tainted(node.iter):
            self._taint_target(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None and self.is_tainted(item.context_expr):
                    self._taint_target(item.optional_vars)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # `payload.update(request.json)` / `items.append(request.form["x"])` taint the receiver.
            if node.func.attr in ("update", "append", "extend", "insert", "setdefault") and isinstance(
                node.func.value, ast.Name
            ):
                if any(self.is_tainted(a) for a in node.args):
                    self.tainted.add(node.func.value.id)

    def _taint_target(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.tainted.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._taint_target(elt)
        elif isinstance(target, ast.Starred):
            self._taint_target(target.value)
