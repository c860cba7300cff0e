"""The workbench's own rules: one module per rule, discovered by walking this package.

A rule is a subclass of :class:`Rule` whose docstring is its user documentation
(ruff headings: *What it does*, *Why is this bad?*, *Example*, *Use instead*),
and which carries ``VALID`` and ``INVALID`` code examples that
``tests/rules/test_examples.py`` turns into test cases.

Rules read one Python file at a time through a :class:`RuleContext`: the parsed
``ast`` tree, the source lines, the routes whose handlers live in the file (with
their flags already computed by the inventory), and the project facts the rules
share (the config, the project's own package names and modules, the auth guards
found). They never import or execute the audited code.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain
from typing import ClassVar, Iterable, Iterator

from ..model import Category, Finding, Route, Severity
from ._syntax import is_script_file, is_test_file, last_name, nodes_of

__all__ = ["Example", "ProjectFacts", "Rule", "RuleContext", "all_rules"]


@dataclass(frozen=True)
class Example:
    """A rule example: ``code`` is one Python module.

    For INVALID examples, ``lines`` lists the 1-based lines the rule must flag
    (empty means: at least one finding anywhere). ``routes`` lets an example
    stand for a module whose route inventory says something the snippet alone
    cannot (rare; most examples carry their own decorators and the harness
    builds the inventory from the snippet itself). ``files`` adds further
    modules to the example project (path -> source) for cross-module rules.
    """

    code: str
    lines: tuple[int, ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    path: str = "app/routes.py"


@dataclass(frozen=True)
class ProjectFacts:
    """What the whole project tells a rule about one file's surroundings (picklable)."""

    packages: frozenset[str] = frozenset()  # the project's own top-level package/module names
    modules: frozenset[str] = frozenset()  # every dotted module name that exists in the project
    module_names: dict[str, frozenset[str]] = field(default_factory=dict)  # module -> top-level names it defines
    src_name: str = ""  # the name of SRC's folder (a package name when SRC has __init__.py)
    public_patterns: tuple[str, ...] = ()
    sensitive_patterns: tuple[str, ...] = ()
    auth_guards: frozenset[str] = frozenset()  # qualified names recognised as auth guards
    security_headers_set: bool = False  # some module of the project sets CSP/HSTS/nosniff (Talisman, after_request, ...)
    # How the project's error responses are shaped: (shape, count) summed over every module with
    # audit.rules.divergent_error_shape.error_shape_counts(tree); empty -> the rule judges within a file.
    error_shapes: tuple[tuple[str, int], ...] = ()
    # Some module sets a request body limit for the whole app (Flask MAX_CONTENT_LENGTH, a body-size middleware).
    upload_size_limit_set: bool = False
    # Schema classes (bare class names) whose password fields carry a length rule or a validator:
    # audit.rules.missing_password_strength_check.models_with_password_rules(tree), over every module.
    password_rule_models: frozenset[str] = frozenset()
    # Parameters fed with request data by some route handler's call ("pkg.module.function:param"):
    # audit.rules._request_data.request_fed_parameters(tree, module, is_package), over every module.
    request_fed_params: frozenset[str] = frozenset()
    # Project functions whose return value carries request data ("pkg.module.function"):
    # audit.rules._request_data.request_returning_functions(tree, module), over every module.
    request_returning: frozenset[str] = frozenset()


@dataclass
class RuleContext:
    """One file as a rule sees it."""

    file: str  # path relative to SRC, forward slashes
    module: str  # dotted module name ("legacy_app.routes.posts")
    source: str
    tree: ast.Module
    routes: list[Route] = field(default_factory=list)  # routes whose handler is defined in this file
    project: ProjectFacts = field(default_factory=ProjectFacts)

    @cached_property
    def lines(self) -> list[str]:
        """The file's lines (split once: every finding's snippet reads them)."""
        return self.source.splitlines()

    @cached_property
    def lowered(self) -> str:
        """The file's text in lower case (made once: several rules' cheap word tests read it)."""
        return self.source.lower()

    def calls_named(self, names: Iterable[str]) -> list[ast.Call]:
        """The file's calls whose called name (``_syntax.last_name(call.func)``) is one of ``names``,
        in walk order: several rules look for a few names among every call of the file, and a
        lookup in a table made once per file costs less than each of them going through all calls.
        (A name resolved through the imports, as ``call_qualname`` does, can differ from the written
        one: a rule passes the file's import aliases among ``names`` for that.)"""
        table = self.__dict__.get("_calls_by_name")
        if table is None:
            table = self.__dict__["_calls_by_name"] = _calls_by_name(self.tree)
        groups = [group for name in names if (group := table.get(name)) is not None]
        if not groups:
            return []
        calls = nodes_of(self.tree, ast.Call)
        if len(groups) == 1:
            return [calls[i] for i in groups[0]]
        return [calls[i] for i in sorted(chain.from_iterable(groups))]

    @cached_property
    def in_test_file(self) -> bool:
        """Whether the file is a test (``_syntax.is_test_file``: most rules ask, the path is tested once)."""
        return is_test_file(self.file)

    @cached_property
    def in_script_file(self) -> bool:
        """Whether the file is a script (``_syntax.is_script_file``, tested once)."""
        return is_script_file(self.file)

    def snippet(self, line: int) -> str:
        lines = self.lines
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def route_at(self, line: int) -> Route | None:
        """The route whose handler contains ``line`` (first by method order), if any."""
        # (the handler spans of this file's routes, made once: every finding asks; what Route.contains tests)
        spans = self.__dict__.get("_route_spans")
        if spans is None:
            spans = self.__dict__["_route_spans"] = [
                (route.line, route.end_line or route.line, route) for route in self.routes if route.file == self.file]
        for start, end, route in spans:
            if start <= line <= end:
                return route
        return None

    def routes_of(self, handler_line: int) -> list[Route]:
        """Every route served by the handler defined at ``handler_line``."""
        return [r for r in self.routes if r.line == handler_line]


def _calls_by_name(tree: ast.Module) -> dict[str, list[int]]:
    """Called name -> the positions of its calls in ``nodes_of(tree, ast.Call)`` (in order)."""
    table: dict[str, list[int]] = {}
    attribute, name_kind = ast.Attribute, ast.Name
    for position, call in enumerate(nodes_of(tree, ast.Call)):
        func = call.func  # (last_name inline for the usual receivers)
        kind = func.__class__
        name = func.attr if kind is attribute else func.id if kind is name_kind else last_name(func)
        group = table.get(name)
        if group is None:
            table[name] = [position]
        else:
            group.append(position)
    return table


class Rule:
    """Base class of every rule. Subclasses set the class attributes and implement ``check``."""

    id: ClassVar[str]  # stable code in a meaningful range, e.g. "WB101"; never changes once published
    name: ClassVar[str]  # kebab-case name of the pattern flagged, e.g. "hardcoded-secret-fallback"
    category: ClassVar[Category]
    severity: ClassVar[Severity]
    confidence: ClassVar[Severity] = Severity.HIGH
    cwe: ClassVar[int | None] = None
    fixed_by: ClassVar[str | None] = None  # the codemod module name that fixes it, or None
    VALID: ClassVar[tuple[Example | str, ...]] = ()
    INVALID: ClassVar[tuple[Example | str, ...]] = ()

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        raise NotImplementedError  # every concrete rule overrides it; the base is abstract

    def finding(self, ctx: RuleContext, line: int, message: str, *, end_line: int | None = None) -> Finding:
        """A finding of this rule at ``line`` of ``ctx.file``, attributed to the enclosing route."""
        route = ctx.route_at(line)
        return Finding(
            rule_id=self.id,
            category=self.category,
            severity=self.severity,
            confidence=self.confidence,
            file=ctx.file,
            line=line,
            end_line=end_line,
            message=message,
            route=route.key if route else "",
            snippet=ctx.snippet(line),
            cwe=self.cwe,
            fixed_by=self.fixed_by,
        )

    @classmethod
    def doc(cls) -> str:
        return (cls.__doc__ or "").strip()


def _iter_rule_modules() -> Iterator[str]:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            yield f"{__name__}.{info.name}"


@lru_cache(maxsize=1)
def all_rules() -> tuple[type[Rule], ...]:
    """Every concrete rule class in this package, sorted by id (discovered, not listed)."""
    found: dict[str, type[Rule]] = {}
    for modname in _iter_rule_modules():
        module = importlib.import_module(modname)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == modname:
                if getattr(obj, "id", None):
                    if obj.id in found:
                        raise RuntimeError(f"duplicate rule id {obj.id}: {found[obj.id].__module__} and {modname}")
                    found[obj.id] = obj
    return tuple(found[k] for k in sorted(found))
