"""audit.pipeline with stand-in notebooks: parameters, files between stages, failures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from audit.pipeline import _literal, _runs_this_interpreter, kernel_for_this_interpreter, run_pipeline
from audit.report.export import external_resources

STEMS = ["01_map", "02_breakdown", "03_mitigate", "04_deploy"]


def _write_notebooks(folder: Path, failing: str | None = None) -> Path:
    folder.mkdir()
    for stem in STEMS:
        body = "1 / 0" if stem == failing else (
            "import sys\n"
            "from pathlib import Path\n"
            f"Path(out, '{stem}.txt').write_text(f'{{marker}} {{sys.prefix}} {{legacy}}')"
        )
        nb = new_notebook(cells=[
            new_markdown_cell(f"# {stem}"),
            new_code_cell('root = ".."\nlegacy = "legacy_app"\nout = "reports"\nmarker = "default"',
                          metadata={"tags": ["parameters"]}),
            new_code_cell("x = 41 + 1"),
            new_code_cell(body),
        ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
        nbformat.write(nb, str(folder / f"{stem}.ipynb"))
    return folder


@pytest.fixture
def legacy(tmp_path):
    app = tmp_path / "legacy_app"
    app.mkdir()
    (app / "app.py").write_text("x = 1\n")
    return app


def test_runs_the_four_notebooks_with_parameters_and_writes_reports(tmp_path, legacy):
    books = _write_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    messages = []
    summary = run_pipeline(legacy, tmp_path / "target", out, parameters={"marker": "changed"},
                           notebooks=books, log=messages.append)
    assert summary["ok"] is True, summary
    for stem in STEMS:
        marker, prefix, legacy_seen = (out / f"{stem}.txt").read_text().split(" ")
        assert marker == "changed"  # really a parameter
        assert prefix == sys.prefix  # the kernel runs this environment's interpreter
        assert legacy_seen == str(legacy.resolve())
        assert (out / "notebooks" / f"{stem}.ipynb").is_file()
        html = (out / f"{stem}.html").read_text()
        assert "x = 41 + 1" not in html  # stakeholder reports carry no code
        assert external_resources(html) == []
    assert json.loads((out / "summary.json").read_text())["ok"] is True
    assert (out / "index.html").is_file()
    assert any(m.strip().startswith("01_map") for m in messages)  # time per stage printed
    assert all(s["seconds"] is not None for s in summary["stages"])


def test_a_failing_cell_stops_the_run_and_names_notebook_cell_and_error(tmp_path, legacy):
    books = _write_notebooks(tmp_path / "nbs", failing="02_breakdown")
    out = tmp_path / "out"
    messages = []
    summary = run_pipeline(legacy, tmp_path / "target", out, notebooks=books, log=messages.append)
    assert summary["ok"] is False
    error = summary["error"]
    assert "02_breakdown.ipynb" in error and "cell" in error and "ZeroDivisionError" in error and "1 / 0" in error
    assert any("ZeroDivisionError" in m for m in messages)
    stages = {s["stage"]: s for s in summary["stages"]}
    assert stages["01_map"]["ok"] and not stages["02_breakdown"]["ok"]
    assert stages["03_mitigate"]["error"].startswith("not run")
    assert not (out / "03_mitigate.txt").exists()
    # the partial report is still written, the failed stage's notebook and HTML included
    assert (out / "01_map.html").is_file() and (out / "02_breakdown.html").is_file()
    assert "ZeroDivisionError" in (out / "02_breakdown.html").read_text()
    assert not (out / "03_mitigate.html").exists()
    page = (out / "index.html").read_text()
    assert "The run stopped early" in page and "02_breakdown.ipynb" in page
    assert json.loads((out / "summary.json").read_text())["ok"] is False


def test_unknown_parameter_is_refused_before_anything_runs(tmp_path, legacy):
    books = _write_notebooks(tmp_path / "nbs")
    messages = []
    summary = run_pipeline(legacy, tmp_path / "t", tmp_path / "out", parameters={"batchsize": 3},
                           notebooks=books, log=messages.append)
    assert summary["ok"] is False and "batchsize" in summary["error"] and "marker" in summary["error"]
    assert not (tmp_path / "out" / "notebooks").exists()


def test_missing_legacy_or_notebooks_is_a_clear_error(tmp_path, legacy):
    summary = run_pipeline(tmp_path / "nope", tmp_path / "t", tmp_path / "out", log=lambda m: None)
    assert summary["ok"] is False and "no such directory" in summary["error"]
    summary = run_pipeline(legacy, tmp_path / "t", tmp_path / "out", notebooks=tmp_path, log=lambda m: None)
    assert summary["ok"] is False and "not found" in summary["error"]
    summary = run_pipeline(legacy, tmp_path / "t", legacy / "reports", log=lambda m: None)
    assert summary["ok"] is False and "outside the legacy tree" in summary["error"]


def test_cli_parameters_are_read_as_literals():
    assert _literal("2") == 2 and _literal("true") is True and _literal("[0, 1]") == [0, 1]
    assert _literal("null") is None and _literal("legacy_app") == "legacy_app"
    assert _literal("a: b") == "a: b"  # mappings stay strings
    assert _literal(3) == 3


def test_kernel_runs_this_interpreter(monkeypatch, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    name = kernel_for_this_interpreter()
    assert _runs_this_interpreter(KernelSpecManager().get_kernel_spec(name).argv)
    # when no candidate fits, a kernelspec for this interpreter is written and found
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    name = kernel_for_this_interpreter(candidates=("no-such-kernel",))
    spec = KernelSpecManager().get_kernel_spec(name)
    assert spec.argv[0] == sys.executable


def test_interpreter_match_is_not_fooled_by_symlinks():
    assert _runs_this_interpreter(["python", "-m", "ipykernel_launcher"])
    assert _runs_this_interpreter([sys.executable])
    assert not _runs_this_interpreter(["/usr/bin/python3.11"]) or Path(sys.executable).parent == Path("/usr/bin")
    assert not _runs_this_interpreter([])


def test_run_paths_cannot_be_overridden_by_parameters(tmp_path, legacy):
    books = _write_notebooks(tmp_path / "nbs")
    summary = run_pipeline(legacy, tmp_path / "t", tmp_path / "out", parameters={"out": "/elsewhere"},
                           notebooks=books, log=lambda m: None)
    assert summary["ok"] is False and "set by the run itself" in summary["error"]


def test_cli_run_exits_2_when_the_pipeline_cannot_start(tmp_path, legacy, capsys):
    from audit.cli import main

    assert main(["run", "--legacy", str(legacy), "--reports", str(tmp_path / "out"), "-p", "no_such=1"]) == 2
    assert "no_such" in capsys.readouterr().err
