"""FastAPI routes: ``@app.get`` / ``@router.post`` / ``api_route`` / ``add_api_route``, routers
included (and nested) with ``include_router(prefix=...)`` anywhere in the project, paths
joined as FastAPI joins them (include prefix + router prefix at each level), and the
dependencies that cover each route (app, router, include and route ``dependencies=[...]``,
``Depends``/``Security`` parameters), plus what each parameter's type validates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .endpoint import Endpoint, GuardRef
from .facts import Call, FileFacts, FunctionFacts, Ref
from .project import Project, string_list

__all__ = ["gather_fastapi"]

_SHORTCUTS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE",
              "head": "HEAD", "options": "OPTIONS", "trace": "TRACE"}
_HIDDEN = {"HEAD", "OPTIONS"}
_PRIMITIVES = {"int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple", "datetime", "date", "uuid",
               "UUID", "Decimal", "EmailStr", "HttpUrl", "AnyUrl", "conint", "constr", "Literal", "Enum", "Path",
               "Query", "Body", "Form", "File", "UploadFile", "Optional", "Union", "List", "Dict", "Annotated"}
_NOT_DATA = {"Request", "WebSocket", "Response", "BackgroundTasks", "HTTPConnection", "Session", "AsyncSession",
             "SecurityScopes", "HTTPAuthorizationCredentials", "OAuth2PasswordRequestForm"}


@dataclass
class _Decl:
    owner: str
    path: str
    methods: list[str]
    file: FileFacts
    function: FunctionFacts
    guards: list[GuardRef] = field(default_factory=list)
    limited: bool = False
    exempt: bool = False


@dataclass
class _Owner:
    qual: str
    kind: str
    prefix: str = ""
    dependencies: list[GuardRef] = field(default_factory=list)
    decls: list[_Decl] = field(default_factory=list)
    children: list[tuple[str, str, list[GuardRef]]] = field(default_factory=list)
    middleware: list[GuardRef] = field(default_factory=list)
    has_parent: bool = False


def gather_fastapi(project: Project, default_limited: bool) -> list[Endpoint]:
    owners: dict[str, _Owner] = {}

    def owner(qual: str) -> _Owner | None:
        kind = project.kind(qual)
        if kind not in ("fastapi_app", "router"):
            return None
        if qual not in owners:
            o = _Owner(qual, kind)
            made = project.object_call(qual)
            if made:
                f, call, scope = made
                prefix = project.literal(f.module, call.kw("prefix"), scope)
                o.prefix = prefix if isinstance(prefix, str) else ""
                o.dependencies = _deps(project, f, call.kw("dependencies"), scope)
            owners[qual] = o
        return owners[qual]

    for (f, fn) in project.functions.values():
        if fn.class_name:
            continue
        decls = []
        guards: list[GuardRef] = []
        limited = exempt = False
        for dec in fn.decorators:
            func = dec.func if isinstance(dec, Call) else dec.dotted if isinstance(dec, Ref) else ""
            receiver, _, attr = func.rpartition(".")
            if receiver and (attr in _SHORTCUTS or attr == "api_route") and isinstance(dec, Call):
                o = next((o for q in project.resolve_all(f.module, receiver, fn.scope) if (o := owner(q))), None)
                if o is not None:
                    path = project.literal(f.module, dec.arg(0, "path"), fn.scope)
                    if isinstance(path, str):
                        methods = [_SHORTCUTS[attr]] if attr in _SHORTCUTS else (
                            string_list(project.literal(f.module, dec.kw("methods"), fn.scope)) or ["GET"])
                        decls.append((o, path, methods, _deps(project, f, dec.kw("dependencies"), fn.scope)))
                    continue
            if receiver and attr == "middleware" and isinstance(dec, Call):
                o = owner(project.resolve(f.module, receiver, fn.scope))
                if o is not None:
                    o.middleware.append(GuardRef(f.module, Ref(fn.name, fn.scope), fn.scope, "middleware"))
                    continue
            if receiver and attr in ("limit", "shared_limit", "exempt"):
                if project.kind(project.resolve(f.module, receiver, fn.scope)) == "limiter" or "limit" in receiver.lower():
                    exempt = exempt or attr == "exempt"
                    limited = limited or attr != "exempt"
                    continue
            guards.append(GuardRef(f.module, dec, fn.scope))
        for o, path, methods, route_deps in decls:
            o.decls.append(_Decl(o.qual, path, methods, f, fn, [*route_deps, *guards], limited, exempt))

    for f in project.files.values():
        for call in f.calls:
            receiver, _, attr = call.func.rpartition(".")
            if not receiver or receiver.endswith("()"):
                continue
            o = owner(project.resolve(f.module, receiver, call.scope))
            if o is None:
                continue
            if attr == "include_router":
                child_ref = call.arg(0, "router")
                if isinstance(child_ref, Ref):
                    c = owner(project.resolve(f.module, child_ref.dotted, child_ref.scope))
                    if c is not None:
                        prefix = project.literal(f.module, call.kw("prefix"), call.scope)
                        o.children.append((c.qual, prefix if isinstance(prefix, str) else "",
                                           _deps(project, f, call.kw("dependencies"), call.scope)))
                        c.has_parent = True
            elif attr == "add_api_route":
                path = project.literal(f.module, call.arg(0, "path"), call.scope)
                endpoint = call.arg(1, "endpoint")
                if isinstance(path, str) and isinstance(endpoint, Ref):
                    entry = project.function(project.resolve(f.module, endpoint.dotted, endpoint.scope))
                    if entry:
                        ff, fn = entry
                        methods = string_list(project.literal(f.module, call.kw("methods"), call.scope)) or ["GET"]
                        guards = _deps(project, f, call.kw("dependencies"), call.scope) + \
                            [GuardRef(ff.module, d, fn.scope) for d in fn.decorators]
                        o.decls.append(_Decl(o.qual, path, methods, ff, fn, guards))
            elif attr == "add_middleware" and call.args:
                o.middleware.append(GuardRef(f.module, call.args[0], call.scope, "middleware"))

    return _mount(project, owners, default_limited)


def _deps(project: Project, f: FileFacts, value: Any, scope: str) -> list[GuardRef]:
    value = project.literal(f.module, value, scope)
    if not isinstance(value, list):
        return []
    return [GuardRef(f.module, v, scope, "dependency") for v in value if isinstance(v, (Call, Ref))]


def _mount(project: Project, owners: dict[str, _Owner], default_limited: bool) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    seen: set[tuple] = set()

    def walk(o: _Owner, prefix: str, guards: list[GuardRef], path: tuple) -> None:
        if o.qual in path or len(path) > 20:
            return
        guards = [*guards, *o.middleware, *o.dependencies]
        here = prefix + o.prefix
        for d in o.decls:
            full = here + d.path
            for method in d.methods:
                method = method.upper()
                if method in _HIDDEN:
                    continue
                key = (method, full, d.file.rel, d.function.line)
                if key in seen:
                    continue
                seen.add(key)
                ep = Endpoint(method=method, path=full, framework="fastapi", file=d.file, function=d.function,
                              handler=d.function.name, guards=[*guards, *d.guards],
                              limited=(d.limited or default_limited) and not d.exempt, exempt=d.exempt)
                _parameters(project, ep, full)
                endpoints.append(ep)
        for child_qual, include_prefix, include_deps in o.children:
            walk(owners[child_qual], here + include_prefix, [*guards, *include_deps], (*path, o.qual))

    try:
        for o in list(owners.values()):
            if o.kind == "fastapi_app":
                walk(o, "", [], ())
        for o in list(owners.values()):
            if o.kind == "router" and not o.has_parent:
                walk(o, "", [], ())
        return endpoints
    finally:
        # A recursive closure refers to itself: without this, it and all it reaches (the whole
        # project's facts) would wait for the cyclic garbage collector, which the map keeps off.
        del walk


def _parameters(project: Project, ep: Endpoint, path: str) -> None:
    """Sort the handler's parameters: dependencies (guards), path parameters, and request data
    validated by its type (pydantic models, typed query/form/file parameters) or not."""
    f, fn = ep.file, ep.function
    for p in fn.params:
        if p.kind in ("vararg", "kwarg") or p.name in ("self", "cls"):
            continue
        annotation, ann_file, ann_scope = p.annotation, f, fn.scope
        alias = project.annotated_alias(f.module, p.annotation, fn.scope)
        if alias is not None:  # `current_user: CurrentUserDep`: the Annotated[...] it names, where it was written
            ann_file, annotation, ann_scope = project.files[alias[0]], alias[1], alias[2]
        marker = _marker(project, f, p.default, annotation)
        if marker in ("Depends", "Security"):
            if _is_call_named(p.default, ("Depends", "Security")):
                ep.guards.append(GuardRef(f.module, p.default, fn.scope, "dependency"))
            elif (dep := _annotated_dep(annotation)) is not None:
                ep.guards.append(GuardRef(ann_file.module, dep, ann_scope, "dependency"))
            continue
        ann_name = _type_name(project, ann_file, annotation)
        if ann_name in _NOT_DATA:
            continue
        if "{" + p.name + "}" in path or "{" + p.name + ":" in path:
            continue  # path parameter: part of the URL, converted by its type
        kind = {"Form": "form", "File": "files", "Body": "json", "Header": "headers", "Cookie": "cookies"}.get(marker, "")
        if ann_name == "UploadFile":
            kind = "files"
        if not kind:
            kind = "json" if _is_model(project, ann_file, annotation) else "args"
        if kind in ("headers", "cookies"):
            continue
        read = f"{kind}:{p.name}"
        if kind == "files":
            ep.uploads = True
        if annotation is None or ann_name in ("Any", "object") or (kind == "files" and p.name not in fn.checked_names):
            # an upload's type says nothing of its content type, size or name: validated only by an explicit check
            ep.untyped_reads.append(read)
        else:
            ep.typed_reads.append(read)


def _is_call_named(value: Any, names: tuple[str, ...]) -> bool:
    return isinstance(value, Call) and value.func.rsplit(".", 1)[-1] in names


def _annotated_dep(annotation: Any) -> Any:
    if isinstance(annotation, Call) and annotation.func.endswith("[]"):
        for a in annotation.args:
            if _is_call_named(a, ("Depends", "Security")):
                return a
    return None


def _marker(project: Project, f: FileFacts, default: Any, annotation: Any) -> str:
    for v in (default, *(annotation.args if isinstance(annotation, Call) and annotation.func.endswith("[]") else ())):
        if isinstance(v, Call):
            tail = v.func.rsplit(".", 1)[-1]
            if tail in ("Depends", "Security", "Form", "File", "Body", "Query", "Header", "Cookie", "Path"):
                return tail
    return ""


def _type_name(project: Project, f: FileFacts, annotation: Any) -> str:
    if isinstance(annotation, Ref):
        return annotation.dotted.rsplit(".", 1)[-1]
    if isinstance(annotation, Call) and annotation.func.endswith("[]"):
        base = annotation.func[:-2].rsplit(".", 1)[-1]
        if base in ("Annotated", "Optional") and annotation.args:
            return _type_name(project, f, annotation.args[0])
        if base == "Union":
            names = [_type_name(project, f, a) for a in annotation.args if a is not None]
            return next((n for n in names if n not in ("None", "NoneType")), "")
        return base
    if isinstance(annotation, str):
        return annotation
    return ""


def _is_model(project: Project, f: FileFacts, annotation: Any) -> bool:
    if isinstance(annotation, Ref):
        return project.kind(project.resolve(f.module, annotation.dotted, annotation.scope)) == "model"
    if isinstance(annotation, Call) and annotation.func.endswith("[]"):
        return any(_is_model(project, f, a) for a in annotation.args)
    return False
