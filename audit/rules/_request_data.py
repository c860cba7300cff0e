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

from ._syntax import FunctionNode, functions, import_aliases, is_handler, is_route_decorator, last_name

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

    def __init__(self, fn: FunctionNode, tree: ast.Module, *, handler: bool, fed: frozenset[str] = frozenset()
                 ) -> None:
        self.fn = fn
        aliases = import_aliases(tree)
        # Names that denote the request object: flask's/quart's `request` (however imported), a
        # parameter typed Request/WebSocket, and the conventional `request`/`req` names.
        self.request_names = {"request", "req"} | {
            local for local, full in aliases.items() if full.endswith(".request") or full == "request"
        }
        self.tainted: set[str] = set()
        self.fed = fed
        args = fn.args
        # Parameters that some route handler fills with request data (see request_fed_parameters).
        positional = [a.arg for a in args.posonlyargs + args.args]
        for key in fed:
            self.tainted.add(positional[int(key[1:])] if key.startswith("#") and int(key[1:]) < len(positional)
                             else key.lstrip(":#"))
        self.tainted.discard("self")
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

    @classmethod
    def of(cls, ctx, fn: FunctionNode) -> "RequestData":
        """The request data of ``fn`` in the file of ``ctx``: handler parameters, request reads, and
        parameters fed with request data by handlers of this file or of the project."""
        qual = f"{ctx.module}.{fn.name}" if ctx.module else fn.name
        fed = {key[len(qual):] for key in _fed_in_file(ctx) | set(ctx.project.request_fed_params)
               if key.startswith(qual) and key[len(qual):][:1] in ("#", ":")}
        return cls(fn, ctx.tree, handler=is_handler(ctx, fn), fed=frozenset(fed))

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


def _fed_in_file(ctx) -> set[str]:
    cache = ctx.__dict__.setdefault("_request_fed", None)
    if cache is None:
        cache = request_fed_parameters(ctx.tree, ctx.module, ctx.file.endswith("__init__.py"))
        ctx.__dict__["_request_fed"] = cache
    return cache


def request_fed_parameters(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Where this module's route handlers pass request data to a function of the project:
    ``"pkg.mod.func#0"`` (positional index) and ``"pkg.mod.func:name"`` (keyword), the callee named by
    its qualified name. The map engine unions these over every module into
    ``ProjectFacts.request_fed_params``; the taint rules then treat those parameters as request data.
    """
    local_functions = {f.name for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names = _project_names(tree, module, is_package)
    fed: set[str] = set()
    for fn in functions(tree):
        handler = any(is_route_decorator(d) for d in fn.decorator_list)
        data = RequestData(fn, tree, handler=handler)
        if not data.tainted and not data.reads_request():
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            target = _callee(node.func, names, local_functions, module)
            if target is None:
                continue
            for i, arg in enumerate(node.args):
                if not isinstance(arg, ast.Starred) and data.is_tainted(arg):
                    fed.add(f"{target}#{i}")
            for kw in node.keywords:
                if kw.arg and data.is_tainted(kw.value):
                    fed.add(f"{target}:{kw.arg}")
    return fed


def _project_names(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local names bound by imports to absolute dotted names (relative imports resolved)."""
    names: dict[str, str] = {}
    parts = module.split(".") if module else []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_package else parts[:-1]
                if node.level - 1 > len(base):
                    continue
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            for a in node.names:
                if a.name != "*":
                    names[a.asname or a.name] = f"{origin}.{a.name}" if origin else a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
    return names


def _callee(func: ast.AST, names: dict[str, str], local_functions: set[str], module: str) -> str | None:
    if isinstance(func, ast.Name):
        if func.id in local_functions:
            return f"{module}.{func.id}" if module else func.id
        return names.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in names:
        return f"{names[func.value.id]}.{func.attr}"
    return None
