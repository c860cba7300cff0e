"""AddRateLimitsCommand: sensitive routes get a Flask-Limiter limit."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted, route_of_decorator

_LIMIT_DECORATOR = re.compile(r"(?i)(^|\.)(limit|limits|rate_?limit(ed)?|throttle|shared_limit)$")
_READS_FILES = m.Attribute(value=m.Name("request"), attr=m.Name("files"))


class AddRateLimitsCommand(MigrationCommand):
    """Limit sensitive routes (login, register, token refresh, password reset/change,
    verification codes, uploads, and the config's sensitive list) that have no limit:
    ``@limiter.limit(SENSITIVE_LIMIT)`` from Flask-Limiter, below the route decorators.

    A module that already has a ``limiter`` (the project's own, bound to the app) keeps
    using it; otherwise the security module's limiter is imported. The limit is read from
    the app's ``RATELIMIT_SENSITIVE`` setting (default ``10 per minute``); the storage from
    ``RATELIMIT_STORAGE_URI`` (default ``memory://``)."""

    DESCRIPTION = "Add Flask-Limiter limits to login, register, password and upload routes."
    NAME = "add-rate-limits"
    ORDER = 40
    FIXES = (Category.MISSING_RATE_LIMIT,)
    APPLIES_TO = r"\.route\(|\.(get|post|put|patch|delete)\(|add_url_rule"
    ONLY_IN_HANDLERS = True  # (perf: nothing outside route handlers is changed; see MigrationCommand)

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._module_limiter = False

    def visit_Module(self, node: cst.Module) -> None:
        # A module-level name `limiter` (imported or created) is the project's own.
        for stmt in node.body:
            for found in findall(stmt, m.ImportAlias(name=m.Name("limiter"), asname=None)
                                   | m.AssignTarget(target=m.Name("limiter"))):
                self._module_limiter = True
        self._uses_own = self._module_limiter

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        routes = self.routes_of(original_node)
        if not routes:
            return updated_node
        sensitive = any(r.sensitive or self.migration.config.is_sensitive(r.path) for r in routes) or bool(
            findall(original_node.body, _READS_FILES))
        limited = any(r.rate_limited for r in routes) or any(
            _LIMIT_DECORATOR.search(dotted(d.decorator)) for d in updated_node.decorators)
        if not sensitive or limited:
            return updated_node
        if not self._module_limiter:
            self.import_security("limiter")
        self.import_security("SENSITIVE_LIMIT")
        decorator = cst.Decorator(decorator=cst.parse_expression("limiter.limit(SENSITIVE_LIMIT)"))
        decorators = list(updated_node.decorators)
        position = max((i + 1 for i, d in enumerate(decorators) if route_of_decorator(d)), default=0)
        decorators.insert(position, decorator)
        return updated_node.with_changes(decorators=decorators)
