"""``workbench map``: exit statuses, outputs, --fail-on/--baseline, --config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit import mapping
from audit.cli import main

sys.path.insert(0, str(Path(__file__).parent))  # the doubles of test_mapping, whatever pytest's import mode
from test_mapping import APP, PrintRule, RouteRule  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def src(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(mapping, "_load_rules", lambda: ([PrintRule, RouteRule], []))
    monkeypatch.setattr(mapping, "_RULES", None)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    return root


def cli(*args: str) -> int:
    return main(["map", *args, "--jobs", "1", "--no-bandit", "--no-semgrep", "--no-cache"])


def test_map_writes_outputs_and_exits_0(src, tmp_path, capsys):
    assert cli(str(src), "--out", str(tmp_path / "out")) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"routes.csv", "findings.csv", "findings.sarif", "summary.json"}
    assert "3 routes" in capsys.readouterr().err


def test_fail_on_and_baseline(src, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(str(src), "--out", str(out), "--fail-on", "high") == 1
    assert "2 finding(s) at or above high" in capsys.readouterr().err
    assert cli(str(src), "--out", str(tmp_path / "again"), "--fail-on", "high",
               "--baseline", str(out / "findings.sarif")) == 0


def test_usage_errors_exit_2(src, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[rules\n")
    assert cli(str(src), "--out", str(tmp_path / "o"), "--config", str(bad)) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert cli(str(src), "--out", str(tmp_path / "o"), "--config", str(tmp_path / "none.toml")) == 2
    assert "no such config file" in capsys.readouterr().err
    assert cli(str(src), "--out", str(tmp_path / "o"), "--fail-on", "low", "--baseline", str(tmp_path / "x.sarif")) == 2
    assert "baseline" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli(str(tmp_path / "missing"))
    assert exc.value.code == 2


def test_python_dash_m_audit_map(tmp_path):
    """The real command in a subprocess: exit status 2 and a message for an unreadable SRC."""
    proc = subprocess.run([sys.executable, "-m", "audit", "map", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "no such directory" in proc.stderr
