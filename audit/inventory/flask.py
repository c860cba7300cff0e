"""Flask routes: ``@app.route`` / ``@bp.route`` and the method shortcuts, ``add_url_rule`` with
functions and class-based views, blueprints registered (and nested) anywhere in the
project, with prefixes joined as Flask joins them, plus the guards and limits that cover
each route (``before_request`` of the app and of every enclosing blueprint, blueprint
limits, ``limiter.exempt``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .endpoint import Endpoint, GuardRef, join_flask_rule
from .facts import Call, FileFacts, FunctionFacts, Ref
from .project import Project, string_list

__all__ = ["gather_flask"]

_SHORTCUTS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}
_VERBS = ("get", "post", "put", "patch", "delete")
_HIDDEN = {"HEAD", "OPTIONS"}


@dataclass
class _Decl:
    """A rule declared on an app or blueprint, before prefixes are applied."""

    owner: str
    rule: str
    methods: list[str]
    file: FileFacts
    function: FunctionFacts
    handler: str
    guards: list[GuardRef] = field(default_factory=list)
    limited: bool = False
    exempt: bool = False


@dataclass
class _Owner:
    """An app or blueprint: its rules, children, guards and limits."""

    qual: str
    kind: str
    url_prefix: str | None = None
    decls: list[_Decl] = field(default_factory=list)
    children: list[tuple[str, Any]] = field(default_factory=list)  # (child qual, url_prefix option or None)
    before: list[GuardRef] = field(default_factory=list)
    limited: bool = False
    exempt: bool = False  # limiter.exempt(bp): no default limit on its routes
    has_parent: bool = False


def gather_flask(project: Project, default_limited: bool) -> list[Endpoint]:
    """Every Flask endpoint of the project, prefixes applied."""
    owners: dict[str, _Owner] = {}

    def owner(qual: str) -> _Owner | None:
        kind = project.kind(qual)
        if kind not in ("flask_app", "blueprint"):
            return None
        if qual not in owners:
            o = _Owner(qual, kind)
            made = project.object_call(qual)
            if made and kind == "blueprint":
                f, call, scope = made
                prefix = project.literal(f.module, call.kw("url_prefix"), scope)
                o.url_prefix = prefix if isinstance(prefix, str) else None
            owners[qual] = o
        return owners[qual]

    limiter_exempt: set[str] = set()
    # decorated functions
    for fkey, (f, fn) in project.functions.items():
        if fn.class_name:
            continue
        route_decls: list[tuple[_Owner, str, list[str]]] = []
        guards: list[GuardRef] = []
        limited = exempt = False
        for dec in fn.decorators:
            func = dec.func if isinstance(dec, Call) else dec.dotted if isinstance(dec, Ref) else ""
            receiver, _, attr = func.rpartition(".")
            if receiver and attr in ("route", *_SHORTCUTS):
                targets = [o for q in project.resolve_all(f.module, receiver, fn.scope) if (o := owner(q)) is not None]
                if targets and isinstance(dec, Call):
                    rule = project.literal(f.module, dec.arg(0, "rule"), fn.scope)
                    if isinstance(rule, str):
                        if attr == "route":
                            methods = string_list(project.literal(f.module, dec.kw("methods"), fn.scope)) or ["GET"]
                        else:
                            methods = [_SHORTCUTS[attr]]
                        route_decls.extend((o, rule, methods) for o in targets)
                    continue
            if receiver and attr in ("limit", "shared_limit", "exempt"):
                if project.kind(project.resolve(f.module, receiver, fn.scope)) == "limiter" or "limit" in receiver.lower():
                    if attr == "exempt":
                        exempt = True
                    else:
                        limited = True
                    continue
            if receiver and attr in ("before_request", "before_app_request"):
                o = owner(project.resolve(f.module, receiver, fn.scope))
                if o is not None:
                    o.before.append(GuardRef(f.module, Ref(fn.qual, fn.scope) if not fn.scope else Ref(fn.name, fn.scope),
                                             fn.scope, "before_request"))
                continue
            guards.append(GuardRef(f.module, dec, fn.scope))
        for o, rule, methods in route_decls:
            o.decls.append(_Decl(o.qual, rule, methods, f, fn, fn.name, guards, limited, exempt))
        if exempt:
            limiter_exempt.add(fkey)

    # calls: registrations, add_url_rule, before_request(f), limiter.limit(...)(bp)
    for f in project.files.values():
        for call in f.calls:
            _interpret_call(project, f, call, owner)

    return _mount(project, owners, default_limited)


def _expand(project: Project, f: FileFacts, value: Any, scope: str) -> list[Any]:
    """``bp`` as written, or each element when ``bp`` is a loop variable over a literal list."""
    if isinstance(value, Ref):
        for loop_scope, var, iterable in f.loops:
            if var == value.dotted and loop_scope == scope:
                items = project.literal(f.module, iterable, scope) if isinstance(iterable, Ref) else iterable
                if isinstance(items, Ref):  # a module constant list in another module
                    qual = project.resolve(f.module, items.dotted, scope)
                    entry = project.assigns.get(qual)
                    if entry:
                        return [(entry[0], v) for v in entry[1]] if isinstance(entry[1], list) else []
                if isinstance(items, list):
                    return [(f, v) for v in items if isinstance(v, (Ref, list))]
        return [(f, value)]
    return []


def _interpret_call(project: Project, f: FileFacts, call: Call, owner) -> None:
    func = call.func
    scope = call.scope
    if func.endswith("()"):  # limiter.limit("5/minute")(bp) or app.route("/x")(view)
        inner = func[:-2]
        receiver, _, attr = inner.rpartition(".")
        if receiver and attr in ("route", *_SHORTCUTS) and call.args and isinstance(call.inner, Call):
            # app.route("/x", methods=[...])(view), bp.post("/x")(view): the decorator applied by hand
            rule = project.literal(f.module, call.inner.arg(0, "rule"), scope)
            if not isinstance(rule, str):
                return
            if attr == "route":
                methods = string_list(project.literal(f.module, call.inner.kw("methods"), scope)) or None
            else:
                methods = [_SHORTCUTS[attr]]
            for q in project.resolve_all(f.module, receiver, scope):
                target_owner = owner(q)
                if target_owner is not None:
                    _add_view(project, f, target_owner, rule, call.args[0], methods, scope)
            return
        if attr in ("limit", "shared_limit") and call.args:
            if project.kind(project.resolve(f.module, receiver, scope)) == "limiter" or "limit" in receiver.lower():
                for ff, target in _expand(project, f, call.args[0], scope):
                    if isinstance(target, Ref):
                        o = owner(project.resolve(ff.module, target.dotted, target.scope or scope))
                        if o is not None:
                            o.limited = True
        return
    receiver, _, attr = func.rpartition(".")
    if not receiver:
        return
    if attr == "exempt" and call.args and (project.kind(project.resolve(f.module, receiver, scope)) == "limiter"
                                           or "limit" in receiver.lower()):
        for ff, target in _expand(project, f, call.args[0], scope):  # limiter.exempt(bp)
            if isinstance(target, Ref):
                o = owner(project.resolve(ff.module, target.dotted, target.scope or scope))
                if o is not None:
                    o.exempt = True
        return
    for q in project.resolve_all(f.module, receiver, scope):
        target_owner = owner(q)
        if target_owner is not None:
            _interpret_owner_call(project, f, call, attr, target_owner, owner)


def _interpret_owner_call(project: Project, f: FileFacts, call: Call, attr: str, target_owner, owner) -> None:
    scope = call.scope
    if attr == "register_blueprint":
        child_value = call.arg(0, "blueprint")
        for ff, child in _expand(project, f, child_value, scope):
            if isinstance(child, list) and child:  # for bp, prefix in [(a, "/a"), ...]
                child = child[0]
            if isinstance(child, Ref):
                c = owner(project.resolve(ff.module, child.dotted, child.scope or scope))
                if c is not None:
                    prefix = project.literal(f.module, call.kw("url_prefix"), scope)
                    target_owner.children.append((c.qual, prefix if isinstance(prefix, str) else None))
                    c.has_parent = True
    elif attr == "add_url_rule":
        rule = project.literal(f.module, call.arg(0, "rule"), scope)
        view = call.arg(2, "view_func")
        if not isinstance(rule, str) or view is None:
            return
        methods = string_list(project.literal(f.module, call.kw("methods"), scope))
        _add_view(project, f, target_owner, rule, view, methods, scope)
    elif attr in ("before_request", "before_app_request") and call.args:
        fn_ref = call.args[0]
        if isinstance(fn_ref, Ref):
            target_owner.before.append(GuardRef(f.module, fn_ref, scope, "before_request"))


def _unwrap_view(f: FileFacts, view: Any, scope: str) -> tuple[Any, list[GuardRef]]:
    """``login_required(view)`` / ``roles_required("admin")(view)`` / ``a(b(View.as_view("v")))``
    as passed to ``add_url_rule``: the wrapped view and the wrappers (outermost first), each
    judged like the decorator it is."""
    wrappers: list[GuardRef] = []
    while (isinstance(view, Call) and view.func and not view.func.endswith(".as_view") and len(view.args) == 1
           and isinstance(view.args[0], (Ref, Call)) and len(wrappers) < 10):
        # a decorator factory's result (``roles_required("admin")``) is summarised as "roles_required()"
        wrapper = view.func[:-2] if view.func.endswith("()") else view.func
        if not wrapper or "(" in wrapper:
            break
        wrappers.append(GuardRef(f.module, Ref(wrapper, view.scope or scope), view.scope or scope))
        view = view.args[0]
    return view, wrappers


def _split_limits(project: Project, guards: list[GuardRef]) -> tuple[list[GuardRef], bool, bool]:
    """Rate-limit decorators among a view's decorators and wrappers (``limiter.limit("5/minute")``,
    ``limiter.exempt``, also in a class's ``decorators = [...]``): (the other guards, limited, exempt)."""
    kept, limited, exempt = [], False, False
    for g in guards:
        value = g.value
        func = value.func if isinstance(value, Call) else value.dotted if isinstance(value, Ref) else ""
        func = func[:-2] if func.endswith("()") else func
        receiver, _, attr = func.rpartition(".")
        if receiver and attr in ("limit", "shared_limit", "exempt") and (
                project.kind(project.resolve(g.module, receiver, g.scope)) == "limiter" or "limit" in receiver.lower()):
            if attr == "exempt":
                exempt = True
            else:
                limited = True
            continue
        kept.append(g)
    return kept, limited, exempt


def _add_view(project: Project, f: FileFacts, o, rule: str, view: Any, methods: list[str] | None, scope: str) -> None:
    view, wrappers = _unwrap_view(f, view, scope)
    if isinstance(view, Ref):
        qual = project.resolve(f.module, view.dotted, view.scope or scope)
        entry = project.function(qual)
        if entry is None:
            return
        ff, fn = entry
        guards, limited, exempt = _split_limits(project, wrappers + [GuardRef(ff.module, d, fn.scope)
                                                                      for d in fn.decorators])
        o.decls.append(_Decl(o.qual, rule, methods or ["GET"], ff, fn, fn.name, guards, limited, exempt))
        return
    if isinstance(view, Call) and view.func.endswith(".as_view"):
        cls_qual = project.resolve(f.module, view.func[: -len(".as_view")], view.scope or scope)
        chain = project.class_chain(cls_qual)
        if not chain:
            return
        cls_file, cls = chain[0]
        kind = project.kind(cls_qual)
        attr_methods = project.class_attr(cls_qual, "methods")
        declared = methods or (string_list(attr_methods[1]) if attr_methods else None)
        class_guards = list(wrappers)
        decorators = project.class_attr(cls_qual, "decorators")
        if decorators and isinstance(decorators[1], list):
            class_guards += [GuardRef(decorators[0].module, d, "", "class decorators") for d in decorators[1]]
        if kind == "methodview":
            implemented = [v for v in _VERBS if project.method(cls_qual, v)]
            verbs = [m.lower() for m in declared] if declared else implemented
            for verb in verbs:
                entry = project.method(cls_qual, verb) or (project.method(cls_qual, "get") if verb == "head" else None)
                if entry is None:
                    continue
                ff, fn = entry
                guards, limited, exempt = _split_limits(
                    project, class_guards + [GuardRef(ff.module, d, fn.scope) for d in fn.decorators])
                o.decls.append(_Decl(o.qual, rule, [verb.upper()], ff, fn, f"{cls.name}.{fn.name}", guards,
                                     limited, exempt))
        else:
            entry = project.method(cls_qual, "dispatch_request")
            if entry is None:
                return
            ff, fn = entry
            guards, limited, exempt = _split_limits(
                project, class_guards + [GuardRef(ff.module, d, fn.scope) for d in fn.decorators])
            o.decls.append(_Decl(o.qual, rule, declared or ["GET"], ff, fn, f"{cls.name}.{fn.name}", guards,
                                 limited, exempt))


def _mount(project: Project, owners: dict[str, _Owner], default_limited: bool) -> list[Endpoint]:
    """Walk from each app (and each never-registered blueprint) down the registrations."""
    endpoints: list[Endpoint] = []
    seen: set[tuple] = set()

    def emit(o: _Owner, prefix: str | None, guards: list[GuardRef], limited: bool, exempt: bool) -> None:
        for d in o.decls:
            path = join_flask_rule(prefix, d.rule) if o.kind == "blueprint" else d.rule
            for method in d.methods:
                method = method.upper()
                if method in _HIDDEN:
                    continue
                key = (method, path, d.file.rel, d.function.line)
                if key in seen:
                    continue
                seen.add(key)
                endpoints.append(Endpoint(
                    method=method, path=path, framework="flask", file=d.file, function=d.function,
                    handler=d.handler, guards=[*guards, *d.guards],
                    limited=(limited or d.limited or (default_limited and not exempt)) and not d.exempt,
                    exempt=d.exempt or exempt,
                ))

    def register(o: _Owner, url_prefix: str | None, guards: list[GuardRef], limited: bool, depth: int, path: tuple,
                 exempt: bool = False) -> None:
        if depth > 20 or o.qual in path:
            return
        guards = [*guards, *o.before]
        limited = limited or o.limited
        exempt = exempt or o.exempt
        emit(o, url_prefix, guards, limited, exempt)
        for child_qual, option in o.children:
            child = owners[child_qual]
            if o.kind == "flask_app":
                child_prefix = option if option is not None else child.url_prefix
            else:  # nested blueprint: Blueprint.register joins the parent's prefix and the child's
                bp_prefix = option if option is not None else child.url_prefix
                if url_prefix is not None and bp_prefix is not None:
                    child_prefix = url_prefix.rstrip("/") + "/" + bp_prefix.lstrip("/")
                elif bp_prefix is not None:
                    child_prefix = bp_prefix
                else:
                    child_prefix = url_prefix
            register(child, child_prefix, guards, limited, depth + 1, (*path, o.qual), exempt)

    try:
        for o in list(owners.values()):
            if o.kind == "flask_app":
                register(o, None, [], False, 0, ())
        for o in list(owners.values()):
            if o.kind == "blueprint" and not o.has_parent:
                # Registered nowhere the map can see (e.g. through importlib): served with its own prefix.
                register(o, o.url_prefix, [], False, 0, ())
        return endpoints
    finally:
        # A recursive closure refers to itself: without this, it and all it reaches (the whole
        # project's facts) would wait for the cyclic garbage collector, which the map keeps off.
        del register
