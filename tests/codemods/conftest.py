"""Helpers for the codemod tests: run one codemod over a dedented source."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

sys.path.insert(0, str(Path(__file__).parent))


def run(command, source: str, **migration) -> tuple[str, CodemodContext]:
    """(new source, libcst context) of ``command`` applied to ``source`` (dedented)."""
    from audit.codemods import MigrationContext

    context = CodemodContext(filename=migration.get("file", "app/routes.py"))
    migration.setdefault("file", "app/routes.py")
    new = command(context, MigrationContext(**migration)).transform_module(cst.parse_module(textwrap.dedent(source)))
    return new.code, context


@pytest.fixture
def apply():
    def _apply(command, source, **migration):
        return run(command, source, **migration)[0]
    return _apply


@pytest.fixture
def apply_with_notes():
    """Like ``apply``, returning (new source, libcst context) so that tests read the notes
    (``context.warnings``). A fixture, because ``from conftest import run`` resolves to
    whichever conftest is first on sys.path when several test folders run together."""
    return run
