"""The route flags of CONTRACT.md section 3, judged once for every framework's endpoints:
``auth``, ``validated``, ``rate_limited``, ``public``, ``sensitive`` and ``data_access``.
"""

from __future__ import annotations

import re

from ..config import Config
from ..model import Route
from .endpoint import Endpoint
from .facts import Call, Ref
from .project import Project

__all__ = ["assess", "has_default_limits"]

_STORAGE_MODULE = re.compile(r"(^|\.)(storage|stores?|repository|repositories|repos?|dao|daos|services?|crud|managers?|"
                             r"queries|persistence|datastore|db_?api)(\.|$)", re.IGNORECASE)


def has_default_limits(project: Project) -> bool:
    """An app-wide default limit: ``Limiter(default_limits=[...])`` (also with ``init_app``) or a
    ``RATELIMIT_DEFAULT`` setting."""
    for qual, (f, value, scope, _) in project.assigns.items():
        # (the keyword first: telling a limiter from other calls resolves names, for every assignment)
        if isinstance(value, Call) and value.kw("default_limits") is not None and project.kind(qual) == "limiter":
            limits = project.literal(f.module, value.kw("default_limits"), scope)
            if isinstance(limits, list) and limits:
                return True
            if isinstance(limits, (Ref, Call)):
                return True
        if qual.rsplit(".", 1)[-1] in ("RATELIMIT_DEFAULT", "RATELIMIT_DEFAULTS") and value:
            return True
    for f in project.files.values():
        for call in f.calls:
            if call.func.endswith(".init_app"):
                limits = call.kw("default_limits")
                if limits:
                    return True
    return False


def assess(project: Project, endpoints: list[Endpoint], config: Config) -> list[Route]:
    routes = []
    for ep in endpoints:
        f, fn = ep.file, ep.function
        guard_names = []
        auth = False
        for g in ep.guards:
            verdict = project.guard_verdict(g.module, g.value, g.scope)
            if verdict is None:
                continue
            if verdict.auth:
                auth = True
                guard_names.append(_guard_name(project, g))
        if not auth:
            inline = project.inline_verdict(f"{f.module}.{fn.qual}")  # the handler checks the credential itself
            if inline is not None and inline.auth:
                auth = True
                guard_names.append("inline")
        own_reads = {r for r in fn.reads if _applies(fn.read_methods.get(r), ep.method)}
        reads = sorted(own_reads | set(ep.typed_reads) | set(ep.untyped_reads))
        unvalidated = {r for r in fn.unvalidated if r in own_reads} | set(ep.untyped_reads)
        for callee, source in fn.constructs:
            qual = project.resolve(f.module, callee, fn.qual)
            if project.kind(qual) == "model":
                if source.startswith("@"):
                    unvalidated.discard(source[1:])
                else:
                    unvalidated = {r for r in unvalidated if r.split(":", 1)[0] != source}
        uploads = ep.uploads or any(r.startswith("files") for r in reads)
        data_access = fn.data_access
        if data_access in ("none", "storage?"):
            data_access = "none"
            for call in fn.storage_calls:
                qual = project.resolve(f.module, call, fn.qual)
                module, _ = project._split_module(qual)
                if module and _STORAGE_MODULE.search(module.split(".", 1)[-1] if "." in module else module):
                    data_access = "storage"
                    break
        routes.append(Route(
            method=ep.method, path=ep.path, file=f.rel, line=fn.line, handler=ep.handler, framework=ep.framework,
            auth=auth, validated=not unvalidated, rate_limited=ep.limited,
            public=config.is_public(ep.path), module=f.module, data_access=data_access,
            sensitive=config.is_sensitive(ep.path, ep.method) or uploads, end_line=fn.end_line,
            reads=tuple(reads), guards=tuple(dict.fromkeys(guard_names)),
        ))
    routes.sort(key=lambda r: (r.file, r.line, r.path, _METHOD_ORDER.get(r.method, 9)))
    return routes


def _applies(tags: list[str] | None, method: str) -> bool:
    """Whether a read made under ``if request.method ...`` branches happens for ``method``."""
    if not tags:
        return True
    for tag in tags:
        negated = tag.startswith("!")
        methods = set(tag.lstrip("!").split(","))
        if (method in methods) != negated:
            return True
    return False


_METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


def _guard_name(project: Project, g) -> str:
    v = g.value
    if isinstance(v, Call) and v.func.rsplit(".", 1)[-1] in ("Depends", "Security"):
        v = v.arg(0, "dependency")
    if isinstance(v, Call):
        return project.resolve(g.module, v.func, g.scope or v.scope)
    if isinstance(v, Ref):
        return project.resolve(g.module, v.dotted, g.scope or v.scope)
    return "?"
