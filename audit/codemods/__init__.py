"""The migration's codemods: one libcst codemod per concern, discovered by walking this package.

Each module ``audit/codemods/<verb_phrase>.py`` holds one ``<VerbPhrase>Command``, a
:class:`MigrationCommand` (a libcst ``VisitorBasedCodemodCommand``) with a one-line
``DESCRIPTION``, a kebab-case ``NAME`` (what ``--only``/``--skip`` take), an ``ORDER``
(codemods run in increasing order on each file) and ``FIXES`` (the categories it removes).

What a codemod needs to know beyond its file (the routes of the file from the map
inventory, which are public or sensitive, the project's own auth helper, where the
security and schemas modules are) travels in a frozen :class:`MigrationContext`, never in
globals. Without one (``python -m libcst.tool codemod -x
audit.codemods.add_authentication.AddAuthenticationCommand app.py``), a codemod analyses
its file on its own. Notes for a human go to libcst's ``context.warnings``; generated
pydantic models go to ``context.scratch[SCHEMAS_KEY]``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, ClassVar, Iterator

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.matchers._decorators import (
    CONSTRUCTED_LEAVE_MATCHER_ATTR,
    CONSTRUCTED_VISIT_MATCHER_ATTR,
    VISIT_NEGATIVE_MATCHER_ATTR,
    VISIT_POSITIVE_MATCHER_ATTR,
)
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from ..config import Config
from ..model import Category, Route
from ._traversal import parents, transform

__all__ = ["SCHEMAS_KEY", "AuthHelper", "MigrationCommand", "MigrationContext", "all_codemods", "select_codemods"]

#: ``context.scratch`` key under which add_validation leaves the model classes it generated.
SCHEMAS_KEY = "workbench.schemas"
SECURITY_MODULE = "workbench_security"
SCHEMAS_MODULE = "workbench_schemas"


@dataclass(frozen=True)
class AuthHelper:
    """The project's own auth decorator, reused when it verifies a bearer token."""

    module: str  # dotted module name relative to the migrated root ("auth", "app.security")
    name: str  # "login_required"
    file: str = ""  # where it is defined (relative path)


@dataclass(frozen=True)
class MigrationContext:
    """What one file's codemods know about the project (picklable, immutable)."""

    file: str = ""  # path relative to SRC, forward slashes
    module: str = ""  # dotted module name relative to the migrated root ("routes.posts")
    routes: tuple[Route, ...] = ()  # the inventory's routes whose handler is in this file
    config: Config = field(default_factory=Config)
    package_root: bool = False  # the migrated root is a package: import added modules relatively
    auth_helper: AuthHelper | None = None
    columns: tuple[tuple[str, str, str], ...] = ()  # (model class, attribute, python type) of the ORM models
    imported_names: frozenset[str] = frozenset()  # names other modules import from this one
    uses_sessions: bool = False  # the project uses flask's signed session (SECRET_KEY is then required)
    standalone: bool = True  # no project analysis: the codemod looks at its file alone
    #: Project functions whose parameter is the URL of an outbound request:
    #: (module, function, parameter index, parameter name), from _project_scan.
    url_fetchers: tuple[tuple[str, str, int, str], ...] = ()

    @property
    def depth(self) -> int:
        return self.module.count(".") if self.module else 0

    def import_target(self, module: str) -> tuple[str, int]:
        """(module, relative level) under which this file imports an added root module."""
        if not self.package_root:
            return module, 0
        return module, self.depth + 1

    def column_type(self, model: str, attribute: str) -> str | None:
        for cls, attr, pytype in self.columns:
            if cls == model and attr == attribute:
                return pytype
        return None

    def column_types(self, attribute: str) -> set[str]:
        return {pytype for _cls, attr, pytype in self.columns if attr == attribute}

    def routes_of(self, handler: str) -> list[Route]:
        return [r for r in self.routes if r.handler == handler]


class MigrationCommand(VisitorBasedCodemodCommand):
    """Base of the workbench's codemods: a libcst command with the migration's context.

    Runs under ``python -m libcst.tool codemod -x <module>.<Class>`` too: libcst calls
    ``Command(CodemodContext(...))`` and the migration context is then built from the
    file alone (its own route decorators; the default public and sensitive lists)."""

    NAME: ClassVar[str]
    ORDER: ClassVar[int]
    FIXES: ClassVar[tuple[Category, ...]] = ()
    #: A regex that any source this codemod can change matches; the driver skips files that
    #: do not (parsing and walking a module 13 times is the migration's main cost).
    APPLIES_TO: ClassVar[str | None] = None
    #: True when the codemod changes nothing outside route handlers and learns nothing there
    #: that it uses elsewhere (its visit_Module/leave_Module aside): the bodies of functions
    #: that are not route handlers are then not walked (their FunctionDef hooks still run).
    ONLY_IN_HANDLERS: ClassVar[bool] = False
    #: Positions are only needed for the line numbers in notes: resolved lazily by line_of.
    METADATA_DEPENDENCIES = ()
    #: Set by the driver to a list shared by the codemods of one file: [0] the route handlers
    #: found in a tree, reused by the next codemod when it gets the same tree (the driver
    #: passes a tree on unchanged when a codemod changed nothing); [1] (optional) a dict in
    #: which each top-level statement's handlers are kept while the statement is unchanged.
    handler_memo: list | None = None
    #: Set by the driver to the code of the tree it transforms (saves printing it to search it).
    source: str | None = None

    @classmethod
    def may_change(cls, source: str) -> bool:
        """False only when this codemod certainly leaves ``source`` unchanged."""
        return cls.APPLIES_TO is None or re.search(cls.APPLIES_TO, source) is not None

    def __init__(self, context: CodemodContext, migration: MigrationContext | None = None) -> None:
        if _uses_matcher_decorators(type(self)):
            super().__init__(context)
        else:
            # The state MatcherDecoratableTransformer.__init__ sets, without its scan of every
            # attribute for @m.visit/@m.leave decorators (dir() + getattr per instance: ~15 ms,
            # paid for every codemod on every file). None of our codemods use them.
            Codemod.__init__(self, context)
            self._matchers = {}
            self._extra_visit_funcs = {}
            self._extra_leave_funcs = {}
        self._plain = not _uses_matcher_decorators(type(self))  # (cached per class)
        self._funcs: dict[tuple[type, str], Any] = {}
        self._positions: Any = None
        self._open_handler: cst.FunctionDef | None = None  # the route handler being walked (ONLY_IN_HANDLERS)
        self.migration = migration or MigrationContext(file=context.filename or "")

    # --- traversal: the matcher-aware dispatch of libcst costs three getattr calls with a
    # formatted name per node; without matcher decorators it reduces to plain CSTTransformer
    # dispatch, done here with the bound methods looked up once per node type.

    def _func(self, prefix: str, node_type: type, attribute: str = "") -> Any:
        key = (node_type, prefix + attribute)
        try:
            return self._funcs[key]
        except KeyError:
            name = f"{prefix}_{node_type.__name__}" + (f"_{attribute}" if attribute else "")
            func = getattr(self, name, None)
            if getattr(func, "_is_no_op", False):
                func = None  # libcst's typed stubs (marked no-op) change nothing: not called
            self._funcs[key] = func
            return func

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not self._plain:
            return super().on_visit(node)
        node_type = type(node)
        func = self._func("visit", node_type)
        descend = func is None or func(node) is not False
        if descend and node_type is cst.FunctionDef and self.ONLY_IN_HANDLERS and self._open_handler is None:
            # (handlers are module-level functions or methods: a function inside one is not)
            if not self.routes_of(node):
                return False
            self._open_handler = node
        # Subtrees holding nothing this codemod looks at are kept as they are, not walked.
        return descend and not _pruned(type(self), node_type)

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        if not self._plain:
            return super().on_leave(original_node, updated_node)
        if original_node is self._open_handler:
            self._open_handler = None
        func = self._func("leave", type(original_node))
        return updated_node if func is None else func(original_node, updated_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if self._plain and not _has_attribute_hooks(type(self)):
            return None
        if not self._plain:
            return super().on_visit_attribute(node, attribute)
        func = self._func("visit", type(node), attribute)
        if func is not None:
            func(node)
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        if self._plain and not _has_attribute_hooks(type(self)):
            return None
        if not self._plain:
            return super().on_leave_attribute(original_node, attribute)
        func = self._func("leave", type(original_node), attribute)
        if func is not None:
            func(original_node)
        return None

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Iterator[cst.Module]:
        with _metadata_without_copy(self, module) as tree:
            yield tree

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        # The same visit as libcst's ``tree.visit(self)``, in the same order, without
        # rebuilding the nodes nothing changed in (see _traversal): a codemod that changes
        # nothing returns ``tree`` itself, which the driver uses to skip printing it.
        if self._plain and not _has_attribute_hooks(type(self)):
            return transform(tree, self)
        return tree.visit(self)

    # --- imports of the added modules -------------------------------------------------------

    def import_security(self, *names: str) -> None:
        """Schedule ``from <security module> import <names>`` (relative inside a package)."""
        for name in names:
            self.import_from(*self.migration.import_target(SECURITY_MODULE), name)

    def import_schema(self, name: str) -> None:
        self.import_from(*self.migration.import_target(SCHEMAS_MODULE), name)

    def import_from(self, module: str, level: int, name: str) -> None:
        """Schedule ``from <level dots><module> import <name>``.

        Absolute imports go through libcst's AddImportsVisitor; relative ones are merged
        here into an existing ``from .x import ...`` of the same module, because libcst
        cannot tell that two relative imports name the same module without a package name
        (and with one, it would write them absolute)."""
        if level == 0:
            self.add_needed_import(module, name)
        else:
            self.context.scratch.setdefault(_RELATIVE_KEY, {}).setdefault((module, level), set()).add(name)

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # What CodemodCommand.transform_module does (the visit, then libcst's import
        # visitors when scheduled), with the cheap AddImportsVisitor below.
        tree = Codemod.transform_module(self, tree)
        if AddImportsVisitor.CONTEXT_KEY in self.context.scratch:
            tree = self._instantiate_and_run(_TopLevelAddImports, tree)
        if RemoveImportsVisitor.CONTEXT_KEY in self.context.scratch:
            tree = self._instantiate_and_run(_RemoveImports, tree)
        pending = self.context.scratch.pop(_RELATIVE_KEY, None)
        return _add_relative_imports(tree, pending) if pending else tree

    def line_of(self, node: cst.CSTNode) -> int:
        # Positions cost a full code generation of the module: only computed when a note needs one.
        # (The provider is run directly: wrapper.resolve would also walk the whole tree once
        # more for an empty batch of batchable providers.)
        wrapper = self.context.wrapper
        if self._positions is None or self._positions[0] is not wrapper:
            self._positions = (wrapper, PositionProvider()._gen(wrapper))
        return self._positions[1][node].start.line

    def note(self, message: str) -> None:
        """Leave a note for a human (it goes to MIGRATION.json)."""
        self.warn(f"{self.NAME}: {message}")

    # --- route handlers (looked up on the original tree; lines move, names do not) -----------

    def qualname_of(self, original: cst.FunctionDef) -> str | None:
        """The qualified name (``f``, ``Cls.meth``) of a module-level function or method."""
        return self._lookup()[0].get(id(original))

    def routes_of(self, original: cst.FunctionDef) -> list[Route]:
        """The routes served by ``original`` when it is a route handler, else ``[]``."""
        name = self.qualname_of(original)
        return self._lookup()[1].get(name, []) if name else []

    def _lookup(self) -> tuple[dict[int, str], dict[str, list[Route]]]:
        cache = getattr(self, "_handler_cache", None)
        if cache is None or cache[0] is not self.module:
            memo = self.handler_memo
            if memo is not None and memo[0] is not None and memo[0][0] is self.module:
                cache = memo[0]  # an earlier codemod looked at this very tree
            else:
                cache = (self.module, _qualnames(self.module), self._handler_routes())
                if memo is not None:
                    memo[0] = cache
            self._handler_cache = cache
        return cache[1], cache[2]

    def _handler_routes(self) -> dict[str, list[Route]]:
        from ._route_handlers import routes_of_module

        merged: dict[str, list[Route]] = {}
        for route in self.migration.routes:
            merged.setdefault(route.handler, []).append(route)
        known = set(merged)
        # The module's own decorators fill in what the inventory did not list.
        statements = self.handler_memo[1] if self.handler_memo is not None and len(self.handler_memo) > 1 else None
        for route in routes_of_module(self.module, self.migration.file, self.migration.config, self.source,
                                      statements):
            if route.handler not in known:
                merged.setdefault(route.handler, []).append(route)
        return merged


_RELATIVE_KEY = "workbench.relative_imports"


@contextmanager
def _metadata_without_copy(codemod: Codemod, module: cst.Module) -> Iterator[cst.Module]:
    """Codemod._handle_metadata_reference without the deep copy of the module.

    libcst copies the module for its metadata wrapper so that node identities are unique.
    Our trees come fresh from the parser or from the previous codemod's rewrite (libcst
    transformers rebuild every node they pass), so the copy, which cost as much as the
    parse, once per codemod and file, is skipped."""
    oldwrapper = codemod.context.wrapper
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    if ParentNodeProvider in codemod.get_inherited_dependencies():
        # The same mapping as libcst's provider, computed without rebuilding every node twice;
        # the wrapper then treats the provider as resolved.
        wrapper._metadata[ParentNodeProvider] = parents(module)
    with codemod.resolve(wrapper):
        codemod.context = replace(codemod.context, wrapper=wrapper)
        try:
            yield wrapper.module
        finally:
            codemod.context = replace(codemod.context, wrapper=oldwrapper)


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))


class _WithoutMatcherScan:
    """For libcst's own transformers that carry no matcher decorators (AddImportsVisitor,
    RemoveImportsVisitor): their ``MatcherDecoratableTransformer.__init__`` looks for
    decorators in ``dir(self)`` with a getattr per name (~30 ms per instance, paid by every
    codemod that adds an import); ``dir`` is empty while it does, so it finds nothing, which
    is what it would have found (tests/test_migrate.py checks these classes have none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_workbench_no_scan"] = True
        try:
            super().__init__(*args, **kwargs)
        finally:
            del self.__dict__["_workbench_no_scan"]
        self._matchers = {}  # (else gathered lazily, with the same scan, at the first visit)

    def __dir__(self) -> list[str]:
        return [] if "_workbench_no_scan" in self.__dict__ else list(super().__dir__())


class _RemoveImports(_WithoutMatcherScan, RemoveImportsVisitor):
    """libcst's RemoveImportsVisitor, without the matcher scan at construction."""


class _TopLevelAddImports(_WithoutMatcherScan, AddImportsVisitor):
    """libcst's AddImportsVisitor, without walking the whole module twice.

    It only reads and rewrites the import statements at the top of the module (its
    gatherer stops at the first statement that is not an import; leave_ImportFrom ignores
    any other import), so the gatherer is given that prefix and the rewrite does not
    descend below the module's top-level simple statements. Same result, a fraction of
    the cost (it runs after every codemod that adds an absolute import)."""

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Iterator[cst.Module]:
        with _metadata_without_copy(self, module) as tree:
            yield tree

    def visit_Module(self, node: cst.Module) -> None:
        cut = next((i for i, stmt in enumerate(node.body) if i > 0 and not _is_import_line(stmt)), len(node.body))
        super().visit_Module(node.with_changes(body=node.body[:cut]) if cut < len(node.body) else node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module):
            return super().on_visit(node)
        return isinstance(node, cst.SimpleStatementLine)


def _relative_module(node: cst.ImportFrom) -> tuple[str, int]:
    module = cst.Module(body=[]).code_for_node(node.module) if node.module else ""
    return module, len(node.relative)


def _add_relative_imports(tree: cst.Module, pending: dict[tuple[str, int], set[str]]) -> cst.Module:
    body = list(tree.body)
    last_import = -1
    for index, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            if isinstance(stmt, (cst.If, cst.Try)) or last_import >= 0:
                break
            continue
        first = stmt.body[0]
        if isinstance(first, (cst.Import, cst.ImportFrom)):
            last_import = index
        elif index == 0 and isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
            last_import = index  # the docstring: new imports go after it
        elif last_import >= 0:
            break
    for (module, level), names in sorted(pending.items()):
        done = False
        for index, stmt in enumerate(body):
            if not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.ImportFrom)):
                continue
            node = stmt.body[0]
            if _relative_module(node) != (module, level) or isinstance(node.names, cst.ImportStar):
                done = done or (_relative_module(node) == (module, level))
                continue
            have = {a.name.value for a in node.names if isinstance(a.name, cst.Name) and a.asname is None}
            missing = sorted(names - have)
            if missing:
                aliases = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in node.names]
                aliases = [*aliases, *(cst.ImportAlias(name=cst.Name(n)) for n in missing)]
                aliases = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                           for a in aliases[:-1]] + [aliases[-1]]
                body[index] = stmt.with_changes(body=[node.with_changes(names=aliases, lpar=None, rpar=None)])
            done = True
            break
        if not done:
            statement = cst.parse_statement(f"from {'.' * level}{module} import {', '.join(sorted(names))}")
            last_import += 1
            body.insert(last_import, statement)
    return tree.with_changes(body=body)


_MATCHER_ATTRS = (CONSTRUCTED_VISIT_MATCHER_ATTR, CONSTRUCTED_LEAVE_MATCHER_ATTR,
                  VISIT_POSITIVE_MATCHER_ATTR, VISIT_NEGATIVE_MATCHER_ATTR)


@lru_cache(maxsize=None)
def _uses_matcher_decorators(cls: type) -> bool:
    """True when a method of ``cls`` carries a libcst matcher decorator (@m.visit,
    @m.call_if_inside...): such a class keeps libcst's matcher-aware dispatch."""
    for _name, member in inspect.getmembers(cls, inspect.isfunction):
        if any(getattr(member, attr, None) for attr in _MATCHER_ATTRS):
            return True
    return False


# Nodes whose subtrees hold only whitespace, punctuation and tokens (no call, no statement).
_TRIVIA: tuple[type, ...] = (
    cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
    cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.ImportStar, cst.Asynchronous,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.BaseUnaryOp, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseAugOp,
    cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis,
)
# Nodes that never occur inside an expression.
_STATEMENT_LEVEL = frozenset({
    "Module", "FunctionDef", "ClassDef", "Decorator", "If", "Else", "Try", "TryStar", "ExceptHandler",
    "ExceptStarHandler", "Finally", "For", "While", "With", "Match", "SimpleStatementLine", "IndentedBlock",
    "SimpleStatementSuite", "Return", "Assign", "AnnAssign", "AugAssign", "Expr", "Raise", "Assert", "Del",
    "Import", "ImportFrom", "Global", "Nonlocal", "Pass", "Break", "Continue",
})


def _hooked_types(cls: type) -> set[str]:
    """The node type names ``cls`` has a visit_/leave_ method for (libcst's no-op stubs aside)."""
    return {name.split("_", 1)[1] for name, member in inspect.getmembers(cls, inspect.isfunction)
            if re.fullmatch(r"(visit|leave)_[A-Z][A-Za-z]*", name) and not getattr(member, "_is_no_op", False)}


@lru_cache(maxsize=None)
def _prunable(cls: type) -> tuple[type, ...]:
    """Node types whose subtrees cannot hold a node ``cls`` has a hook for: the traversal does
    not descend into them (the children stay the same objects; the printed code is the same).

    Trivia when the codemod hooks no trivia; every expression when it only hooks statements."""
    hooked = _hooked_types(cls)
    trivia_names = {t.__name__ for t in _TRIVIA}
    trivia_names |= {sub.__name__ for t in _TRIVIA for sub in _subclasses(t)}
    prune: tuple[type, ...] = () if hooked & trivia_names else _TRIVIA
    if hooked <= _STATEMENT_LEVEL:
        prune += (cst.BaseExpression,)
    return prune


def _pruned(cls: type, node_type: type) -> bool:
    """``issubclass(node_type, _prunable(cls))``, memoised (the ABC checks cost more than the visit)."""
    known = _PRUNED.get(cls)
    if known is None:
        known = _PRUNED[cls] = {}
    try:
        return known[node_type]
    except KeyError:
        known[node_type] = found = issubclass(node_type, _prunable(cls))
        return found


_PRUNED: dict[type, dict[type, bool]] = {}  # codemod class -> node type -> pruned


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@lru_cache(maxsize=None)
def _has_attribute_hooks(cls: type) -> bool:
    """True when ``cls`` defines a ``visit_<Node>_<attribute>``/``leave_<Node>_<attribute>``
    method of its own (libcst's typed stubs are marked no-op and do not count)."""
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if re.match(r"(visit|leave)_[A-Z][A-Za-z]*_[a-z]", name) and not getattr(member, "_is_no_op", False):
            return True
    return False


def _qualnames(module: cst.Module) -> dict[int, str]:
    """id(FunctionDef) -> qualified name, for module-level functions and methods of
    module-level classes (nested functions are never handlers)."""
    names: dict[int, str] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            names[id(stmt)] = stmt.name.value
        elif isinstance(stmt, cst.ClassDef):
            for inner in stmt.body.body:
                if isinstance(inner, cst.FunctionDef):
                    names[id(inner)] = f"{stmt.name.value}.{inner.name.value}"
    return names


def _iter_codemod_modules() -> list[str]:
    return [f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__)
            if not info.name.startswith("_") and info.name != "templates"]


@lru_cache(maxsize=1)
def all_codemods() -> tuple[type[MigrationCommand], ...]:
    """Every codemod command of this package, in ``ORDER`` (discovered, not listed)."""
    found: dict[str, type[MigrationCommand]] = {}
    for modname in _iter_codemod_modules():
        module = importlib.import_module(modname)
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, MigrationCommand) and obj is not MigrationCommand
                    and obj.__module__ == modname and getattr(obj, "NAME", None)):
                if obj.NAME in found:
                    raise RuntimeError(f"duplicate codemod name {obj.NAME}")
                found[obj.NAME] = obj
    return tuple(sorted(found.values(), key=lambda c: (c.ORDER, c.NAME)))


def select_codemods(only=None, skip=None) -> tuple[type[MigrationCommand], ...]:
    """The codemods named by ``only`` minus those named by ``skip`` (names or module names).

    Raises ValueError naming any unknown codemod."""
    commands = all_codemods()
    known = {c.NAME: c for c in commands} | {c.__module__.rsplit(".", 1)[1]: c for c in commands}
    for name in list(only or []) + list(skip or []):
        if name not in known:
            raise ValueError(f"unknown codemod {name!r}; known: {', '.join(c.NAME for c in commands)}")
    chosen = {known[n] for n in only} if only else set(commands)
    chosen -= {known[n] for n in (skip or [])}
    return tuple(c for c in commands if c in chosen)

