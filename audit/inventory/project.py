"""The whole project as the central pass sees it: every module's facts, with names resolved
across modules (import aliases, re-exports, factory scopes) and objects classified.

:class:`Project` answers "what does the name ``bp`` written in module ``m`` (inside function
``create_app``) refer to?" with a canonical qualified name (``legacy_app.routes.posts.bp``,
``flask.Flask``), and "what kind of object is it?" (a Flask app, a blueprint, a limiter...).
It also judges, from the per-function summaries, whether a guard authenticates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable

from .facts import Call, ClassFacts, FileFacts, FunctionFacts, Opaque, Ref

__all__ = ["GuardVerdict", "Project"]

# Library classes whose instances matter, by canonical name (and by bare name as last resort).
_KINDS = {
    "flask.Flask": "flask_app", "flask.app.Flask": "flask_app", "quart.Quart": "flask_app",
    "flask.Blueprint": "blueprint", "flask.blueprints.Blueprint": "blueprint", "flask.sansio.blueprints.Blueprint": "blueprint",
    "fastapi.FastAPI": "fastapi_app", "fastapi.applications.FastAPI": "fastapi_app",
    "fastapi.APIRouter": "router", "fastapi.routing.APIRouter": "router",
    "flask_limiter.Limiter": "limiter", "flask_limiter.extension.Limiter": "limiter",
    "slowapi.Limiter": "limiter", "slowapi.extension.Limiter": "limiter",
    "flask_httpauth.HTTPBasicAuth": "httpauth", "flask_httpauth.HTTPTokenAuth": "httpauth",
    "flask_httpauth.HTTPDigestAuth": "httpauth", "flask_httpauth.MultiAuth": "httpauth",
    "flask_login.LoginManager": "login_manager", "flask_socketio.SocketIO": "socketio",
    "flask.views.MethodView": "methodview", "flask.views.View": "view",
    "fastapi.security.OAuth2PasswordBearer": "scheme", "fastapi.security.HTTPBearer": "scheme",
    "fastapi.security.APIKeyHeader": "scheme", "fastapi.security.APIKeyCookie": "scheme",
    "fastapi.security.HTTPBasic": "scheme", "fastapi.security.OAuth2AuthorizationCodeBearer": "scheme",
    "fastapi.security.http.HTTPBearer": "scheme", "fastapi.security.oauth2.OAuth2PasswordBearer": "scheme",
    "fastapi.security.api_key.APIKeyHeader": "scheme",
    "pydantic.BaseModel": "model", "pydantic.main.BaseModel": "model", "pydantic.RootModel": "model",
    "marshmallow.Schema": "model", "sqlmodel.SQLModel": "model", "msgspec.Struct": "model",
    "pydantic.dataclasses.dataclass": "model",
}
_OBJECT_KINDS = frozenset({"flask_app", "blueprint", "fastapi_app", "router", "limiter", "httpauth", "login_manager",
                           "socketio", "scheme"})
_BARE_KINDS = {"Flask": "flask_app", "Blueprint": "blueprint", "FastAPI": "fastapi_app", "APIRouter": "router",
               "Limiter": "limiter", "MethodView": "methodview", "BaseModel": "model", "Schema": "model"}

# Library decorators and dependencies that authenticate by themselves.
KNOWN_AUTH = frozenset({
    "flask_login.login_required", "flask_login.fresh_login_required", "flask_login.utils.login_required",
    "flask_jwt_extended.jwt_required", "flask_jwt_extended.fresh_jwt_required",
    "flask_jwt_extended.view_decorators.jwt_required", "flask_jwt_extended.verify_jwt_in_request",
    "flask_security.auth_required", "flask_security.login_required", "flask_security.roles_required",
    "flask_security.roles_accepted", "flask_security.auth_token_required", "flask_security.http_auth_required",
    "flask_praetorian.auth_required", "flask_praetorian.roles_required", "flask_praetorian.roles_accepted",
    "flask_user.login_required", "flask_user.roles_required",
})
_AUTH_NAME = re.compile(r"^(fresh_)?(login|auth|token|jwt|user|authentication)_required$|^requires?_(auth|login|token|user|jwt)"
                        r"|^(authenticated|authenticate|get_current_(active_)?user|current_user)$", re.IGNORECASE)


@dataclass(frozen=True)
class GuardVerdict:
    """Whether a guard authenticates, and why not when it does not."""

    auth: bool
    why: str


class Project:
    """Every module's facts, indexed for name resolution."""

    def __init__(self, files: Iterable[FileFacts]):
        self.files: dict[str, FileFacts] = {}
        self.functions: dict[str, tuple[FileFacts, FunctionFacts]] = {}
        self.classes: dict[str, tuple[FileFacts, ClassFacts]] = {}
        self.assigns: dict[str, tuple[FileFacts, Any, str, int]] = {}
        for f in files:
            if f.module in self.files:  # two files claim one module name (a script next to a package)
                continue
            self.files[f.module] = f
            for fn in f.functions:
                self.functions[f"{f.module}.{fn.qual}"] = (f, fn)
            for cls in f.classes:
                self.classes[f"{f.module}.{cls.qual}"] = (f, cls)
            for scope, name, value, line in f.assigns:
                key = f"{f.module}.{scope}.<locals>.{name}" if scope else f"{f.module}.{name}"
                self.assigns.setdefault(key, (f, value, scope, line))
        self._verdicts: dict[str, GuardVerdict] = {}
        self._kinds: dict[str, str] = {}
        self._nesting = 0
        self._canonical_memo: dict[str, str] = {}
        self._resolve_memo: dict[tuple[str, str, str], str] = {}
        # (function, parameter) -> the arguments passed at the project's call sites: a helper
        # `register_views(bp)` adds routes to whatever blueprint its callers hand it.
        self.bindings: dict[tuple[str, str], list[tuple[str, Ref, str]]] = {}
        for f in self.files.values():
            for call in f.calls:
                if call.func.endswith("()"):
                    continue
                callee = self.resolve(f.module, call.func, call.scope)
                entry = self.functions.get(callee)
                if entry is None:
                    continue
                params = [p for p in entry[1].params if p.name not in ("self", "cls") and p.kind in ("arg", "kwonly")]
                pairs = list(zip((p.name for p in params), call.args)) + [(k, v) for k, v in call.kwargs if k]
                for pname, value in pairs:
                    if isinstance(value, Ref):
                        self.bindings.setdefault((callee, pname), []).append((f.module, value, call.scope))

    # ------------------------------------------------------------ names
    def resolve_all(self, module: str, name: str, scope: str = "", _seen: frozenset = frozenset()) -> list[str]:
        """Like :meth:`resolve`, but a parameter of the enclosing function resolves to every
        argument its callers pass (``def register(bp): bp.add_url_rule(...)``)."""
        head, _, rest = name.partition(".")
        s = scope
        while s:
            key = (f"{module}.{s}", head)
            bound = self.bindings.get(key)
            if bound and not self._is_local(module, s, head):
                if key in _seen or len(_seen) > 8:  # recursive helpers pass their own parameter on
                    return []
                out = []
                for mod, ref, sc in bound[:50]:
                    for q in self.resolve_all(mod, ref.dotted, sc or ref.scope, _seen | {key}):
                        out.append(self.canonical(q + ("." + rest if rest else "")))
                return list(dict.fromkeys(out))
            s = s.rsplit(".<locals>.", 1)[0] if ".<locals>." in s else ""
        return [self.resolve(module, name, scope)]

    def _is_local(self, module: str, scope: str, head: str) -> bool:
        key = f"{module}.{scope}.<locals>.{head}"
        return key in self.assigns or key in self.functions or key in self.classes

    def resolve(self, module: str, name: str, scope: str = "") -> str:
        """The canonical qualified name of ``name`` as written in ``module`` inside ``scope``."""
        key = (module, name, scope)
        cached = self._resolve_memo.get(key)
        if cached is None:
            self._resolve_memo[key] = name  # cycle guard
            cached = self._resolve_memo[key] = self._resolve(module, name, scope)
        return cached

    def _resolve(self, module: str, name: str, scope: str) -> str:
        f = self.files.get(module)
        if f is None or not name:
            return name
        head, _, rest = name.partition(".")
        suffix = "." + rest if rest else ""
        s = scope
        while s:  # function scopes, innermost first (factories define apps and routes locally)
            key = f"{module}.{s}.<locals>.{head}"
            if key in self.assigns or key in self.functions or key in self.classes:
                return self.canonical(key + suffix)
            s = s.rsplit(".<locals>.", 1)[0] if ".<locals>." in s else ""
        key = f"{module}.{head}"
        if key in self.assigns or key in self.functions or key in self.classes:
            return self.canonical(key + suffix)
        if name in f.imports:  # import a.b.c
            return self.canonical(f.imports[name])
        if head in f.imports:
            return self.canonical(f.imports[head] + suffix)
        for base in f.star_imports:
            cand = self.canonical(f"{base}.{head}")
            if cand != f"{base}.{head}" or cand in self.functions or cand in self.classes or cand in self.assigns:
                return self.canonical(cand + suffix)
        return name

    def canonical(self, qual: str, depth: int = 0) -> str:
        """Follow re-exports (``from .x import y`` in a package) and plain aliases (``api = bp``)."""
        cached = self._canonical_memo.get(qual)
        if cached is not None:
            return cached
        if depth > 12 or self._nesting > 24:  # alias chains through resolve() can loop (x = y; y = x)
            return qual
        self._canonical_memo[qual] = qual  # while in progress, a cycle comes back to the name itself
        self._nesting += 1
        try:
            result = self._canonical(qual, depth)
        finally:
            self._nesting -= 1
        self._canonical_memo[qual] = result
        return result

    def _canonical(self, qual: str, depth: int) -> str:
        if qual in self.functions or qual in self.classes:
            return qual
        if qual in self.assigns:
            f, value, scope, _ = self.assigns[qual]
            if isinstance(value, Ref):  # api = bp
                target = self.resolve(f.module, value.dotted, scope)
                if target != value.dotted or target in self.files:
                    return self.canonical(target, depth + 1)
            return qual
        module, rest = self._split_module(qual)
        if module is None or not rest:
            return qual
        head, _, tail = rest.partition(".")
        f = self.files[module]
        key = f"{module}.{head}"
        if key in self.assigns or key in self.functions or key in self.classes:
            return self.canonical(key, depth + 1) + ("." + tail if tail else "")
        if head in f.imports:
            return self.canonical(f.imports[head] + ("." + tail if tail else ""), depth + 1)
        return qual

    def _split_module(self, qual: str) -> tuple[str | None, str]:
        parts = qual.split(".")
        for i in range(len(parts), 0, -1):
            mod = ".".join(parts[:i])
            if mod in self.files:
                return mod, ".".join(parts[i:])
        return None, qual

    def is_project(self, qual: str) -> bool:
        return self._split_module(qual)[0] is not None

    def function(self, qual: str) -> tuple[FileFacts, FunctionFacts] | None:
        return self.functions.get(qual)

    def value_of(self, qual: str) -> Any:
        entry = self.assigns.get(qual)
        return entry[1] if entry else None

    def literal(self, module: str, value: Any, scope: str = "") -> Any:
        """A constant behind a name (``PREFIX = "/api"``), behind a settings attribute
        (``settings.API_V1_STR`` with ``settings = Settings()`` and a class default), or the value itself."""
        if isinstance(value, Ref):
            qual = self.resolve(module, value.dotted, scope or value.scope)
            entry = self.assigns.get(qual)
            if entry is not None and not isinstance(entry[1], Ref):
                return self.literal(entry[0].module, entry[1], entry[2])
            if entry is None and "." in qual:
                attr = self._instance_attr(qual)
                if attr is not None:
                    return attr
            return value
        if isinstance(value, list):
            return [self.literal(module, v, scope) for v in value]
        return value

    def _instance_attr(self, qual: str) -> str | None:
        """The string an attribute of a module-level instance holds when nothing changes it:
        the constructor's keyword, else the class body's default (pydantic ``BaseSettings`` /
        dataclass style ``API_V1_STR: str = "/api/v1"``). None when it is not that simple."""
        obj, _, attr = qual.rpartition(".")
        entry = self.assigns.get(obj)
        if entry is None or not isinstance(entry[1], Call):
            return None
        f, call, scope, _ = entry
        cls = self.resolve(f.module, call.func, scope)
        if cls not in self.classes:
            return None
        given = self.literal(f.module, call.kw(attr), scope) if call.kw(attr) is not None else None
        if given is None:
            found = self.class_attr(cls, attr)
            if found is None:
                return None
            cf, default = found
            given = self.literal(cf.module, default)
        return given if isinstance(given, str) else None

    def annotated_alias(self, module: str, annotation: Any, scope: str = "") -> tuple[str, Call, str] | None:
        """``x: CurrentUserDep`` where ``CurrentUserDep = Annotated[User, Depends(f)]`` (in this module
        or imported): the alias's module, its ``Annotated[...]`` summary and scope, so the
        dependency inside is resolved where it was written. None for any other annotation."""
        if not isinstance(annotation, Ref):
            return None
        entry = self.assigns.get(self.resolve(module, annotation.dotted, scope or annotation.scope))
        if entry is None:
            return None
        f, value, alias_scope, _ = entry
        if isinstance(value, Call) and value.func.endswith("[]") and \
                self.resolve(f.module, value.func[:-2], alias_scope).rsplit(".", 1)[-1] == "Annotated":
            return f.module, value, alias_scope
        return None

    # ------------------------------------------------------------ kinds
    def kind(self, qual: str) -> str:
        """What object ``qual`` names: flask_app, blueprint, fastapi_app, router, limiter, httpauth,
        login_manager, scheme (a FastAPI security scheme), model (pydantic/marshmallow class),
        methodview/view (a class-based view class), function, class, or ""."""
        if qual in self._kinds:
            return self._kinds[qual]
        self._kinds[qual] = ""  # cycle guard
        result = self._kind(qual)
        self._kinds[qual] = result
        return result

    def _kind(self, qual: str) -> str:
        if qual in _KINDS:
            return _KINDS[qual]
        if qual in self.classes:
            f, cls = self.classes[qual]
            for base in cls.bases:
                if isinstance(base, Ref):
                    k = self.kind(self.resolve(f.module, base.dotted, base.scope))
                    if k and k not in ("function", "class"):
                        return k
            return "class"
        if qual in self.functions:
            return "function"
        if qual in self.assigns:
            f, value, scope, _ = self.assigns[qual]
            if isinstance(value, Call):
                callee = self.resolve(f.module, value.func, scope)
                k = self.kind(callee)
                if k in _OBJECT_KINDS:
                    return k
                if k == "function" and callee in self.functions:  # app = create_app(): what the factory returns
                    ff, fn = self.functions[callee]
                    for ret in fn.returns:
                        rk = self.kind(self.resolve(ff.module, ret, fn.qual))
                        if rk in _OBJECT_KINDS:
                            return rk
                if k == "class":
                    return "instance:" + callee
                if not self.is_project(callee) and callee.rsplit(".", 1)[-1] in _BARE_KINDS and "." not in value.func:
                    return _BARE_KINDS[callee.rsplit(".", 1)[-1]]
            return ""
        tail = qual.rsplit(".", 1)[-1]
        if "." not in qual and tail in _BARE_KINDS:
            return _BARE_KINDS[tail]
        return ""

    def object_call(self, qual: str) -> tuple[FileFacts, Call, str] | None:
        """The constructor call that created the object ``qual`` (with its file and scope)."""
        entry = self.assigns.get(qual)
        if entry and isinstance(entry[1], Call):
            return entry[0], entry[1], entry[2]
        return None

    def class_chain(self, qual: str) -> list[tuple[FileFacts, ClassFacts]]:
        """The class and its project base classes, depth first (an MRO approximation)."""
        out, seen, todo = [], set(), [qual]
        while todo:
            q = todo.pop(0)
            if q in seen or q not in self.classes:
                continue
            seen.add(q)
            f, cls = self.classes[q]
            out.append((f, cls))
            todo.extend(self.resolve(f.module, b.dotted, b.scope) for b in cls.bases if isinstance(b, Ref))
        return out

    def class_attr(self, qual: str, name: str) -> tuple[FileFacts, Any] | None:
        for f, cls in self.class_chain(qual):
            if name in cls.attrs:
                return f, cls.attrs[name]
        return None

    def method(self, class_qual: str, name: str) -> tuple[FileFacts, FunctionFacts] | None:
        for f, cls in self.class_chain(class_qual):
            if name in cls.methods:
                return self.functions.get(f"{f.module}.{cls.qual}.{name}")
        return None

    # ------------------------------------------------------------ guards
    def guard_verdict(self, module: str, guard: Any, scope: str = "") -> GuardVerdict | None:
        """Judge a decorator / dependency as written in ``module`` (a Ref or a Call); None when it
        is no guard at all (a route decorator, a cache decorator...)."""
        if isinstance(guard, Call):
            func = guard.func
            tail = func.rsplit(".", 1)[-1]
            if tail in ("Depends", "Security"):
                target = guard.arg(0, "dependency")
                if target is None:
                    return None
                return self.guard_verdict(module, target, scope or guard.scope)
            qual = self.resolve(module, func, scope or guard.scope)
        elif isinstance(guard, Ref):
            qual = self.resolve(module, guard.dotted, scope or guard.scope)
        else:
            return None
        return self.verdict(qual)

    def verdict(self, qual: str) -> GuardVerdict | None:
        if qual in self._verdicts:
            return self._verdicts[qual]
        self._verdicts[qual] = GuardVerdict(False, "recursive")  # cycle guard
        v = self._verdict(qual)
        if v is None:
            del self._verdicts[qual]
        else:
            self._verdicts[qual] = v
        return v

    def _verdict(self, qual: str) -> GuardVerdict | None:
        if qual in KNOWN_AUTH or any(qual.startswith(k + ".") for k in KNOWN_AUTH):
            return GuardVerdict(True, "library auth decorator")
        receiver, _, attr = qual.rpartition(".")
        if receiver and self.kind(receiver) == "httpauth" and attr in ("login_required",):
            return GuardVerdict(True, "flask-httpauth login_required")
        if qual in self.functions:
            return self._function_verdict(qual)
        kind = self.kind(qual)
        if kind.startswith("instance:"):  # Depends(JWTBearer()) / an object with __call__
            return self._class_verdict(kind.split(":", 1)[1])
        if kind == "class" or qual in self.classes:
            return self._class_verdict(qual)
        if kind == "scheme":
            return GuardVerdict(False, "a security scheme alone reads the token but does not verify it")
        if self.is_project(qual) or kind:
            return None
        if _AUTH_NAME.search(qual.rsplit(".", 1)[-1]):
            return GuardVerdict(True, "known auth decorator name (not resolvable in the project)")
        return None

    def _class_verdict(self, class_qual: str) -> GuardVerdict | None:
        flags = _Flags()
        found = False
        for f, cls in self.class_chain(class_qual):
            for base in cls.bases:
                if isinstance(base, Ref) and self.kind(self.resolve(f.module, base.dotted, base.scope)) == "scheme":
                    flags.reads_credential = flags.rejects = True
                    found = True
            for meth in ("__call__", "dispatch", "authenticate", "verify"):
                entry = self.functions.get(f"{f.module}.{cls.qual}.{meth}")
                if entry:
                    found = True
                    flags.merge(self._transitive(f"{f.module}.{cls.qual}.{meth}"))
                    if entry[1].passthrough:
                        flags.passthrough = entry[1].passthrough
        if not found:
            return None
        return flags.verdict()

    def _function_verdict(self, qual: str) -> GuardVerdict | None:
        f, fn = self.functions[qual]
        flags = self._transitive(qual)
        flags.passthrough = fn.passthrough
        if not (flags.reads_credential or flags.reads_session or flags.verifies or flags.rejects):
            return None  # not a guard: a plain decorator or helper
        return flags.verdict()

    def inline_verdict(self, qual: str) -> GuardVerdict | None:
        """Whether a handler authenticates in its own body (or through the helpers it calls);
        its ``Depends`` parameters are guards judged on their own, not part of this."""
        if qual not in self.functions:
            return None
        flags = self._transitive(qual, include_dependencies=False)
        flags.passthrough = self.functions[qual][1].passthrough
        if not (flags.reads_credential or flags.reads_session or flags.lib):
            return None
        return flags.verdict()

    def _transitive(self, qual: str, seen: set[str] | None = None, include_dependencies: bool = True) -> "_Flags":
        """The auth behaviour of a function and of the project functions it calls or depends on."""
        seen = seen if seen is not None else set()
        flags = _Flags()
        if qual in seen or qual not in self.functions or len(seen) > 60:
            return flags
        seen.add(qual)
        f, fn = self.functions[qual]
        flags.reads_credential = fn.reads_credential
        flags.reads_session = fn.reads_session
        flags.verifies = fn.verifies
        flags.rejects = fn.rejects
        flags.insecure = fn.insecure_verify
        flags.lib = fn.auth_lib_calls
        for call in fn.calls:
            target = self.resolve(f.module, call, fn.qual)
            if target in KNOWN_AUTH:
                flags.lib = flags.verifies = flags.rejects = flags.reads_credential = True
            if target in self.functions:
                flags.merge(self._transitive(target, seen))
            elif target in self.classes:
                init = self.functions.get(f"{target}.__init__")
                if init:
                    flags.merge(self._transitive(f"{target}.__init__", seen))
        deps = [(f.module, dep) for dep in fn.dependencies] if include_dependencies else []
        for p in fn.params if include_dependencies else ():  # `token: TokenDep`, the alias written elsewhere
            alias = self.annotated_alias(f.module, p.annotation, fn.scope)
            if alias is not None:
                deps.extend((alias[0], a) for a in alias[1].args
                            if isinstance(a, Call) and a.func.rsplit(".", 1)[-1] in ("Depends", "Security"))
        for dep_module, dep in deps:
            target_ref = dep.arg(0, "dependency")
            if isinstance(target_ref, Ref):
                target = self.resolve(dep_module, target_ref.dotted, target_ref.scope)
                if self.kind(target) == "scheme":
                    call = self.object_call(target)
                    auto_error = call[1].kw("auto_error", True) if call else True
                    flags.reads_credential = True
                    flags.rejects = flags.rejects or auto_error is not False
                elif target in self.functions:
                    flags.merge(self._transitive(target, seen))
                elif target in KNOWN_AUTH:
                    flags.lib = True
            elif isinstance(target_ref, Call):
                cls = self.resolve(dep_module, target_ref.func, target_ref.scope)
                v = self._class_verdict(cls) if cls in self.classes else None
                if v and v.auth:
                    flags.lib = flags.verifies = flags.rejects = flags.reads_credential = True
        return flags

    @cached_property
    def auth_guards(self) -> frozenset[str]:
        return frozenset(q for q, v in self._verdicts.items() if v.auth)


@dataclass
class _Flags:
    reads_credential: bool = False
    reads_session: bool = False
    verifies: bool = False
    rejects: bool = False
    insecure: bool = False
    lib: bool = False
    passthrough: int = 0

    def merge(self, other: "_Flags") -> None:
        self.reads_credential |= other.reads_credential
        self.reads_session |= other.reads_session
        self.verifies |= other.verifies
        self.rejects |= other.rejects
        self.insecure |= other.insecure
        self.lib |= other.lib

    def verdict(self) -> GuardVerdict:
        if self.insecure:
            return GuardVerdict(False, "token decoded without verifying its signature")
        if self.passthrough:
            return GuardVerdict(False, f"lets a request without a valid credential through (line {self.passthrough})")
        if self.lib:
            return GuardVerdict(True, "calls a library verification")
        if not self.rejects:
            return GuardVerdict(False, "never refuses a request (no 401/403)")
        if self.reads_session:
            return GuardVerdict(True, "reads the signed session, refuses with 401/403")
        if self.reads_credential and self.verifies:
            return GuardVerdict(True, "reads and verifies a credential, refuses with 401/403")
        if self.reads_credential:
            return GuardVerdict(False, "reads a credential but never verifies it")
        return GuardVerdict(False, "reads no credential")


def string_list(value: Any) -> list[str] | None:
    """``["GET", "POST"]`` from a literal list/tuple/set summary, else None."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def is_opaque(value: Any) -> bool:
    return isinstance(value, Opaque)
