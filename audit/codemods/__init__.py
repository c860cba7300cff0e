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
import pkgutil
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.metadata import PositionProvider

from ..config import Config
from ..model import Category, Route

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
    METADATA_DEPENDENCIES = (PositionProvider,)

    @classmethod
    def may_change(cls, source: str) -> bool:
        """False only when this codemod certainly leaves ``source`` unchanged."""
        return cls.APPLIES_TO is None or re.search(cls.APPLIES_TO, source) is not None

    def __init__(self, context: CodemodContext, migration: MigrationContext | None = None) -> None:
        super().__init__(context)
        self.migration = migration or MigrationContext(file=context.filename or "")

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
        tree = super().transform_module(tree)
        pending = self.context.scratch.pop(_RELATIVE_KEY, None)
        return _add_relative_imports(tree, pending) if pending else tree

    def line_of(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

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
            cache = (self.module, _qualnames(self.module), self._handler_routes())
            self._handler_cache = cache
        return cache[1], cache[2]

    def _handler_routes(self) -> dict[str, list[Route]]:
        from ._route_handlers import routes_of_module

        merged: dict[str, list[Route]] = {}
        for route in self.migration.routes:
            merged.setdefault(route.handler, []).append(route)
        known = set(merged)
        # The module's own decorators fill in what the inventory did not list.
        for route in routes_of_module(self.module, self.migration.file, self.migration.config):
            if route.handler not in known:
                merged.setdefault(route.handler, []).append(route)
        return merged


_RELATIVE_KEY = "workbench.relative_imports"


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

