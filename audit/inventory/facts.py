"""Per-file facts: what one module says about routes, guards and objects, as picklable data.

:func:`gather_file_facts` walks one ``ast`` tree once (in a worker process) and
records what the central pass (:mod:`audit.inventory.resolve`) needs to resolve
routes across modules: imports with their aliases (relative imports made
absolute), object constructions (``Flask()``, ``Blueprint()``, ``APIRouter()``,
``Limiter()``...), decorated functions and classes, registration calls
(``register_blueprint``, ``include_router``, ``add_url_rule``,
``before_request``...) anywhere in the module (factories included), and a
behavioural summary of every function: what request data it reads, whether it
validates it, whether it reads and verifies a credential and rejects a request
without one, and how it reaches the database.

Names imported from libraries are resolved here (the file's imports are enough);
names of the project itself are left for the central pass.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple

from ..rules._syntax import _CHILD_FIELDS, _child_fields, _index_of, child_nodes, walk

__all__ = ["Call", "ClassFacts", "FileFacts", "FunctionFacts", "Opaque", "Param", "Ref", "gather_file_facts"]


# ---------------------------------------------------------------- value summaries

@dataclass(frozen=True)
class Ref:
    """A name or attribute chain as written (``bp``, ``auth.login_required``), with the
    enclosing function scope it was written in (for locals of factories)."""

    dotted: str
    scope: str = ""


@dataclass(frozen=True)
class Call:
    """A call as written: ``func`` dotted (or ``""``), literal-ish arguments."""

    func: str
    args: tuple = ()
    kwargs: tuple = ()  # ((name, value), ...); name None for **kwargs
    line: int = 0
    scope: str = ""
    inner: Any = None  # the called call, when a call's result is called: app.route("/x")(view)

    def kw(self, name: str, default: Any = None) -> Any:
        for k, v in self.kwargs:
            if k == name:
                return v
        return default

    def arg(self, index: int, name: str | None = None, default: Any = None) -> Any:
        if name is not None:
            for k, v in self.kwargs:
                if k == name:
                    return v
        return self.args[index] if len(self.args) > index else default


@dataclass(frozen=True)
class Opaque:
    """An expression the facts do not model (f-strings, comprehensions...)."""

    text: str = ""


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
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


def loose_dotted(node: ast.AST) -> str:
    """Like :func:`dotted` but call results become ``f()`` (``get_db().execute``)."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            parts.append(loose_dotted(node.func) + "()")
            break
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Await):
            node = node.value
        else:
            parts.append("?")
            break
    return ".".join(reversed(parts))


def summarise(node: ast.AST | None, scope: str = "") -> Any:
    """A picklable summary of an expression: constants, containers, Ref, Call or Opaque."""
    if node is None:
        return None
    kind = node.__class__  # (the commonest kinds first, by class: a hot function of the map)
    if kind is ast.Name:
        return Ref(node.id, scope)
    if kind is ast.Constant:
        return node.value if not isinstance(node.value, bytes) else Opaque("bytes")
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [summarise(e, scope) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {(k.value if isinstance(k, ast.Constant) else "**"): summarise(v, scope)
                for k, v in zip(node.keys, node.values) if k is None or isinstance(k, ast.Constant)}
    name = dotted(node)
    if name is not None:
        return Ref(name, scope)
    if isinstance(node, ast.Call):
        return Call(
            func=dotted(node.func) or loose_dotted(node.func),
            args=tuple(summarise(a, scope) for a in node.args if not isinstance(a, ast.Starred)),
            kwargs=tuple((k.arg, summarise(k.value, scope)) for k in node.keywords),
            line=node.lineno,
            scope=scope,
            inner=summarise(node.func, scope) if isinstance(node.func, ast.Call) else None,
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = summarise(node.left, scope), summarise(node.right, scope)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        return Opaque("concat")
    if isinstance(node, ast.Subscript):
        base = dotted(node.value)
        if base:  # Annotated[User, Depends(x)], Optional[int], list[str]
            return Call(func=f"{base}[]", args=tuple(summarise(e, scope) for e in (
                node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice])), line=node.lineno, scope=scope)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # int | None
        return Call(func="typing.Union[]", args=(summarise(node.left, scope), summarise(node.right, scope)),
                    line=node.lineno, scope=scope)
    return Opaque(type(node).__name__)


# ---------------------------------------------------------------- facts

@dataclass
class Param:
    name: str
    annotation: Any = None  # summary of the annotation
    default: Any = None  # summary of the default value
    kind: str = "arg"  # arg, vararg, kwarg, kwonly


@dataclass
class FunctionFacts:
    """One function or method and what its body does."""

    name: str
    qual: str  # within the module: "create_app.<locals>.index", "PostView.get"
    line: int  # the def line
    end_line: int
    scope: str  # the enclosing function's qual ("" at module or class level)
    class_name: str = ""
    is_async: bool = False
    decorators: list = field(default_factory=list)  # summaries (Ref or Call), outermost first
    params: list[Param] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # dotted callees as written (for transitive analysis)
    dependencies: list = field(default_factory=list)  # Depends()/Security() summaries in params
    returns: list[str] = field(default_factory=list)  # dotted names returned (factories returning app)
    # request data
    reads: list[str] = field(default_factory=list)  # "json:title", "args:q", "form:x", "files:f", "json"
    # reads made only under `if request.method == "POST"`: read -> methods (a leading "!" negates); absent = any method
    read_methods: dict[str, list[str]] = field(default_factory=dict)
    checked_names: list[str] = field(default_factory=list)  # names whose value is checked by an `if` that refuses
    unvalidated: list[str] = field(default_factory=list)  # the reads not covered by a validation
    validators: list[str] = field(default_factory=list)  # dotted callees used as validators (Model(**data), ...)
    constructs: list[tuple[str, str]] = field(default_factory=list)  # (callee, read source) Model(**data) to confirm centrally
    # authentication behaviour
    reads_credential: bool = False  # Authorization header, token cookie, api key header
    reads_session: bool = False  # flask.session / flask_login.current_user: signed by the framework
    verifies: bool = False  # decodes/verifies a token, compares an api key, checks is_authenticated
    insecure_verify: bool = False  # token decoded without signature verification (outside a dev switch)
    rejects: bool = False  # aborts / returns / raises 401 or 403 (or redirects to login)
    passthrough: int = 0  # line where a missing/invalid credential is let through (0: none)
    dev_bypass: list[int] = field(default_factory=list)  # lines of a dev-switch bypass
    auth_lib_calls: bool = False  # calls a library's verify (verify_jwt_in_request, ...)
    # data access
    data_access: str = "none"
    storage_calls: list[str] = field(default_factory=list)  # dotted callees to check against storage modules


@dataclass
class ClassFacts:
    name: str
    qual: str
    line: int
    end_line: int
    bases: list = field(default_factory=list)  # Ref summaries
    attrs: dict = field(default_factory=dict)  # class-level assignments: name -> summary
    methods: list[str] = field(default_factory=list)  # method names


@dataclass
class FileFacts:
    """Everything the central pass needs from one module (picklable, cacheable)."""

    rel: str
    module: str
    is_package: bool
    lines: int
    imports: dict[str, str] = field(default_factory=dict)  # local name -> absolute dotted target
    star_imports: list[str] = field(default_factory=list)
    assigns: list[tuple[str, str, Any, int]] = field(default_factory=list)  # (scope, name, value summary, line)
    functions: list[FunctionFacts] = field(default_factory=list)
    classes: list[ClassFacts] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # registration-like calls anywhere (see _REGISTRATION)
    loops: list[tuple[str, str, Any]] = field(default_factory=list)  # (scope, loop var, iterable summary)
    defined: list[str] = field(default_factory=list)  # top-level names (defs, classes, assignments, imports)
    sets_security_headers: bool = False
    error: str = ""
    # Per-file inputs of ProjectFacts computed by the rules' own helpers (see audit.mapping):
    # "error_shapes" -> {shape: count}, "password_rule_models" -> set, "request_fed_params" -> set,
    # "upload_size_limit" -> bool.
    rule_facts: dict = field(default_factory=dict)


# Method names whose calls the central pass interprets (registration, guards, limits).
_REGISTRATION = frozenset({
    "register_blueprint", "include_router", "add_url_rule", "add_api_route", "add_api_websocket_route",
    "before_request", "before_app_request", "init_app", "limit", "shared_limit", "middleware",
    "add_middleware", "route", "get", "post", "put", "patch", "delete", "api_route", "exempt",
})
_SECURITY_HEADERS = ("content-security-policy", "strict-transport-security", "x-content-type-options")
_DEV_SWITCH = re.compile(r"debug|develop|\bdev\b|skip_?auth|disable_?auth|auth_?disabled|no_?auth|testing|bypass|local",
                         re.IGNORECASE)
_CREDENTIAL_NAME = re.compile(r"token|auth|bearer|credential|api_?key|jwt|header|session|cookie", re.IGNORECASE)
# A header carrying a credential, recognised by the words its name is made of (Authorization,
# X-API-Key, X-Admin-Token, X-Service-Secret, X-Hub-Signature-256), not by a fixed list;
# CSRF tokens protect forms, they do not identify the caller.
_CREDENTIAL_HEADERS = re.compile(r"^(?!.*(?:csrf|xsrf))(?:(?:proxy-)?authorization|(?:[\w-]*[-_])?"
                                 r"(?:api[-_]?key|apikey|access[-_]?key|token|secret|auth|signature)(?:[-_][\w-]*)?)$",
                                 re.IGNORECASE)
_REQUEST_SOURCES = {  # attribute of the request object -> read kind
    "json": "json", "get_json": "json", "form": "form", "args": "args", "values": "values", "files": "files",
    "data": "body", "get_data": "body", "stream": "body", "query_params": "args", "path_params": "path",
}
_NOT_A_CHECK = frozenset({"len", "str", "int", "bool", "repr", "print", "isinstance", "format", "split", "strip",
                          "partition", "startswith", "endswith", "lower", "upper", "replace", "removeprefix", "encode",
                          "decode_header", "append", "jsonify", "dict", "list", "set", "tuple", "type"})
_LOGGING = re.compile(r"(^|\.)(log|logger|logging|LOGGER|LOG|_log|_logger)\.")
_STORAGE_WORD = re.compile(r"(^|_|\.)(storage|stores?|repository|repositories|repos?|dao|daos|services?|crud|manager)s?($|_|\.)",
                           re.IGNORECASE)
@lru_cache(maxsize=1 << 16)
def _direct_db(name: str) -> bool:
    """Whether a call's name queries the database itself (cached: a tree repeats its call names)."""
    return _DIRECT_DB.search(name) is not None


_DIRECT_DB = re.compile(
    r"(^|\.)(session|db|database|conn|connection|cursor|cur|engine)\.(execute|executemany|query|add|add_all|commit|"
    r"delete|merge|flush|scalar|scalars|get|rollback|fetchone|fetchall)$|\.query\.|(^|\.)query\.(filter|filter_by|get|all|first|"
    r"get_or_404|first_or_404|order_by|paginate|count)$|^(sqlalchemy\.)?text$|(^|\.)execute$|(^|\.)executescript$|"
    r"^sqlite3\.connect$|(^|\.)get_db\(\)\.")


def gather_file_facts(tree: ast.Module, rel: str, module: str, source: str) -> FileFacts:
    """The facts of one parsed module (pure function of its arguments)."""
    facts = FileFacts(rel=rel, module=module, is_package=rel.endswith("__init__.py"), lines=source.count("\n") + 1)
    _Gatherer(facts).run(tree)
    low = source.lower()
    facts.sets_security_headers = any(h in low for h in _SECURITY_HEADERS) or "talisman" in low or "secure_headers" in low
    return facts


def record_call(calls: list, sub: ast.Call, scope: str, statement: bool) -> None:
    """Append ``sub`` to ``calls`` when the central pass must interpret it: registrations
    (``app.register_blueprint(bp)``, ``limiter.limit(..)(bp)``) and, as whole statements,
    helper calls handed a name (``register_views(bp)``: its parameter is bound centrally)."""
    func = sub.func
    if isinstance(func, ast.Call):  # limiter.limit("5/minute")(bp), app.route("/x")(view)
        inner = dotted(func.func) or ""
        if inner.rsplit(".", 1)[-1] in _REGISTRATION:
            calls.append(summarise(sub, scope))
        return
    name = dotted(func)
    if not name:
        return
    if "." in name and name.rsplit(".", 1)[-1] in _REGISTRATION:
        calls.append(summarise(sub, scope))
    elif statement and any(isinstance(a, (ast.Name, ast.Attribute)) for a in sub.args):
        calls.append(summarise(sub, scope))


def _function_nodes(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[ast.AST], list[ast.AST]]:
    """Every node of a function (its header and body, nested definitions included), and the
    calls that belong to it (not to a nested definition). From the tree's shared node index
    when the map has built one (audit.rules._syntax), else by a walk of its own."""
    index = _index_of(fn)
    if index is None:
        own, nested = _own_and_nested(fn)
        return own + nested, [n for n in own if n.__class__ is ast.Call]
    # the header (decorators, arguments, annotations) is walked; the body is a run of the index
    body_ids = set(map(id, fn.body))
    own, nested = [fn], []
    for child in child_nodes(fn):
        if id(child) in body_ids:
            continue
        o, n = _own_and_nested(child) if child.__class__ not in _NESTED_SCOPES else ([], _subtree(child))
        own += o
        nested += n
    header = own + nested
    calls = [n for n in own if n.__class__ is ast.Call]
    # the body's own nodes, less the headers of nested functions (the index counts those as the
    # enclosing function's: they run when it runs; here they belong to the nested definition)
    body_calls: list[ast.AST] = []
    inner_headers: set[int] = set()
    call, definitions = ast.Call, _FUNCTION_DEFS
    for n in index.own[id(fn)]:
        kind = n.__class__
        if kind is call:
            body_calls.append(n)
        elif kind in definitions:
            inner_body = set(map(id, n.body))
            for child in child_nodes(n):
                if id(child) not in inner_body:
                    inner_headers.update(map(id, _subtree(child)))
    calls += [n for n in body_calls if id(n) not in inner_headers] if inner_headers else body_calls
    start, end = index.spans[id(fn)]
    return header + list(index.nodes[start:end]), calls


def _subtree(node: ast.AST) -> list[ast.AST]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(child_nodes(n))
    return out


_FUNCTION_DEFS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef})


def _own_and_nested(node: ast.AST) -> tuple[list[ast.AST], list[ast.AST]]:
    """The nodes of a function body that belong to it, and those inside nested definitions."""
    own, nested = [], []
    stack = [node]
    scopes, node_type, child_fields = _NESTED_SCOPES, ast.AST, _CHILD_FIELDS
    while stack:
        n = stack.pop()
        own.append(n)
        kind = n.__class__
        # (children pushed directly: this walk is a hot loop of the map; contexts and operators skipped)
        for name in child_fields.get(kind) or _child_fields(kind):
            value = getattr(n, name, None)
            for child in value if value.__class__ is list else (value,):
                if not isinstance(child, node_type):
                    continue
                if child.__class__ in scopes:
                    inner = [child]
                    while inner:  # the nested definition's whole subtree
                        m = inner.pop()
                        nested.append(m)
                        inner.extend(child_nodes(m))
                else:
                    stack.append(child)
    return own, nested


_ASSIGNMENTS = frozenset({ast.Assign, ast.AnnAssign, ast.NamedExpr})
_NESTED_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute dotted name of ``from <level dots><target> import ...`` written in ``module``."""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
    return ".".join([*base, *([target] if target else [])])


class _Gatherer:
    def __init__(self, facts: FileFacts):
        self.facts = facts

    def run(self, tree: ast.Module) -> None:
        self._body(tree.body, scope="", class_name="", top=True)

    # -- statements (module, class and function bodies, recursively) --
    def _body(self, stmts: list[ast.stmt], scope: str, class_name: str, top: bool = False) -> None:
        for stmt in stmts:
            self._stmt(stmt, scope, class_name, top)

    def _stmt(self, stmt: ast.stmt, scope: str, class_name: str, top: bool) -> None:
        f = self.facts
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _WATCHED.clear()  # the imports change: the names found from them are stale
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    f.imports[alias.asname] = alias.name
                else:  # `import a.b` binds `a` and makes `a.b.x` reachable
                    f.imports.setdefault(alias.name.split(".")[0], alias.name.split(".")[0])
                    f.imports[alias.name] = alias.name
                if top:
                    f.defined.append(alias.asname or alias.name.split(".")[0])
        elif isinstance(stmt, ast.ImportFrom):
            base = resolve_relative(f.module, f.is_package, stmt.level, stmt.module) if stmt.level else (stmt.module or "")
            for alias in stmt.names:
                if alias.name == "*":
                    f.star_imports.append(base)
                    continue
                f.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
                if top:
                    f.defined.append(alias.asname or alias.name)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(stmt, scope, class_name)
            if top:
                f.defined.append(stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            self._class(stmt, scope)
            if top:
                f.defined.append(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            if value is not None and not class_name:
                summary = summarise(value, scope)
                for t in targets:
                    name = dotted(t)
                    if name:
                        f.assigns.append((scope, name, summary, stmt.lineno))
                        if top and "." not in name:
                            f.defined.append(name)
                    elif isinstance(t, ast.Tuple) and top:
                        f.defined.extend(e.id for e in t.elts if isinstance(e, ast.Name))
                if not scope:  # inside functions the function analysis records them (one walk)
                    self._calls_in(value, scope)
        elif isinstance(stmt, ast.For) and not class_name:
            var = dotted(stmt.target)
            if var:
                f.loops.append((scope, var, summarise(stmt.iter, scope)))
            self._body(stmt.body, scope, class_name)
            self._body(stmt.orelse, scope, class_name)
        elif isinstance(stmt, (ast.If, ast.While)):
            if not class_name and not scope:
                self._calls_in(stmt.test, scope)
            self._body(stmt.body, scope, class_name, top)
            self._body(stmt.orelse, scope, class_name, top)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self._body(stmt.body, scope, class_name, top)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._body(stmt.body, scope, class_name, top)
            for h in stmt.handlers:
                self._body(h.body, scope, class_name, top)
            self._body(stmt.orelse, scope, class_name, top)
            self._body(stmt.finalbody, scope, class_name, top)
        elif isinstance(stmt, (ast.Expr, ast.Return, ast.AugAssign)) and not class_name and not scope:
            if stmt.value is not None:
                self._calls_in(stmt.value, scope)

    def _calls_in(self, node: ast.AST, scope: str) -> None:
        """Record registration-like calls (``app.register_blueprint(bp)``, ``limiter.limit(..)(bp)``)."""
        for sub in walk(node):
            if isinstance(sub, ast.Call):
                record_call(self.facts.calls, sub, scope, statement=sub is node)

    def _class(self, node: ast.ClassDef, scope: str) -> None:
        qual = f"{scope}.<locals>.{node.name}" if scope else node.name
        cls = ClassFacts(node.name, qual, node.lineno, node.end_lineno or node.lineno,
                         bases=[summarise(b, scope) for b in node.bases])
        for stmt in node.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name) and stmt.value is not None:
                        cls.attrs[t.id] = summarise(stmt.value, scope)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                cls.methods.append(stmt.name)
        self.facts.classes.append(cls)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, scope, class_name=qual)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: str, class_name: str) -> None:
        if class_name:
            qual = f"{class_name}.{node.name}"
        else:
            qual = f"{scope}.<locals>.{node.name}" if scope else node.name
        fn = FunctionFacts(
            name=node.name, qual=qual, line=node.lineno, end_line=node.end_lineno or node.lineno,
            scope=scope, class_name=class_name, is_async=isinstance(node, ast.AsyncFunctionDef),
            decorators=[summarise(d, scope) for d in node.decorator_list],
            params=_params(node.args, scope),
        )
        _FunctionAnalysis(fn, node, self.facts.imports, self.facts.calls).run()
        self.facts.functions.append(fn)
        # nested definitions: factories define routes and wrappers inside functions
        self._body(node.body, scope=qual, class_name="")


def _params(args: ast.arguments, scope: str) -> list[Param]:
    out = []
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for a, d in zip(positional, defaults):
        out.append(Param(a.arg, summarise(a.annotation, scope), summarise(d, scope)))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(Param(a.arg, summarise(a.annotation, scope), summarise(d, scope), "kwonly"))
    if args.vararg:
        out.append(Param(args.vararg.arg, None, None, "vararg"))
    if args.kwarg:
        out.append(Param(args.kwarg.arg, None, None, "kwarg"))
    return out


def _status_of(node: ast.AST) -> int | None:
    """401/403 written as a literal or as ``status.HTTP_401_UNAUTHORIZED`` / ``HTTPStatus.FORBIDDEN``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    name = dotted(node) or ""
    m = re.search(r"HTTP_(\d{3})", name)
    if m:
        return int(m.group(1))
    tail = name.rsplit(".", 1)[-1]
    return {"UNAUTHORIZED": 401, "FORBIDDEN": 403}.get(tail)


_WATCHED: dict[int, tuple[dict[str, str], tuple[frozenset[str], ...], int]] = {}


def _watched_names(imports: dict[str, str]) -> tuple[frozenset[str], ...]:
    """The names a module imports the request, the session and current_user under; found once
    per module (every function of it asks) and again after each import statement."""
    hit = _WATCHED.get(id(imports))
    if hit is not None and hit[0] is imports and len(imports) == hit[2]:
        return hit[1]
    found = (frozenset(n for n, t in imports.items() if t in ("flask.request", "quart.request")),
             frozenset(n for n, t in imports.items() if t in ("flask.session", "quart.session")),
             frozenset(n for n, t in imports.items() if t.endswith("current_user")))
    _WATCHED.clear()  # (one module at a time: keep only its entry)
    _WATCHED[id(imports)] = (imports, found, len(imports))
    return found


class _FunctionAnalysis:
    """The behavioural summary of one function body (nested functions included: a decorator's
    wrapper is where it decides)."""

    def __init__(self, fn: FunctionFacts, node: ast.FunctionDef | ast.AsyncFunctionDef, imports: dict[str, str],
                 registrations: list | None = None):
        self.registrations = registrations if registrations is not None else []
        self.fn = fn
        self.node = node
        self.imports = imports
        self.request_names, self.session_names, self.current_user_names = (set(names) for names in _watched_names(imports))
        for p in fn.params:
            ann = p.annotation
            if isinstance(ann, Ref) and self._qual(ann.dotted).rsplit(".", 1)[-1] in ("Request", "WebSocket", "HTTPConnection"):
                self.request_names.add(p.name)
        # parameters of the function and of its nested functions: calling one = calling the wrapped view
        self.wrapped = {p.name for p in fn.params if p.kind == "arg"}
        self.credential_vars: set[str] = set()
        self.source_vars: dict[str, str] = {}  # var -> read kind ("json") holding request data
        self.field_vars: dict[str, str] = {}  # var -> read ("json:title")
        self.validated_sources: set[str] = set()
        self.validated_reads: set[str] = set()
        # var -> read kinds: ``problems = check(data, spec)``, the verdict of a call given request data
        self.verdict_vars: dict[str, set[str]] = {}

    def _qual(self, name: str) -> str:
        head, _, rest = name.partition(".")
        if head in self.imports:
            return self.imports[head] + ("." + rest if rest else "")
        return name

    def run(self) -> None:
        fn, node = self.fn, self.node
        for p in fn.params:  # FastAPI: Depends()/Security()/Header() parameters
            for v in (p.default, p.annotation):
                self._param_marker(p, v)
        # every node, reused by every pass below (a decorator decides in its nested wrapper:
        # analyse both), and the calls of the function itself
        nodes, own_calls = _function_nodes(node)
        # call statements (``register_views(bp)``) and the assignments, in one pass
        statements: set[int] = set()
        assignments = []
        expr, call, assigning = ast.Expr, ast.Call, _ASSIGNMENTS
        for sub in nodes:
            kind = sub.__class__
            if kind is expr:
                if sub.value.__class__ is call:
                    statements.add(id(sub.value))
            elif kind in assigning:
                assignments.append(sub)
        for sub in own_calls:
            record_call(self.registrations, sub, fn.qual, statement=id(sub) in statements)
        self._branches_by_node = self._method_branches(nodes) if self.request_names else {}
        self._unconditional: set[str] = set()
        # names bound to request data / credentials, in source order
        assignments.sort(key=lambda n: (n.lineno, n.col_offset))
        for sub in assignments:
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
                self._assignment(sub.targets[0], sub.value)
            elif isinstance(sub, (ast.AnnAssign, ast.NamedExpr)) and sub.value is not None:
                self._assignment(sub.target, sub.value)
        # Call arguments are searched for request data only when the function mentions a name
        # that can carry it (most functions do not: the search walks every argument).
        carriers = self.request_names | self.source_vars.keys() | self.field_vars.keys()
        self._search_args = bool(carriers) and any(
            sub.__class__ is ast.Name and sub.id in carriers for sub in nodes)
        # An attribute matters only on one of the watched names (request.json, session.get,
        # current_user.id): every other one is skipped without a call.
        watched = self.request_names | self.session_names | self.current_user_names
        call, subscript, attribute, name = ast.Call, ast.Subscript, ast.Attribute, ast.Name
        for sub in nodes:
            kind = sub.__class__
            if kind is call:
                self._call(sub)
            elif kind is attribute:
                if sub.value.__class__ is name and sub.value.id in watched:
                    self._read(sub)
            elif kind is subscript:
                self._read(sub)
            elif kind is ast.Compare:
                self._compare(sub)
            elif kind is ast.Return and sub.value is not None:
                self._return(sub)
            elif kind is ast.Raise and sub.exc is not None:
                self._raise(sub)
        self._branches(node, nodes)
        fn.calls = sorted(set(fn.calls))
        reads = set(fn.reads)
        fielded = {r.split(":", 1)[0] for r in reads if ":" in r}
        fn.reads = sorted(r for r in reads if ":" in r or r not in fielded)
        fn.read_methods = {r: sorted(set(tags)) for r, tags in fn.read_methods.items()
                           if r not in self._unconditional and r in fn.reads}
        covered = set()
        for read in fn.reads:
            kind = read.split(":", 1)[0]
            if kind in self.validated_sources or read in self.validated_reads:
                covered.add(read)
        fn.unvalidated = [r for r in fn.reads if r not in covered]
        fn.validators = sorted(set(fn.validators))
        if fn.data_access == "none" and fn.storage_calls:
            fn.data_access = "storage?"  # confirmed centrally against the project's modules

    # -- FastAPI parameters
    def _method_branches(self, nodes: list[ast.AST]) -> dict[int, str]:
        """Nodes inside ``if request.method == "POST":`` (-> "POST") or its else (-> "!POST")."""
        out: dict[int, str] = {}
        for sub in nodes:
            if not isinstance(sub, ast.If) or not isinstance(sub.test, ast.Compare) or len(sub.test.ops) != 1:
                continue
            left, op, right = sub.test.left, sub.test.ops[0], sub.test.comparators[0]
            if not (isinstance(left, ast.Attribute) and left.attr == "method" and isinstance(left.value, ast.Name)
                    and left.value.id in self.request_names):
                continue
            values = [right] if isinstance(right, ast.Constant) else list(getattr(right, "elts", []))
            methods = ",".join(sorted(str(v.value).upper() for v in values if isinstance(v, ast.Constant)))
            if not methods:
                continue
            positive = isinstance(op, (ast.Eq, ast.In))
            for branch, tag in ((sub.body, methods if positive else "!" + methods),
                                (sub.orelse, "!" + methods if positive else methods)):
                for stmt in branch:
                    for n in walk(stmt):
                        out.setdefault(id(n), tag)
        return out

    def _add_read(self, read: str, node: ast.AST) -> None:
        self.fn.reads.append(read)
        tag = self._branches_by_node.get(id(node)) if self._branches_by_node else None
        if tag is None:
            self._unconditional.add(read)
        else:
            self.fn.read_methods.setdefault(read, []).append(tag)

    def _param_marker(self, p: Param, v: Any) -> None:
        if isinstance(v, Call):
            head = self._qual(v.func)
            tail = head.rsplit(".", 1)[-1]
            if tail in ("Depends", "Security"):
                self.fn.dependencies.append(v)
                ann = self._qual(p.annotation.dotted) if isinstance(p.annotation, Ref) else ""
                if _CREDENTIAL_NAME.search(p.name) or ann.endswith("HTTPAuthorizationCredentials"):
                    self.credential_vars.add(p.name)  # token: str = Depends(oauth2_scheme)
            elif tail == "Header" and _CREDENTIAL_HEADERS.match(p.name.replace("_", "-")):
                self.fn.reads_credential = True
                self.credential_vars.add(p.name)
            elif tail == "Cookie" and _CREDENTIAL_NAME.search(p.name):
                self.fn.reads_credential = True
                self.credential_vars.add(p.name)
            elif tail.endswith("[]"):  # Annotated[User, Depends(...)]
                for a in v.args:
                    self._param_marker(p, a)

    # -- request data and credentials
    def _request_attr(self, node: ast.AST) -> str | None:
        """The read kind when ``node`` is ``request.<source>`` (or ``request.get_json()``)."""
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.request_names:
            return _REQUEST_SOURCES.get(node.attr)
        return None

    def _assignment(self, target: ast.AST, value: ast.AST) -> None:
        name = target.id if isinstance(target, ast.Name) else None
        if name is None:
            return
        inner = value
        if isinstance(inner, ast.BoolOp):  # data = request.get_json() or {}
            inner = inner.values[0]
        if isinstance(inner, ast.Await):
            inner = inner.value
        kind = self._request_attr(inner)
        if kind:
            self.source_vars[name] = kind
            return
        if isinstance(inner, ast.Call) and not isinstance(target, ast.Starred):
            handed = {self.source_vars[a.id] for a in inner.args if isinstance(a, ast.Name) and a.id in self.source_vars}
            if handed:
                self.verdict_vars[name] = handed
        field_read = self._field_read(inner)
        if field_read:
            self.field_vars[name] = field_read
            if self._is_credential_read(inner):
                self.credential_vars.add(name)
            return
        if self._is_credential_read(inner) or (isinstance(inner, ast.Call) and any(
                isinstance(a, ast.Name) and a.id in self.credential_vars for a in inner.args)) or (
                isinstance(inner, ast.Subscript) and isinstance(inner.value, ast.Call)):
            if self._is_credential_read(inner) or _CREDENTIAL_NAME.search(name):
                self.credential_vars.add(name)
        elif _CREDENTIAL_NAME.search(name) and any(isinstance(s, ast.Name) and s.id in self.credential_vars
                                                   for s in walk(inner)):
            self.credential_vars.add(name)

    def _field_read(self, node: ast.AST) -> str | None:
        """``data["title"]`` / ``data.get("title")`` / ``request.args.get("q")`` -> "json:title"."""
        base, key = None, None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            base, key = node.value, node.slice.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getlist") \
                and node.args and isinstance(node.args[0], ast.Constant):
            base, key = node.func.value, node.args[0].value
        if base is None or not isinstance(key, str):
            return None
        kind = self._request_attr(base)
        if kind is None and isinstance(base, ast.Name):
            kind = self.source_vars.get(base.id)
        if kind is None:
            return None
        if isinstance(node, ast.Call) and any(k.arg == "type" for k in node.keywords):
            self.validated_reads.add(f"{kind}:{key}")  # request.args.get("page", type=int) converts and checks
        return f"{kind}:{key}"

    def _is_credential_read(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop"):
            base = node.func.value
            key = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            base, key = node.value, node.slice.value
        else:
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in self.request_names and node.attr == "authorization":
                return True
            return False
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id in self.request_names:
            if base.attr == "headers" and isinstance(key, str) and _CREDENTIAL_HEADERS.match(key):
                return True
            if base.attr == "cookies" and isinstance(key, str) and _CREDENTIAL_NAME.search(key):
                return True
            if base.attr in ("args", "values") and isinstance(key, str) and re.search(r"token|api_?key|access_token", key, re.I):
                return True
        if isinstance(base, ast.Name) and base.id in self.session_names and not isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
            self.fn.reads_session = True
            return True
        return False

    def _read(self, node: ast.Subscript | ast.Attribute) -> None:
        fn = self.fn
        if self._is_credential_read(node):
            fn.reads_credential = True
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name):
                if node.value.id in self.session_names and node.attr in ("get", "keys", "items", "__getitem__"):
                    fn.reads_session = True
                if node.value.id in self.current_user_names and node.attr in ("is_authenticated", "is_anonymous", "is_active", "id"):
                    fn.reads_session = True
                    if node.attr in ("is_authenticated", "is_anonymous"):
                        fn.verifies = True
                kind = self._request_attr(node)
                if kind and not node.attr.startswith("get") and kind != "path":
                    self._add_read(kind, node)  # dropped later when fields of the same source are read
            return
        field_read = self._field_read(node)
        if field_read:
            self._add_read(field_read, node)
        elif isinstance(node.value, ast.Name) and node.value.id in self.session_names and isinstance(node.ctx, ast.Load):
            fn.reads_session = True

    def _call(self, node: ast.Call) -> None:
        fn = self.fn
        func = node.func
        name = dotted(func)
        loose = name or loose_dotted(func)
        qual = self._qual(name) if name else loose
        kind_of = _call_kind(loose, qual, name)
        tail = kind_of.tail
        fn.calls.append(loose)
        if self._is_credential_read(node):
            fn.reads_credential = True
        field_read = self._field_read(node)
        if field_read:
            self._add_read(field_read, node)
        kind = self._request_attr(node)
        if kind in ("json", "body") and func.__class__ is ast.Attribute and func.attr in ("get_json", "get_data"):
            self._add_read(kind, node)
        # validation: Model.model_validate(x), Model(**x), schema.load(x), validate(x, schema)
        if self._search_args:
            data_args = [a.value if isinstance(a, ast.Starred) else a for a in node.args] + \
                        [k.value for k in node.keywords]
            sources = set()
            for arg in data_args:
                for a in walk(arg):  # Model.model_validate(request.get_json() or {}), Q(**request.args.to_dict())
                    if isinstance(a, ast.Name) and a.id in self.source_vars:
                        sources.add(self.source_vars[a.id])
                    if isinstance(a, (ast.Attribute, ast.Call)):
                        kind_direct = self._request_attr(a)
                        if kind_direct:
                            sources.add(kind_direct)
                    if isinstance(a, ast.Name) and a.id in self.field_vars:
                        sources.add("@" + self.field_vars[a.id])
            if sources:
                if kind_of.validator:
                    fn.validators.append(loose)
                    self._mark_validated(sources)
                elif any(k.arg is None for k in node.keywords) or tail[:1].isupper():
                    for s in sources:  # Model(**data) / Model(title=data["title"]): a pydantic model? decided centrally
                        fn.constructs.append((loose, s))
        # authentication
        auth = kind_of.auth
        if auth == "jwt-decode":
            if self._insecure_decode(node):
                if not self._in_dev_switch(node):
                    fn.insecure_verify = True
            else:
                fn.verifies = True
        elif auth == "verifies":
            fn.verifies = True  # itsdangerous serializers / signers, compare_digest, verify_token()
        elif auth == "library":
            fn.verifies = fn.reads_credential = fn.rejects = fn.auth_lib_calls = True
        credential_vars = self.credential_vars
        if credential_vars and kind_of.may_check:
            attribute = func.__class__ is ast.Attribute
            if (not attribute or not kind_of.logging) and any(
                    isinstance(a, ast.Name) and a.id in credential_vars for a in node.args):
                fn.verifies = True  # the credential is looked up / checked (user_for_api_key(key), decode(token))
        refusal = kind_of.refusal
        if refusal == "abort":
            if node.args and _status_of(node.args[0]) in (401, 403):
                fn.rejects = True
        elif refusal == "response":
            status = next((k.value for k in node.keywords if k.arg in ("status_code", "status", "code")), None)
            if (status is not None and _status_of(status) in (401, 403)) or any(_status_of(a) in (401, 403) for a in node.args[1:2]):
                fn.rejects = True
            if tail == "HTTPException" and node.args and _status_of(node.args[0]) in (401, 403):
                fn.rejects = True
        elif refusal == "refusal":
            fn.rejects = True
        elif refusal == "redirect" and node.args and re.search(r"login|signin|sign_in", ast.dump(node.args[0]), re.I):
            fn.rejects = True
        # data access
        data = kind_of.data
        if data == "direct":
            fn.data_access = "direct"
        elif data:
            fn.storage_calls.append(loose)
            if data == "storage" and fn.data_access == "none":
                fn.data_access = "storage"

    def _mark_validated(self, sources: set[str]) -> None:
        for s in sources:
            if s.startswith("@"):
                self.validated_reads.add(s[1:])
            else:
                self.validated_sources.add(s)

    def _compare(self, node: ast.Compare) -> None:
        # "Authorization" in request.headers; token == current_app.config["API_KEY"]
        parts = [node.left, *node.comparators]
        if any(isinstance(p, ast.Name) and p.id in self.session_names for p in parts):
            self.fn.reads_session = True  # "user_id" not in session
        for a in parts:
            if isinstance(a, ast.Constant) and isinstance(a.value, str) and _CREDENTIAL_HEADERS.match(a.value):
                self.fn.reads_credential = True
        if any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            names = {p.id for p in parts if isinstance(p, ast.Name)}
            # token != secret, or inline: request.headers["X-API-Key"] != os.environ["API_KEY"]
            credential = bool(names & self.credential_vars) or any(self._is_credential_read(p) for p in parts)
            if credential and not any(isinstance(p, ast.Constant) for p in parts):
                self.fn.verifies = True

    def _return(self, node: ast.Return) -> None:
        v = node.value
        name = dotted(v) if v is not None else None
        if name:
            self.fn.returns.append(name)
        if isinstance(v, ast.Tuple) and len(v.elts) >= 2 and _status_of(v.elts[1]) in (401, 403):
            self.fn.rejects = True

    def _raise(self, node: ast.Raise) -> None:
        exc = node.exc
        if isinstance(exc, ast.Call):
            return  # handled by _call (HTTPException(401), Unauthorized())
        name = dotted(exc) or ""
        if re.search(r"unauthori[sz]ed|forbidden|credentials_exception|auth", name, re.I):
            self.fn.rejects = True

    def _insecure_decode(self, node: ast.Call) -> bool:
        for k in node.keywords:
            if k.arg == "verify" and isinstance(k.value, ast.Constant) and k.value.value is False:
                return True
            if k.arg == "options" and isinstance(k.value, ast.Dict):
                for key, val in zip(k.value.keys, k.value.values):
                    if isinstance(key, ast.Constant) and key.value in ("verify_signature", "verify_exp") \
                            and key.value == "verify_signature" and isinstance(val, ast.Constant) and val.value is False:
                        return True
            if k.arg == "algorithms" and "none" in ast.dump(k.value).lower().replace("'none'", "none") and \
                    re.search(r"'none'", ast.dump(k.value), re.I):
                return True
        return False

    def _in_dev_switch(self, target: ast.AST) -> bool:
        for sub in ast.walk(self.node):
            if isinstance(sub, ast.If) and _is_dev_switch(sub.test):
                if any(n is target for b in sub.body for n in ast.walk(b)):
                    return True
        return False

    # -- branches: pass-through on missing credential, dev-switch bypasses
    def _branches(self, node: ast.AST, nodes: list[ast.AST]) -> None:
        fn = self.fn
        # Only guards need the credential analysis, and only handlers with data the value checks:
        # most functions of a big tree skip both (this keeps the whole-tree pass fast).
        guard_like = bool(fn.reads_credential or fn.reads_session or fn.verifies or fn.insecure_verify
                          or fn.rejects or self.credential_vars)
        checks_values = bool(self.field_vars) or bool(self.verdict_vars) or any(
            p.kind == "arg" and p.name not in ("self", "cls") for p in fn.params)
        if not (guard_like or checks_values):
            return
        for sub in nodes:
            if isinstance(sub, ast.If):
                if checks_values:
                    names = {n.id for n in walk(sub.test) if isinstance(n, ast.Name)}
                    if names and _is_value_check(sub.test) and self._refuses(sub.body):
                        fn.checked_names = sorted(set(fn.checked_names) | names)
                        checked = {n for n in names if n in self.field_vars}
                        # an explicit check of the field (type, length, format) that refuses bad input
                        self.validated_reads.update(self.field_vars[v] for v in checked)
                    verdict = _tested_name(sub.test)
                    if verdict in self.verdict_vars and self._refuses(sub.body):
                        # problems = check_fields(data, spec); if problems: return ..., 400
                        self._mark_validated(self.verdict_vars[verdict])
                if not guard_like:
                    continue
                if _is_dev_switch(sub.test):
                    if self._lets_through(sub.body) or self._sets_identity(sub.body):
                        fn.dev_bypass.append(sub.lineno)
                    continue
                cred = self._credential_test(sub.test)
                if cred == "missing" and self._lets_through(sub.body) and not self._body_rejects(sub.body):
                    fn.passthrough = fn.passthrough or sub.lineno
                elif cred == "present" and not sub.orelse and self._body_rejects(sub.body) is False \
                        and any(self._verifies_in(b) for b in sub.body):
                    pass
                elif cred == "present" and any(self._verifies_in(b) for b in sub.body) and not self._body_rejects(sub.orelse) \
                        and not self._rejects_outside(node, sub):
                    fn.passthrough = fn.passthrough or sub.lineno
            elif isinstance(sub, ast.Try) and guard_like:
                if any(self._verifies_in(b) for b in sub.body):
                    for h in sub.handlers:
                        if not self._body_rejects(h.body) and not any(isinstance(s, (ast.Return, ast.Raise)) for b in h.body
                                                                      for s in ast.walk(b)):
                            fn.passthrough = fn.passthrough or h.lineno

    def _refuses(self, body: list[ast.stmt]) -> bool:
        """The branch answers with an error (return ..., 4xx / abort(4xx) / raise)."""
        for stmt in body:
            for sub in walk(stmt):
                if isinstance(sub, ast.Raise):
                    return True
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.Tuple) and len(sub.value.elts) >= 2:
                    status = _status_of(sub.value.elts[1])
                    if status and 400 <= status < 500:
                        return True
                if isinstance(sub, ast.Call) and loose_dotted(sub.func).rsplit(".", 1)[-1] in ("abort", "HTTPException") \
                        and sub.args and (_status_of(sub.args[0]) or 0) >= 400:
                    return True
        return False

    def _credential_test(self, test: ast.AST) -> str | None:
        """"missing" for ``not token`` / ``token is None`` / ``"Authorization" not in headers``;
        "present" for ``token`` / ``token is not None``."""
        if isinstance(test, ast.BoolOp):
            kinds = {self._credential_test(v) for v in test.values} - {None}
            return kinds.pop() if len(kinds) == 1 else None
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._credential_test(test.operand)
            return {"present": "missing", "missing": "present"}.get(inner or "")
        if isinstance(test, ast.Name) and (test.id in self.credential_vars):
            return "present"
        if isinstance(test, ast.Call) and self._is_credential_read(test):
            return "present"
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            is_cred = (isinstance(left, ast.Name) and left.id in self.credential_vars) or self._is_credential_read(left)
            if is_cred and isinstance(right, ast.Constant) and right.value in (None, ""):
                return "missing" if isinstance(op, (ast.Is, ast.Eq)) else "present"
            if isinstance(left, ast.Constant) and isinstance(left.value, str) and _CREDENTIAL_HEADERS.match(left.value):
                return "missing" if isinstance(op, ast.NotIn) else "present"
        return None

    def _lets_through(self, body: list[ast.stmt]) -> bool:
        """The branch calls the wrapped view or returns without rejecting."""
        for stmt in body:
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in self._wrapped_names():
                    return True
            if isinstance(stmt, ast.Return):
                v = stmt.value
                if v is None or (isinstance(v, ast.Constant) and v.value is None):
                    return True
                if not (isinstance(v, ast.Tuple) and len(v.elts) >= 2 and _status_of(v.elts[1]) in (401, 403)) \
                        and not self._body_rejects([stmt]):
                    return True
        return False

    def _wrapped_names(self) -> set[str]:
        names = set(self.wrapped)
        # the outer decorator's parameter (f, fn, view) is what wrappers call
        return names | {"f", "fn", "func", "view", "view_func", "wrapped", "function", "handler", "call_next"}

    def _sets_identity(self, body: list[ast.stmt]) -> bool:
        for stmt in body:
            for sub in ast.walk(stmt):
                if isinstance(sub, (ast.Assign, ast.AnnAssign)):
                    targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                    for t in targets:
                        text = loose_dotted(t) if not isinstance(t, ast.Tuple) else ""
                        if re.search(r"user|identity|current", text, re.I):
                            return True
        return False

    def _body_rejects(self, body: list[ast.stmt]) -> bool:
        probe = FunctionFacts("", "", 0, 0, "")
        sub_analysis = _FunctionAnalysis.__new__(_FunctionAnalysis)
        sub_analysis.__dict__.update(self.__dict__)
        sub_analysis.fn = probe
        for stmt in body:
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call):
                    sub_analysis._call(sub)
                elif isinstance(sub, ast.Return) and sub.value is not None:
                    sub_analysis._return(sub)
                elif isinstance(sub, ast.Raise) and sub.exc is not None:
                    sub_analysis._raise(sub)
                    if isinstance(sub.exc, ast.Name):
                        probe.rejects = True  # re-raising a named exception also refuses the request
        return probe.rejects

    def _verifies_in(self, stmt: ast.stmt) -> bool:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Call):
                tail = loose_dotted(sub.func).rsplit(".", 1)[-1]
                if tail in ("decode", "loads", "unsign", "compare_digest") or _VERIFIER_NAME.match(tail):
                    return True
        return False

    def _rejects_outside(self, root: ast.AST, branch: ast.If) -> bool:
        inside = {id(n) for b in branch.body for n in ast.walk(b)}
        rest = [n for n in ast.walk(root) if id(n) not in inside and n is not branch and isinstance(n, ast.stmt)]
        return self._body_rejects([n for n in rest if isinstance(n, (ast.Return, ast.Raise, ast.Expr))])


class _CallKind(NamedTuple):
    """What a call's name alone says (see :func:`_call_kind`)."""

    tail: str
    validator: bool  # handed request data, it validates it (Model.model_validate, schema.load, validate_x)
    auth: str  # "jwt-decode", "verifies", "library" (flask_jwt_extended) or ""
    may_check: bool  # handed a credential, it checks it (not len(), print(), ...)
    logging: bool  # a logger's method (log.info(token) checks nothing)
    refusal: str  # "abort", "response", "refusal", "redirect" or ""
    data: str  # "direct" (queries the database), "storage" (a storage layer's method), "call" or ""


_CALL_KINDS: dict[tuple[str, str, int], _CallKind] = {}
_JWT_DECODES = frozenset({"jwt.decode", "jose.jwt.decode", "jwt.api_jwt.decode", "jwt.PyJWT.decode", "authlib.jose.jwt.decode"})
_NOT_VERIFYING_LOADS = frozenset({"json.loads", "pickle.loads", "yaml.load", "marshal.loads"})


def _call_kind(loose: str, qual: str, name: str | None) -> _CallKind:
    """The facts a call's name gives (``loose``: as written, ``qual``: through the imports,
    ``name``: the dotted name when the callee is a plain chain), worked out once per name: a
    tree repeats its call names, and the tests below are string searches."""
    key = (loose, qual, 0 if name is None else 2 if "." in name else 1)
    found = _CALL_KINDS.get(key)
    if found is not None:
        return found
    tail = loose.rsplit(".", 1)[-1]
    validator = bool(tail in ("model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate",
                              "load", "loads", "validate_python", "validate_json", "parse", "parse_args")
                     and qual not in ("json.loads", "pickle.loads", "marshal.loads", "yaml.load")
                     or _VALIDATOR_NAME.search(tail))
    if qual in _JWT_DECODES or (tail == "decode" and "jwt" in loose.lower()):
        auth = "jwt-decode"
    elif tail in ("loads", "unsign") and qual not in _NOT_VERIFYING_LOADS:
        auth = "verifies"
    elif tail in ("compare_digest", "check_password_hash", "verify_password", "checkpw") or _VERIFIER_NAME.match(tail):
        auth = "verifies"
    elif qual.startswith("flask_jwt_extended.") and tail in ("verify_jwt_in_request", "get_jwt_identity", "get_jwt"):
        auth = "library"
    else:
        auth = ""
    if tail in ("abort", "abort_json") or qual.endswith("werkzeug.exceptions.abort"):
        refusal = "abort"
    elif tail in ("HTTPException", "JSONResponse", "Response", "make_response", "jsonify", "HTTPError"):
        refusal = "response"
    elif tail in ("Unauthorized", "Forbidden", "AuthenticationFailed", "NotAuthenticated", "PermissionDenied",
                  "unauthorized", "unauthorized_callback") or _REFUSAL_NAME.search(tail):
        refusal = "refusal"
    elif tail == "redirect":
        refusal = "redirect"
    else:
        refusal = ""
    if _direct_db(loose) or _direct_db(qual) or qual.startswith(("sqlalchemy.text", "sqlite3.", "psycopg", "pymysql")):
        data = "direct"
    elif name and "." in name:
        data = "storage" if _STORAGE_WORD.search(name.rsplit(".", 1)[0]) else "call"
    elif name:
        data = "call"
    else:
        data = ""
    found = _CallKind(tail, validator, auth, tail not in _NOT_A_CHECK, bool(_LOGGING.search(loose)), refusal, data)
    if len(_CALL_KINDS) > 100_000:  # (bounded: a huge tree of unique names must not grow it for ever)
        _CALL_KINDS.clear()
    _CALL_KINDS[key] = found
    return found


# names that say what a call does (compiled once; with _call_kind's cache, tested once per name)
_VALIDATOR_NAME = re.compile(r"validat|schema", re.I)
_VERIFIER_NAME = re.compile(r"(verify|validate|check|decode)_?\w*(token|jwt|key|signature|credential|auth)", re.I)
_REFUSAL_NAME = re.compile(r"unauthori[sz]ed|forbidden", re.I)

_CHECK_CALLS = re.compile(r"^(isinstance|len|match|fullmatch|search|isdigit|isnumeric|isdecimal|isalnum|isalpha|"
                          r"isascii|endswith|startswith|validate\w*|is_valid\w*|allowed\w*)$")


def _tested_name(test: ast.AST) -> str | None:
    """``x`` of ``if x:`` / ``if not x:`` / ``if len(x):`` / ``if x is not None:``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "len" and len(test.args) == 1:
        test = test.args[0]
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
        test = test.left
    return test.id if isinstance(test, ast.Name) else None


def _is_value_check(test: ast.AST) -> bool:
    """A test of a value's type, length, range or format (not mere presence: ``if not x``,
    ``x is None`` and ``x == ""`` only say something was sent)."""
    for sub in walk(test):
        if isinstance(sub, ast.Call) and _CHECK_CALLS.match(loose_dotted(sub.func).rsplit(".", 1)[-1]):
            return True
        if isinstance(sub, ast.Compare):
            for op, right in zip(sub.ops, sub.comparators):
                if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
                    return True
                if isinstance(op, (ast.In, ast.NotIn)) and not isinstance(right, ast.Name | ast.Attribute) or \
                        isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Name) and right.id.isupper():
                    return True
    return False


def _is_dev_switch(test: ast.AST) -> bool:
    """``if app.debug`` / ``if os.getenv("SKIP_AUTH")`` / ``if ENV == "development"``."""
    text_parts = []
    for sub in walk(test):
        if isinstance(sub, ast.Name):
            text_parts.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            text_parts.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            text_parts.append(sub.value)
    return bool(_DEV_SWITCH.search(" ".join(text_parts)))


def iter_decorator_calls(fn: FunctionFacts) -> Iterator[Call]:
    for d in fn.decorators:
        if isinstance(d, Call):
            yield d
