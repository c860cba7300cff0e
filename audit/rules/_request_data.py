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
import functools
import re
from bisect import bisect_left, bisect_right

from ._syntax import (FunctionNode, body_walk, child_nodes, dotted, functions, import_aliases, is_handler,
                      is_route_decorator, last_name, nodes_of)

# Attributes of a request object that carry client data.
REQUEST_ATTRS = frozenset({
    "json", "get_json", "form", "args", "values", "files", "data", "get_data", "headers", "cookies",
    "query_params", "path_params", "body", "stream", "query_string", "authorization", "view_args",
    "query", "params", "input_stream",
})
# Nodes through which request data moves to a new name.
_MOVERS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
                     ast.comprehension, ast.With, ast.AsyncWith, ast.Call})
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp})
# The only kinds of node that ``is_source`` can accept.
_SOURCE_KINDS = frozenset({ast.Await, ast.Call, ast.Attribute})
_SCHEMA_DUMPS = frozenset({"model_dump", "dict", "_asdict", "to_dict", "dump"})
_REQUEST_TYPES = re.compile(r"^(Request|WebSocket|HTTPConnection|flask\.Request|starlette\..*Request)$")
# Handler parameters that are injected by the framework, not sent by the client.
_INJECTED_PARAM = re.compile(r"^(self|cls|db|session|conn|connection|cursor|current_user|settings|config|"
                             r"background_tasks|response|request|websocket|app|logger|redis|cache)$")
# Annotations of injected objects (judged on the last dotted part: `ImportRequest` is a body model,
# `Request` the framework's object; `SessionDep`/`CurrentUserDep` are Annotated[..., Depends()] aliases).
_INJECTED_TYPES = re.compile(r"^(\w*Session|\w*Connection|Cursor|BackgroundTasks|Response|Request|WebSocket|"
                             r"HTTPConnection|\w*Settings|Redis|\w*Deps?)$")


class RequestData:
    """The request-derived names of one function, and a test for whether an expression carries them."""

    def __init__(self, fn: FunctionNode, tree: ast.Module, *, handler: bool, fed: frozenset[str] = frozenset(),
                 returning: "ReturningCalls | None" = None) -> None:
        self.fn = fn
        # Calls of project functions that return request data (``data = validate_json(Model)``).
        self.returning = returning
        # Names that denote the request object: flask's/quart's `request` (however imported), a
        # parameter typed Request/WebSocket, and the conventional `request`/`req` names (the file's
        # set, copied only when a typed parameter adds to it).
        file_request_names = _request_aliases(tree, import_aliases(tree))
        request_names: frozenset[str] | set[str] = file_request_names
        self._tainted: set[str] = set()  # see `tainted`
        self.fed = fed
        args = fn.args
        self.fed_models: dict[str, str] = {}  # fed parameter -> schema class its value came from
        if fed:
            # Parameters that some route handler fills with request data (see request_fed_parameters).
            positional = [a.arg for a in args.posonlyargs + args.args]
            for key in fed:
                key, _, model = key.partition("=")
                index = key[1:]
                name = positional[int(index)] if key.startswith("#") and index.isdigit() and int(index) < len(
                    positional) else key.lstrip(":#")
                self._tainted.add(name)
                if model:
                    self.fed_models[name] = model
            self._tainted.discard("self")
        defaults: dict[str, ast.expr] | None = None  # parameter -> default value, for handlers
        for p in args.posonlyargs + args.args + args.kwonlyargs:
            annotation = p.annotation
            if annotation is None:
                if not handler:
                    continue  # (no annotation: no request type, and nothing else to learn here)
                ann = ""
            else:
                # (a plain or dotted name unparses to itself: skip the costly unparse for it)
                ann = dotted(annotation) or ast.unparse(annotation)
                if _REQUEST_TYPES.match(ann.split("[")[0]):
                    if request_names is file_request_names:
                        request_names = set(file_request_names)
                    request_names.add(p.arg)
                    continue
                if not handler:
                    continue
            if defaults is None:
                defaults = dict(zip([a.arg for a in (args.posonlyargs + args.args)][::-1], args.defaults[::-1]))
                defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
            default = defaults.get(p.arg)
            injected = isinstance(default, ast.Call) and last_name(default.func) in ("Depends", "Security")
            ann_name = ann.split("[")[0].split(".")[-1].strip()
            if ann.startswith("Annotated[") and ("Depends(" in ann or "Security(" in ann):
                injected = True
            if injected or _INJECTED_PARAM.match(p.arg) or (ann_name and _INJECTED_TYPES.match(ann_name)):
                continue
            self._tainted.add(p.arg)
        self.request_names = request_names
        self._nodes = body_walk(fn)
        # Most functions never touch the request: nothing to propagate.
        name_kind = ast.Name
        reads = False
        for n in self._nodes:
            if n.__class__ is name_kind and n.id in request_names:
                reads = True
                break
        if not reads and returning is not None:
            reads = any(n.__class__ is ast.Call and returning.returns_request(n) for n in self._nodes)
        self._reads = reads
        # Propagation waits for the first question that needs it (a rule that only looks for
        # request reads never pays for it).
        self._propagated = not (self._tainted or self._reads)

    @property
    def tainted(self) -> set[str]:
        """The names holding request data (after propagation through the function)."""
        if not self._propagated:
            self._propagated = True
            self._propagate()
        return self._tainted

    @classmethod
    def cached(cls, ctx, fn: FunctionNode, *, handler: bool, fed: frozenset[str] = frozenset(),
               follow_returning: bool = False) -> "RequestData":
        """One analysis per function and settings for all the rules that ask about this file.
        ``follow_returning``: results of project functions that return request data count as
        request data (for the injection and SSRF rules: a validated string is still the client's
        text; not for identity rules, where such a function is usually the app's own lookup)."""
        cache = ctx.__dict__.setdefault("_request_data", {})
        returning = ReturningCalls.of(ctx) if follow_returning else None
        key = (id(fn), handler, fed, returning is not None)
        if key not in cache:
            cache[key] = cls.shared(fn, ctx.tree, handler=handler) if not fed and returning is None else cls(
                fn, ctx.tree, handler=handler, fed=fed, returning=returning)
        return cache[key]

    @classmethod
    def plain(cls, fn: FunctionNode, tree: ast.Module) -> "RequestData":
        """``RequestData(fn, tree, handler=False)`` (explicit request reads only), made once per function."""
        return cls.shared(fn, tree, handler=False)

    @classmethod
    def shared(cls, fn: FunctionNode, tree: ast.Module, *, handler: bool) -> "RequestData":
        """``RequestData(fn, tree, handler=handler)`` (no fed parameters, no returning calls), made once
        per function and kept on the tree: the map's facts stage asks for it and the rules again."""
        cache = tree.__dict__.get(_PLAIN_CACHE)
        if cache is None:
            cache = {}
            setattr(tree, _PLAIN_CACHE, cache)
        key = (id(fn), handler)
        found = cache.get(key)
        if found is None:
            found = cache[key] = cls(fn, tree, handler=handler)
        return found

    @classmethod
    def of(cls, ctx, fn: FunctionNode, *, trusted_models: frozenset[str] | set[str] = frozenset(),
           follow_returning: bool = False) -> "RequestData":
        """The request data of ``fn`` in the file of ``ctx``: handler parameters, request reads, and
        parameters fed with request data by handlers of this file or of the project (except values
        that came from one of ``trusted_models``, schemas that validate what the rule cares about)."""
        qual = f"{ctx.module}.{fn.name}" if ctx.module else fn.name
        fed = set()
        for key in _fed_keys(ctx).get(qual, ()):
            if key.partition("=")[2] not in trusted_models:
                fed.add(key)
        return cls.cached(ctx, fn, handler=is_handler(ctx, fn), fed=frozenset(fed), follow_returning=follow_returning)

    # -- sources -------------------------------------------------------------------------------
    def is_source(self, node: ast.AST) -> bool:
        """``request.json``, ``request.args.get("q")``'s base, ``request.get_json()``, ``await request.json()``."""
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call):
            if self.returning is not None and self.returning.returns_request(node):
                return True
            node = node.func
        return (
            isinstance(node, ast.Attribute)
            and node.attr in REQUEST_ATTRS
            and isinstance(node.value, ast.Name)
            and node.value.id in self.request_names
        )

    def is_tainted(self, node: ast.AST | None) -> bool:
        """Whether ``node`` contains a tainted name or a source (comprehensions: see below)."""
        if node is None:
            return False
        # A depth-first search with an explicit stack (the answer does not depend on the order).
        tainted, name_kind, constant_kind, attribute_kind = self.tainted, ast.Name, ast.Constant, ast.Attribute
        stack = [node]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            node = pop()
            kind = node.__class__
            if kind is name_kind:
                if node.id in tainted and not isinstance(node.ctx, ast.Store):
                    return True
            elif kind is constant_kind:
                continue
            elif kind in _COMPREHENSIONS:
                if self._comprehension_tainted(node):
                    return True
            elif kind in _SOURCE_KINDS and self.is_source(node):
                return True
            elif kind is attribute_kind:
                push(node.value)  # (its other child, the load/store context, holds nothing)
            else:
                extend(child_nodes(node))
        return False

    def _comprehension_tainted(self, node: ast.AST) -> bool:
        # What a comprehension yields: its element (targets were tainted by propagation when
        # their iterable was), so iterating a schema's field names yields no request data.
        parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        parts += [cond for gen in node.generators for cond in gen.ifs]
        return any(self.is_tainted(p) for p in parts) or any(
            self.is_tainted(gen.iter) for gen in node.generators if not self._schema_keys(gen.iter))

    def sources(self, node: ast.AST) -> list[ast.AST]:
        return [sub for sub in ast.walk(node) if self.is_source(sub)]

    def reads_request(self) -> bool:
        """Whether the function reads the request (answered once: several rules ask)."""
        found = self.__dict__.get("_reads_request")
        if found is None:
            source_kinds, is_source = _SOURCE_KINDS, self.is_source
            found = self._reads and any(is_source(n) for n in self._nodes if n.__class__ in source_kinds)
            self.__dict__["_reads_request"] = found
        return found

    # -- propagation ---------------------------------------------------------------------------
    def _propagate(self) -> None:
        # Two passes reach values assigned before a loop that re-reads them; more rarely matter.
        movers = [n for n in self._nodes if n.__class__ in _MOVERS]
        for _ in range(2):
            before = len(self.tainted)
            for node in movers:
                self._visit(node)
            if len(self.tainted) == before:
                break

    def _visit(self, node: ast.AST) -> None:
        kind = node.__class__
        if kind is ast.Call:
            # `payload.update(request.json)` / `items.append(request.form["x"])` taint the receiver.
            func = node.func
            if func.__class__ is ast.Attribute and func.attr in (
                    "update", "append", "extend", "insert", "setdefault") and func.value.__class__ is ast.Name:
                if any(self.is_tainted(a) for a in node.args):
                    self.tainted.add(func.value.id)
        elif kind is ast.Assign:
            if self.is_tainted(node.value):
                for t in node.targets:
                    self._taint_target(t)
        elif kind is ast.AnnAssign or kind is ast.AugAssign:
            if node.value is not None and self.is_tainted(node.value):
                self._taint_target(node.target)
        elif kind is ast.NamedExpr:
            if self.is_tainted(node.value):
                self._taint_target(node.target)
        elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
            if self.is_tainted(node.iter) and not self._schema_keys(node.iter):
                self._taint_target(node.target)
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:
                if item.optional_vars is not None and self.is_tainted(item.context_expr):
                    self._taint_target(item.optional_vars)

    @functools.cached_property
    def _schema_dicts(self) -> set[str]:
        """Names assigned a schema's dump (``data = body.model_dump()``)."""
        return {
            t.id for node in self._nodes if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and last_name(node.value.func) in _SCHEMA_DUMPS for t in node.targets if isinstance(t, ast.Name)
        }

    def _schema_keys(self, iterable: ast.AST) -> bool:
        """Iterating a validated model's dump (or its ``.keys()``) yields field names the schema fixed,
        not client text; its ``.values()`` / ``.items()`` stay request data."""
        if isinstance(iterable, ast.Call) and last_name(iterable.func) == "keys" and isinstance(
                iterable.func, ast.Attribute):
            iterable = iterable.func.value
        if isinstance(iterable, ast.Call):
            return last_name(iterable.func) in _SCHEMA_DUMPS
        if isinstance(iterable, ast.Name):
            return iterable.id in self._schema_dicts
        return False

    def _taint_target(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.tainted.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._taint_target(elt)
        elif isinstance(target, ast.Starred):
            self._taint_target(target.value)


class ReturningCalls:
    """Recognises, in one file, calls of the project's functions that return request data
    (``ProjectFacts.request_returning``: ``validate_json(Model)`` returning the validated body,
    ``get_payload()`` returning ``request.get_json()``): their results are request data too."""

    def __init__(self, tree: ast.Module, module: str, is_package: bool, returning: frozenset[str]) -> None:
        self.returning = returning
        self.module = module
        self.names = _project_names(tree, module, is_package)
        self.local_functions = {f.name for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}

    @classmethod
    def of(cls, ctx) -> "ReturningCalls | None":
        """The recogniser of ``ctx``'s file (None when no project function returns request data)."""
        returning = getattr(ctx.project, "request_returning", frozenset())
        if not returning:
            return None
        found = ctx.__dict__.get("_returning_calls")
        if found is None:
            found = ctx.__dict__["_returning_calls"] = cls(ctx.tree, ctx.module, ctx.file.endswith("__init__.py"),
                                                           returning)
        return found

    def returns_request(self, call: ast.Call) -> bool:
        return _callee(call.func, self.names, self.local_functions, self.module) in self.returning


def _request_aliases(tree: ast.Module, aliases: dict[str, str]) -> frozenset[str]:
    """`request`, `req`, and the local names of flask's/quart's `request` in this file (kept on the tree)."""
    found = tree.__dict__.get(_REQUEST_NAMES)
    if found is None:
        found = frozenset({"request", "req"} | {
            local for local, full in aliases.items() if full.endswith(".request") or full == "request"
        })
        setattr(tree, _REQUEST_NAMES, found)
    return found


_REQUEST_NAMES = "_workbench_request_names"  # the attribute of a tree holding its _request_aliases
_PLAIN_CACHE = "_workbench_shared_request_data"  # the attribute of a tree holding its RequestData.shared


def request_returning_functions(tree: ast.Module, module: str) -> set[str]:
    """This module's functions (not route handlers) whose return value carries request data:
    ``"pkg.mod.func"``. The map unions them into ``ProjectFacts.request_returning``, and the taint
    rules treat their calls as reads of the request (one level: a function returning what such a
    function returns is not followed)."""
    found = set()
    # The file's returns of a value, by line: a top-level function's are those within its lines (a
    # return sits in a function body, and no other top-level function shares those lines).
    returns_by_line = sorted((n for n in nodes_of(tree, ast.Return) if n.value is not None), key=_line)
    lines = [n.lineno for n in returns_by_line]
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or any(
                is_route_decorator(d) for d in fn.decorator_list):
            continue
        if fn.end_lineno is None:
            returns = [n for n in body_walk(fn) if n.__class__ is ast.Return and n.value is not None]
        else:
            returns = returns_by_line[bisect_left(lines, fn.lineno):bisect_right(lines, fn.end_lineno)]
        if not returns:
            continue
        data = RequestData.plain(fn, tree)
        if data.reads_request() and any(data.is_tainted(r.value) for r in returns):
            found.add(f"{module}.{fn.name}" if module else fn.name)
    return found


def _line(node: ast.AST) -> int:
    return node.lineno


def _fed_keys(ctx) -> dict[str, list[str]]:
    """Function qualified name -> its fed parameter keys ("#0=Schema", ":url"), from this file's
    handlers and from the project facts (computed once per file)."""
    cache = ctx.__dict__.get("_request_fed")
    if cache is None:
        keys = request_fed_parameters(ctx.tree, ctx.module, ctx.file.endswith("__init__.py")) | set(
            ctx.project.request_fed_params)
        prefix = f"{ctx.module}." if ctx.module else ""
        cache = {}
        for key in keys:
            if not key.startswith(prefix):
                continue
            cut = min((i for i in (key.find("#", len(prefix)), key.find(":", len(prefix))) if i >= 0), default=-1)
            if cut > 0:
                cache.setdefault(key[:cut], []).append(key[cut:])
        ctx.__dict__["_request_fed"] = cache
    return cache


def request_fed_parameters(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Where this module's route handlers pass request data to a function of the project:
    ``"pkg.mod.func#0"`` (positional index) and ``"pkg.mod.func:name"`` (keyword), the callee named by
    its qualified name. The map engine unions these over every module into
    ``ProjectFacts.request_fed_params``; the taint rules then treat those parameters as request data.
    """
    # Kept on the tree: the map asks in its facts stage and the rules again for the same tree.
    cache = tree.__dict__.setdefault(_FED_CACHE, {})
    found = cache.get((module, is_package))
    if found is None:
        found = cache[(module, is_package)] = frozenset(_request_fed_parameters(tree, module, is_package))
    return set(found)


_FED_CACHE = "_workbench_request_fed"  # the attribute of a tree holding its request_fed_parameters


def _request_fed_parameters(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    local_functions = {f.name for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names = _project_names(tree, module, is_package)
    fed: set[str] = set()
    # The calls of project functions that pass something, first: a function that makes none feeds
    # nothing, and needs no request-data analysis (one without such a call in its lines makes none).
    callees: dict[int, str] = {}
    lines: list[int] = []  # their lines
    name_kind, attribute_kind = ast.Name, ast.Attribute
    for node in nodes_of(tree, ast.Call):
        if not (node.args or node.keywords):
            continue
        func = node.func  # (what _callee accepts, tested inline first: most calls are not the project's)
        if func.__class__ is name_kind:
            if func.id not in local_functions and func.id not in names:
                continue
        elif func.__class__ is not attribute_kind or func.value.__class__ is not name_kind or \
                func.value.id not in names:
            continue
        if (target := _callee(func, names, local_functions, module)) is not None:
            callees[id(node)] = target
            lines.append(node.lineno)
    if not callees:
        return fed
    lines.sort()
    for fn in functions(tree):
        end = fn.end_lineno
        if end is not None and bisect_right(lines, end) == bisect_left(lines, fn.lineno):
            continue
        calls = [(node, callees[id(node)]) for node in body_walk(fn) if node.__class__ is ast.Call
                 and id(node) in callees]
        if not calls:
            continue
        handler = any(is_route_decorator(d) for d in fn.decorator_list)
        data = RequestData.shared(fn, tree, handler=handler)
        if not data.tainted and not data.reads_request():
            continue
        models = _param_models(fn)
        for node, target in calls:
            for i, arg in enumerate(node.args):
                if not isinstance(arg, ast.Starred) and data.is_tainted(arg):
                    fed.add(f"{target}#{i}{_model_suffix(arg, models)}")
            for kw in node.keywords:
                if kw.arg and data.is_tainted(kw.value):
                    fed.add(f"{target}:{kw.arg}{_model_suffix(kw.value, models)}")
    return fed


def _param_models(fn: FunctionNode) -> dict[str, str]:
    """Parameters annotated with a class (a body schema) -> the class's name."""
    found = {}
    for a in fn.args.args + fn.args.kwonlyargs:
        if a.annotation is not None:
            name = ast.unparse(a.annotation).split("[")[0].split(".")[-1]
            if name[:1].isupper():
                found[a.arg] = name
    return found


def _model_suffix(arg: ast.AST, models: dict[str, str]) -> str:
    """``=UpdatePassword`` when ``arg`` is a field of a schema-typed parameter (``body.new_password``)."""
    root = arg
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        root = root.value
    if isinstance(root, ast.Name) and root is not arg and root.id in models:
        return f"={models[root.id]}"
    return ""


def _project_names(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local names bound by imports to absolute dotted names (relative imports resolved)."""
    names: dict[str, str] = {}
    parts = module.split(".") if module else []
    for node in nodes_of(tree, ast.ImportFrom, ast.Import):
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
