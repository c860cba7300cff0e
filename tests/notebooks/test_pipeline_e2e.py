"""The four notebooks through papermill, end to end: on the bundled app with the defaults,
and on a fixture app written in another style with every kind of parameter changed."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from audit.pipeline import run_pipeline
from audit.report.export import external_resources

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STEMS = ["01_map", "02_breakdown", "03_mitigate", "04_deploy"]


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _outputs(notebook: Path) -> list[dict]:
    nb = nbformat.read(str(notebook), as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _injected(notebook: Path) -> str:
    nb = nbformat.read(str(notebook), as_version=4)
    return next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))


def test_bundled_app_with_the_defaults(tmp_path):
    legacy = ROOT / "legacy_app"
    before = _tree_digest(legacy)
    out = tmp_path / "reports"
    messages: list[str] = []
    summary = run_pipeline(legacy, out / "target_app", out, log=messages.append)

    assert summary["ok"], summary["error"]
    assert [s["stage"] for s in summary["stages"] if s["ok"]] == STEMS
    assert _tree_digest(legacy) == before  # the legacy tree is read only
    assert sum(1 for m in messages if m.strip().split(" ")[0] in STEMS) == 4  # time per stage printed

    # every stage handed its results on through files
    assert {"routes.csv", "findings.csv", "findings.sarif", "summary.json"} <= {p.name for p in (out / "map").iterdir()}
    plan = json.loads((out / "plan.json").read_text())
    assert plan["batches"][0]["name"] == "foundation" and plan["batch_size"] == 4
    assert (out / "target_app" / "MIGRATION.json").is_file() and (out / "mitigate.json").is_file()
    assert (out / "target_map" / "summary.json").is_file() and (out / "verify" / "verify.json").is_file()

    # engineers: executed notebooks with outputs, charts included
    for stem in STEMS:
        assert _outputs(out / "notebooks" / f"{stem}.ipynb")
    assert any("image/png" in o.get("data", {}) for o in _outputs(out / "notebooks" / "01_map.ipynb"))

    # stakeholders: stage reports without code, offline, and the summary page
    for stem in STEMS:
        html = (out / f"{stem}.html").read_text()
        assert "resolve(root" not in html and "import audit" not in html
        assert external_resources(html) == []
    index = (out / "index.html").read_text()
    assert external_resources(index) == [] and "<script" not in index
    by_category = json.loads((out / "map" / "summary.json").read_text())["by_category"]
    assert {h["category"]: h["before"] for h in summary["headline"] if h["before"]} == by_category
    saved = json.loads((out / "summary.json").read_text())
    assert saved["headline"] == summary["headline"] and saved["ok"] is True
    missing_auth = next(h for h in summary["headline"] if h["category"] == "missing-auth")
    assert f'{missing_auth["label"]}' in index


def test_fixture_app_with_parameters_changed(tmp_path):
    legacy = tmp_path / "flask_login_app"
    shutil.copytree(ROOT / "tests" / "fixtures" / "flask_login_app", legacy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    out = tmp_path / "out"
    target = tmp_path / "elsewhere" / "migrated"
    params = {"batch_size": "1", "by_batch": "true", "min_severity": "medium", "bandit": "false",
              "semgrep": "false"}  # as the CLI passes them: strings
    summary = run_pipeline(legacy, target, out, parameters=params, log=lambda m: None)
    assert summary["ok"], summary["error"]

    # the values reached the notebooks as typed parameters...
    assert "batch_size = 1\n" in _injected(out / "notebooks" / "02_breakdown.ipynb")
    assert "by_batch = True\n" in _injected(out / "notebooks" / "03_mitigate.ipynb")
    assert f'legacy = "{legacy}"' in _injected(out / "notebooks" / "01_map.ipynb")
    # ...and changed what they did
    tools = json.loads((out / "map" / "summary.json").read_text())["tools"]
    assert tools.get("bandit", {}).get("status") != "ok" and tools.get("semgrep", {}).get("status") != "ok"
    plan = json.loads((out / "plan.json").read_text())
    assert plan["batch_size"] == 1 and plan["min_severity"] == "medium"
    routes = pd.read_csv(out / "map" / "routes.csv")
    route_batches = [b for b in plan["batches"] if b["name"] != "foundation"]
    assert len(route_batches) == routes["file"].nunique()  # one route module per batch
    findings = pd.read_csv(out / "map" / "findings.csv")
    findings = findings[(findings["severity"] != "low") & (findings["suppressed"].astype(str).str.lower() != "true")]
    planned = sum(sum(b["findings"].values()) + sum(b["manual"].values()) for b in plan["batches"])
    assert planned == len(findings)  # low findings left out of the plan
    mitigation = json.loads((out / "mitigate.json").read_text())
    assert mitigation["by_batch"] is True
    assert [b["batch"] for b in mitigation["batches"]] == [b["id"] for b in plan["batches"]]
    assert all(b["seconds"] is not None for b in mitigation["batches"])  # one migration per batch
    assert (target / "MIGRATION.json").is_file()  # the target went where the parameter said
    assert (out / "index.html").is_file()
