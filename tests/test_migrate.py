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
