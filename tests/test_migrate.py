"""``workbench migrate``: the driver around the codemods (copy, MIGRATION.json, dry run,
idempotence, failures), and target_app being exactly what it writes for legacy_app."""
from __future__ import annotations

import filecmp
import hashlib
import json
from pathlib import Path

import pytest

from audit.cli import main
from audit.migrate import MIGRATION_FILE, MigrationError, run_migration

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = {
    "__init__.py": "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n"
                   "    from .views import bp\n    app.register_blueprint(bp)\n    return app\n",
    "views.py": "# the views\nfrom flask import Blueprint, jsonify\n\nbp = Blueprint('v', __name__)\n\n\n"
                "@bp.route('/api/things')\ndef things():\n    print('listing')  # debug\n    return jsonify([])\n",
    "broken.py": "def oops(:\n    pass\n",
    "notes.txt": "not python\n",
    "tests/test_views.py": "def test_x():\n    print('kept')\n",
    "data.db": "binary",
}


def _sample(root: Path) -> Path:
    for rel, text in SAMPLE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"\0")
    return root


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_migrates_a_copy_and_reports_per_file(tmp_path):
    src = _sample(tmp_path / "app")
    before = _digest(src)
    result = run_migration(src, tmp_path / "out", jobs=1, progress=False)
    out = tmp_path / "out"
    assert _digest(src) == before  # SRC is never written
    assert "@require_auth" in (out / "views.py").read_text()
    assert "logger.info('listing')  # debug" in (out / "views.py").read_text()  # comment kept
    assert "# the views" in (out / "views.py").read_text()
    assert (out / "workbench_security.py").exists() and (out / "notes.txt").read_text() == "not python\n"
    assert not (out / "data.db").exists() and not (out / "__pycache__").exists()
    assert (out / "tests/test_views.py").read_text() == SAMPLE["tests/test_views.py"]
    report = json.loads((out / MIGRATION_FILE).read_text())
    assert report == result.report
    views = report["files"]["views.py"]
    assert views["status"] == "migrated" and "add-authentication" in views["codemods"] and views["lines_added"] > 0
    assert report["files"]["broken.py"]["status"] == "copied unchanged"
    assert report["files"]["broken.py"]["reason"].startswith("cannot parse")
    assert (out / "broken.py").read_text() == SAMPLE["broken.py"]
    assert report["files"]["tests/test_views.py"]["reason"] == "test code"
    assert "workbench_security.py" in report["added_modules"] and report["required_env"] == ["JWT_SECRET"]


def test_dry_run_prints_a_diff_and_writes_nothing(tmp_path, capsys):
    src = _sample(tmp_path / "app")
    assert main(["migrate", str(src), "--dry-run", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "--- a/views.py\n+++ b/views.py\n" in out and "+@require_auth" in out
    assert "+++ b/workbench_security.py" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app"]


def test_a_codemod_that_raises_leaves_the_file_unchanged(tmp_path, monkeypatch):
    from audit.codemods.replace_print_with_logging import ReplacePrintWithLoggingCommand

    def boom(self, *args):
        raise RuntimeError("codemod bug")

    monkeypatch.setattr(ReplacePrintWithLoggingCommand, "leave_Call", boom)
    src = _sample(tmp_path / "app")
    report = run_migration(src, tmp_path / "out", jobs=1, progress=False).report
    entry = report["files"]["views.py"]
    assert entry["status"] == "copied unchanged" and "replace-print-with-logging failed" in entry["reason"]
    assert (tmp_path / "out" / "views.py").read_text() == SAMPLE["views.py"]


def test_bad_arguments_are_clear_errors(tmp_path, capsys):
    src = _sample(tmp_path / "app")
    with pytest.raises(MigrationError, match="inside"):
        run_migration(src, src / "out")
    with pytest.raises(MigrationError, match="unknown codemod"):
        run_migration(src, tmp_path / "out", only=["no-such-codemod"])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "precious.txt").write_text("x")
    assert main(["migrate", str(src), "--target", str(tmp_path / "busy")]) == 2
    assert "not an earlier migration output" in capsys.readouterr().err
    assert (tmp_path / "busy" / "precious.txt").exists()


def test_only_and_skip_select_codemods(tmp_path):
    src = _sample(tmp_path / "app")
    only = run_migration(src, None, only=["replace-print-with-logging"], dry_run=True, jobs=1).report
    assert only["codemods"] == ["replace-print-with-logging"]
    assert only["files"]["views.py"]["codemods"] == ["replace-print-with-logging"]
    skip = run_migration(src, None, skip=["add-authentication"], dry_run=True, jobs=1).report
    assert "add-authentication" not in skip["codemods"] and "require_auth" not in str(skip["files"]["views.py"])


@pytest.mark.slow
def test_target_app_is_exactly_the_migration_of_legacy_app(tmp_path):
    """Regenerate target_app (in parallel) and compare every file, both ways."""
    out = tmp_path / "target_app"
    run_migration(ROOT / "legacy_app", out, jobs=2, progress=False)
    committed = ROOT / "target_app"
    ignore = lambda p: "__pycache__" in p.parts or p.suffix in (".pyc", ".db")  # noqa: E731
    ours = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    theirs = {p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and not ignore(p)}
    assert ours == theirs
    different = [str(p) for p in sorted(ours) if not filecmp.cmp(out / p, committed / p, shallow=False)]
    assert not different, f"target_app differs from `workbench migrate legacy_app`: {different}"


@pytest.mark.slow
def test_migrating_the_output_again_changes_nothing(tmp_path):
    second = run_migration(ROOT / "target_app", tmp_path / "again", jobs=2, progress=False)
    assert second.files_changed == [] and second.diff == ""
    for entry in second.report["files"].values():
        assert entry["status"] != "migrated", entry


# --- the lean traversal (audit/codemods/_traversal.py) must be libcst's, minus the rebuilding -------

import libcst as cst  # noqa: E402
import libcst.matchers as m  # noqa: E402
from libcst.metadata import MetadataWrapper, ParentNodeProvider  # noqa: E402

from audit.codemods._traversal import children_plan, findall, parents, transform  # noqa: E402
from audit.migrate import ModulePrinter  # noqa: E402

_TRICKY = '''"""doc"""
import os, sys
from .models import (Post,
                     User)  # comment
X: int = 1; Y = {"a": [1, 2, *rest], **extra}


@decorator(arg=lambda v: v if v else None)
async def handler(a, /, b=2, *args, c: "str" = f"{os.sep!r:>{width}}", **kw) -> dict:
    global G
    try:
        async with ctx() as (p, q):
            return [x async for x in gen() if x]
    except* ValueError as e:
        raise RuntimeError(str(e)) from e
    finally:
        del X[1:2, ::3]
    match kw:
        case {"k": [1, *others]} | Point(x=0) if others:
            pass
    print(a, sep="") ; print(b)
    return {k: v for k, v in kw.items()}


class View(Base, metaclass=Meta):
    @property
    def name(self):  # trailing
        while True:
            yield (yield from other()) or not b
'''


def _sources() -> list[str]:
    files = sorted((ROOT / "legacy_app").rglob("*.py"))[:12]
    return [_TRICKY] + [p.read_text(encoding="utf-8") for p in files]


class _Recorder(cst.CSTTransformer):
    """Renames ``print`` calls, drops ``pass`` lines, splits ``del`` into two statements,
    and records the order of every callback."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    def on_visit(self, node):  # type: ignore[no-untyped-def]
        self.calls.append(("visit", type(node).__name__))
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        self.calls.append(("leave", type(original_node).__name__))
        return super().on_leave(original_node, updated_node)

    def on_visit_attribute(self, node, attribute):  # type: ignore[no-untyped-def]
        pass  # (not called by transform: only the node callbacks are compared)

    def on_leave_attribute(self, original_node, attribute):  # type: ignore[no-untyped-def]
        pass

    def leave_Name(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        return updated_node.with_changes(value="log") if updated_node.value == "print" else updated_node

    def leave_SimpleStatementLine(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        if m.matches(updated_node, m.SimpleStatementLine(body=[m.Pass()])):
            return cst.RemoveFromParent()
        if m.matches(updated_node, m.SimpleStatementLine(body=[m.Del()])):
            return cst.FlattenSentinel([updated_node, cst.parse_statement("cleanup()")])
        return updated_node


def test_transform_matches_libcst_visit_and_keeps_unchanged_subtrees():
    for source in _sources():
        expected_visitor, ours = _Recorder(), _Recorder()
        expected = cst.parse_module(source).visit(expected_visitor)
        tree = cst.parse_module(source)
        result = transform(tree, ours)
        assert result.code == expected.code
        assert ours.calls == expected_visitor.calls  # same nodes, same order
        # A transformer that changes nothing gets the very same tree back.
        assert transform(tree, cst.CSTTransformer()) is tree
    changed = transform(cst.parse_module(_TRICKY), _Recorder())
    assert "log(a" in changed.code and "cleanup()" in changed.code


def test_every_node_type_but_a_few_has_a_plan():
    assert children_plan(cst.FunctionDef)[0] == (3, "leading_lines")  # visiting order, not field order
    assert [name for _kind, name in children_plan(cst.IfExp)][1:5] == [
        "body", "whitespace_before_if", "whitespace_after_if", "test"]
    assert children_plan(cst.SimpleWhitespace) == ()


@pytest.mark.parametrize("matcher", [
    m.Name(), m.Call() | m.Attribute(), m.Assign(targets=[m.AssignTarget(target=m.Name())]),
    m.Call(func=m.Attribute(attr=m.Name("get"))), m.SimpleString(), m.FunctionDef(), m.Comma(),
    m.MatchIfTrue(lambda node: isinstance(node, cst.Return)),  # (libcst's own search)
])
def test_findall_is_libcsts(matcher):
    for source in _sources():
        tree = cst.parse_module(source)
        expected = m.findall(tree, matcher)
        found = findall(tree, matcher)
        assert len(found) == len(expected) and all(a is b for a, b in zip(found, expected))
    assert findall(cst.RemovalSentinel.REMOVE, m.Name()) == []


def test_parents_are_libcsts():
    for source in _sources():
        tree = cst.parse_module(source)
        expected = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(ParentNodeProvider)
        found = parents(tree)
        assert len(found) == len(expected) and all(found[node] is parent for node, parent in expected.items())


def test_module_printer_prints_what_libcst_prints():
    printer = ModulePrinter()
    for source in [*_sources(), "x = 1", "", "# only a comment\n", "\n\n", "def f():\n    pass\n\n# footer\n"]:
        tree = cst.parse_module(source)
        assert printer.code(tree) == tree.code == source
        changed = transform(tree, _Recorder())
        assert printer.code(changed) == changed.code


def test_only_in_handlers_skips_the_bodies_of_other_functions():
    from libcst.codemod import CodemodContext

    from audit.codemods import MigrationCommand, MigrationContext
    from audit.codemods._route_handlers import dotted

    source = ("from flask import Blueprint\nbp = Blueprint('b', __name__)\n\n\n"
              "def helper():\n    return load()\n\n\n"
              "@bp.route('/x')\ndef handler():\n    def inner():\n        return nested()\n    return helper()\n")

    class Calls(MigrationCommand):
        NAME, ORDER = "test-calls", 0

        def __init__(self, context, migration=None):
            super().__init__(context, migration)
            self.seen: list[str] = []
            self.defs: list[str] = []

        def visit_FunctionDef(self, node):
            self.defs.append(node.name.value)

        def visit_Call(self, node):
            self.seen.append(dotted(node.func))

    class HandlerCalls(Calls):
        NAME = "test-handler-calls"
        ONLY_IN_HANDLERS = True

    for command, expected in ((Calls, ["Blueprint", "load", "bp.route", "nested", "helper"]),
                              (HandlerCalls, ["Blueprint", "bp.route", "nested", "helper"])):
        codemod = command(CodemodContext(filename="views.py"), MigrationContext(file="views.py"))
        tree = cst.parse_module(source)
        assert codemod.transform_module(tree) is tree  # nothing changed: the same tree
        assert codemod.seen == expected
        assert codemod.defs == ["helper", "handler", "inner"]  # hooks on every def still run


def test_libcst_import_visitors_used_without_the_matcher_scan_carry_no_matcher_decorators():
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    from audit.codemods import _RemoveImports, _TopLevelAddImports, _uses_matcher_decorators

    assert not _uses_matcher_decorators(AddImportsVisitor) and not _uses_matcher_decorators(RemoveImportsVisitor)
    visitor = _TopLevelAddImports(CodemodContext(), [])
    assert visitor._matchers == {} and "visit_Module" in dir(visitor)  # dir is only empty while constructing
    assert isinstance(_RemoveImports(CodemodContext()), RemoveImportsVisitor)


def test_handler_search_per_statement_with_a_cache_finds_what_one_walk_finds():
    from audit.codemods._route_handlers import gather_handlers

    def found(visitor):
        return [(h.qualname, h.paths, h.methods) for h in visitor.handlers.values()]

    files = [*sorted((ROOT / "legacy_app").rglob("*.py")), *sorted((ROOT / "tests" / "fixtures").rglob("*.py"))]
    sources = [p.read_text(encoding="utf-8") for p in files]
    sources.append("from flask.views import MethodView\n\n\nclass Items(MethodView):\n    def get(self):\n        pass\n\n"
                   "    def post(self):\n        pass\n\n\nbp.add_url_rule('/items', view_func=Items.as_view('items'), "
                   "methods=['GET'])\n\n\n@bp.route('/a', methods=['POST'])\n@bp.get('/b')\ndef a():\n    pass\n\n\n"
                   "bp.add_url_rule('/c', 'c', a)\n")
    some = 0
    for source in sources:
        cache: dict = {}
        tree = cst.parse_module(source)
        expected = found(gather_handlers(tree, source))
        assert found(gather_handlers(tree, source, cache)) == expected
        changed = transform(tree, _Recorder())  # some statements rebuilt, the others kept
        assert found(gather_handlers(changed, changed.code, cache)) == found(gather_handlers(changed, changed.code))
        some += bool(expected)
    assert some >= 5
