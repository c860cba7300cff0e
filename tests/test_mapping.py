"""mapping.py end to end on small trees: outputs, SARIF schema, merging, suppression,
gate/baseline, cache, tool failures, rule errors, config, read-only SRC.

The rules used here are test doubles (patched into the map) so these tests exercise the
map's own machinery whatever rules exist at the moment; the real rules are tested in
tests/rules and by tests/test_map_quality.py.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
import types
from pathlib import Path

import jsonschema
import pytest

import audit
from audit import mapping
from audit.model import Category, Finding, Severity
from audit.rules import Rule

ROOT = Path(__file__).resolve().parents[1]


def sarif_schema() -> dict:
    # The published SARIF 2.1.0 schema: the team's copy in shared/data when it sits next to the
    # repository (as in CI), else the identical copy vendored in tests/data for fresh clones.
    for base in (ROOT.parent, *ROOT.parents):
        path = base / "shared" / "data" / "sarif-schema-2.1.0.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


class PrintRule(Rule):
    """Test double: flags every print() call."""

    id = "WB901"
    name = "test-print"
    category = Category.DEBUG_LOGGING
    severity = Severity.LOW

    def check(self, ctx):
        for node in ast.walk(ctx.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                yield self.finding(ctx, node.lineno, "print() call")


class RouteRule(Rule):
    """Test double: one high finding per unauthenticated route."""

    id = "WB902"
    name = "test-route"
    category = Category.MISSING_AUTH
    severity = Severity.HIGH

    def check(self, ctx):
        for route in ctx.routes:
            if not route.auth:
                yield self.finding(ctx, route.line, f"{route.key} has no auth")


class BrokenRule(Rule):
    id = "WB903"
    name = "test-broken"
    category = Category.OTHER
    severity = Severity.LOW

    def check(self, ctx):
        raise ValueError("boom")


@pytest.fixture
def rules(monkeypatch):
    def use(*classes):
        monkeypatch.setattr(mapping, "_load_rules", lambda: (list(classes), []))
        monkeypatch.setattr(mapping, "_RULES", None)
    use(PrintRule, RouteRule)
    yield use
    mapping._RULES = None


APP = '''from flask import Flask, request
import subprocess

app = Flask(__name__)


@app.route("/api/items", methods=["GET", "POST"])
def items():
    print("debug", request.args)
    return {}


@app.get("/api/ping")
def ping():
    print("ignored")  # workbench: ignore[debug-logging]
    print("kept")  # workbench: ignore[WB999]
    return {}
'''


@pytest.fixture
def src(tmp_path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    (root / "other.py").write_text("def helper():\n    print('x')\n", encoding="utf-8")
    return root


def fake_tool(monkeypatch, name: str, findings=None, error: str | None = None):
    module = types.ModuleType(f"audit.adapters.{name}")
    module.available = lambda: True
    module.version = lambda: "9.9"

    def run(src, files=None, jobs=1, timeout=600):
        if error:
            raise RuntimeError(error)
        return {"files": files}

    module.run = run
    module.parse = lambda raw, src: list(findings or [])
    monkeypatch.setitem(sys.modules, f"audit.adapters.{name}", module)


def run(src, tmp_path, **kw):
    kw.setdefault("bandit", False)
    kw.setdefault("semgrep", False)
    kw.setdefault("cache", False)
    kw.setdefault("jobs", 1)
    kw.setdefault("progress", False)
    return audit.map(src, out=tmp_path / "out", **kw)


def test_outputs_columns_and_sarif_schema(src, tmp_path, rules, monkeypatch):
    bandit_finding = Finding(rule_id="B602", category=Category.INJECTION, severity=Severity.HIGH,
                             confidence=Severity.HIGH, file="app.py", line=9, message="subprocess", source=("bandit",))
    fake_tool(monkeypatch, "bandit", [bandit_finding])
    result = run(src, tmp_path, bandit=True)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "findings.csv", "findings.sarif", "routes.csv", "summary.json"]
    header = (out / "routes.csv").read_text().splitlines()[0].split(",")
    assert header[:11] == ["method", "path", "file", "line", "handler", "framework", "auth", "validated",
                           "rate_limited", "public", "categories"]
    assert (out / "findings.csv").read_text().splitlines()[0].split(",")[:11] == [
        "rule_id", "category", "severity", "confidence", "file", "line", "end_line", "route", "message", "source",
        "fingerprint"]
    log = json.loads((out / "findings.sarif").read_text())
    jsonschema.validate(log, sarif_schema())
    assert [r["tool"]["driver"]["name"] for r in log["runs"]] == ["workbench", "bandit"]
    first = log["runs"][0]["results"][0]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "app.py", "uriBaseId": "SRCROOT"}
    assert set(first["properties"]) >= {"category", "severity"}
    routed = [r for r in log["runs"][0]["results"] if r["ruleId"] == "WB901" and r["properties"].get("route")]
    assert routed[0]["properties"]["route"] == "GET /api/items"
    suppressed = [r for run_ in log["runs"] for r in run_["results"] if r.get("suppressions")]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["kind"] == "inSource"
    assert result.routes.columns.tolist()[:2] == ["method", "path"]
    bandit_info = result.summary["tools"]["bandit"]
    assert (bandit_info["status"], bandit_info["version"], bandit_info["findings"]) == ("ok", "9.9", 1)
    assert (bandit_info["files_run"], bandit_info["files_cached"]) == (2, 0)


def test_categories_routes_and_suppression(src, tmp_path, rules):
    result = run(src, tmp_path)
    by_line = {(f.file, f.line): f for f in result.finding_list}
    assert by_line[("app.py", 15)].suppressed  # ignore[debug-logging]
    assert not by_line[("app.py", 16)].suppressed  # ignore[WB999] names another rule
    assert by_line[("app.py", 9)].route == "GET /api/items"
    assert result.summary["suppressed"] == 1
    routes = {r.key: r for r in result.route_list}
    assert routes["GET /api/items"].categories == ("debug-logging", "missing-auth")
    assert routes["GET /api/ping"].categories == ("debug-logging", "missing-auth")  # line 16 still counts
    assert len({f.fingerprint for f in result.finding_list}) == len(result.finding_list)


def test_duplicates_from_several_tools_merge(src, tmp_path, rules, monkeypatch):
    dup = Finding(rule_id="python.print", category=Category.DEBUG_LOGGING, severity=Severity.MEDIUM,
                  confidence=Severity.LOW, file="app.py", line=9, message="print", source=("semgrep",))
    fake_tool(monkeypatch, "semgrep", [dup])
    result = run(src, tmp_path, semgrep=True)
    merged = [f for f in result.finding_list if (f.file, f.line) == ("app.py", 9)]
    assert len(merged) == 1
    (f,) = merged
    assert f.source == ("workbench", "semgrep")
    assert f.tool_ids == ("WB901", "python.print")
    assert f.severity is Severity.MEDIUM  # the highest of the merged findings
    assert f.rule_id == "WB901"


def test_failing_tool_and_broken_rule_are_reported_not_fatal(src, tmp_path, rules, monkeypatch):
    rules(PrintRule, BrokenRule)
    fake_tool(monkeypatch, "bandit", error="bandit exploded")
    result = run(src, tmp_path, bandit=True)
    assert result.summary["tools"]["bandit"]["status"] == "error"
    assert "bandit exploded" in result.summary["tools"]["bandit"]["detail"]
    assert result.summary["tools"]["semgrep"]["status"] == "skipped"
    errors = result.summary["rule_errors"]
    assert {e["rule"] for e in errors} == {"WB903"} and {e["file"] for e in errors} == {"app.py", "other.py"}
    assert any(f.rule_id == "WB901" for f in result.finding_list)  # the other rules still ran
    assert "bandit: error" in result.describe()


def test_gate_and_baseline(src, tmp_path, rules):
    result = run(src, tmp_path)
    high = sum(1 for f in result.finding_list if f.severity is Severity.HIGH and not f.suppressed)
    assert high == 2
    assert mapping.gate(result, "high") == 2
    assert mapping.gate(result, "low") == len(result.active_findings)
    baseline = tmp_path / "out" / "findings.sarif"
    assert mapping.gate(result, "low", baseline=baseline) == 0
    # a new finding after an unrelated edit: only it counts against the baseline
    app = src / "app.py"
    app.write_text("\n\n" + app.read_text().replace('return {}\n\n\n@app.get', 'print("new")\n    return {}\n\n\n@app.get', 1))
    again = audit.map(src, bandit=False, semgrep=False, cache=False, jobs=1, progress=False)
    assert mapping.gate(again, "low", baseline=baseline) == 1
    with pytest.raises(mapping.MapInputError):
        mapping.gate(again, "low", baseline=tmp_path / "missing.sarif")


def test_config_disables_rules(src, tmp_path, rules):
    config = tmp_path / "wb.toml"
    config.write_text('[rules]\ndisable = ["debug-logging"]\n[routes]\npublic = ["/api/items"]\n')
    result = run(src, tmp_path, config=config)
    assert {f.rule_id for f in result.finding_list} == {"WB902"}
    assert {r.key: r.public for r in result.route_list}["GET /api/items"] is True


def test_cache_reanalyses_only_the_changed_file(src, tmp_path):
    # the real rules, in worker processes: the cache must give exactly what a fresh map gives
    for i in range(5):
        (src / f"mod{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    cache_dir = tmp_path / "cache"
    first = mapping.run_map(src, bandit=False, semgrep=False, jobs=2, progress=False, cache_dir=cache_dir)
    assert first.summary["cache"]["facts_analysed"] == 7
    assert first.summary["cache"]["rules_analysed"] == 7
    (src / "mod3.py").write_text("def f3():\n    print('changed')\n    return 3\n")
    second = mapping.run_map(src, bandit=False, semgrep=False, jobs=2, progress=False, cache_dir=cache_dir)
    assert second.summary["cache"]["facts_analysed"] == 1
    assert second.summary["cache"]["rules_analysed"] == 1
    fresh = mapping.run_map(src, bandit=False, semgrep=False, jobs=2, progress=False, cache=False)
    assert [f.to_row() for f in second.finding_list] == [f.to_row() for f in fresh.finding_list]
    assert [r.to_row() for r in second.route_list] == [r.to_row() for r in fresh.route_list]


def test_src_is_never_written(src, tmp_path, rules):
    def digest(root: Path) -> dict:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    before = digest(src)
    audit.map(src, bandit=False, semgrep=False, jobs=2, progress=False)  # default cache location
    mapping.run_map(src, out=src / "map-out", bandit=False, semgrep=False, jobs=1, progress=False)
    after = digest(src)
    assert {k: v for k, v in after.items() if not k.startswith("map-out")} == before
    assert not any(k.startswith("map-out/.cache") for k in after)  # the cache goes elsewhere


def test_load_map_round_trip(src, tmp_path, rules):
    result = run(src, tmp_path)
    loaded = mapping.load_map(tmp_path / "out")
    assert [r.to_row() for r in loaded.route_list] == [r.to_row() for r in result.route_list]
    assert [f.to_row() for f in loaded.finding_list] == [f.to_row() for f in result.finding_list]
    assert loaded.summary == json.loads((tmp_path / "out" / "summary.json").read_text())
    assert loaded.findings.shape == result.findings.shape


def test_formats_choose_outputs(src, tmp_path, rules):
    run(src, tmp_path, formats="sarif")
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == ["findings.sarif"]


def test_unusable_cache_location_does_not_stop_the_map(src, tmp_path, rules):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    result = mapping.run_map(src, bandit=False, semgrep=False, jobs=1, progress=False, cache_dir=blocker / "cache")
    assert result.route_list and result.summary["cache"]["errors"][0].startswith("cache disabled")


def test_rules_see_project_wide_facts_from_every_module(tmp_path, rules):
    seen = {}

    class Capture(Rule):
        id = "WB904"
        name = "test-capture"
        category = Category.OTHER
        severity = Severity.LOW

        def check(self, ctx):
            seen[ctx.file] = ctx.project
            return ()

    rules(Capture)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(
        "from flask import Flask, request\nfrom fetcher import fetch\napp = Flask(__name__)\n\n"
        "@app.post('/api/preview')\ndef preview():\n    return fetch(request.json['url'])\n")
    (root / "fetcher.py").write_text("import requests\n\ndef fetch(url):\n    return requests.get(url).text\n")
    mapping.run_map(root, bandit=False, semgrep=False, cache=False, jobs=1, progress=False)
    facts = seen["fetcher.py"]
    assert facts.modules == frozenset({"app", "fetcher"})
    assert any(p.startswith("fetcher.fetch") for p in facts.request_fed_params)  # fed by app.py's handler


def test_tool_results_are_cached_per_file(src, tmp_path, rules, monkeypatch):
    runs = []
    dup = Finding(rule_id="B101", category=Category.OTHER, severity=Severity.LOW, confidence=Severity.LOW,
                  file="other.py", line=2, message="x", source=("bandit",))
    fake_tool(monkeypatch, "bandit", [dup])
    module = sys.modules["audit.adapters.bandit"]
    real_run = module.run
    module.run = lambda src_, files=None, jobs=1, timeout=600: runs.append(list(files)) or real_run(src_, files)
    cache_dir = tmp_path / "cache"
    first = mapping.run_map(src, bandit=True, semgrep=False, jobs=1, progress=False, cache_dir=cache_dir)
    (src / "app.py").write_text((src / "app.py").read_text() + "\n# touched\n")
    second = mapping.run_map(src, bandit=True, semgrep=False, jobs=1, progress=False, cache_dir=cache_dir)
    assert runs == [["app.py", "other.py"], ["app.py"]]  # only the changed file goes to the tool again
    assert second.summary["tools"]["bandit"]["files_cached"] == 1
    assert [f.rule_id for f in first.finding_list if f.file == "other.py" and f.rule_id == "B101"] == \
        [f.rule_id for f in second.finding_list if f.file == "other.py" and f.rule_id == "B101"] == ["B101"]


def test_inventory_alone_without_rules_and_its_own_cache_entries(tmp_path):
    """``rules=False`` (what the migration asks for): the same routes, none of our findings; its
    facts are cached apart, so a full map with the same cache still runs every rule."""
    cache = tmp_path / "cache"
    full = mapping.run_map(ROOT / "legacy_app", jobs=1, bandit=False, semgrep=False, cache=False, progress=False,
                           formats="none")
    routes_only = mapping.run_map(ROOT / "legacy_app", jobs=1, bandit=False, semgrep=False, cache_dir=cache,
                                  progress=False, formats="none", rules=False)
    def rows(result):  # (a route's `categories` are those of its findings: none without rules)
        return [{k: v for k, v in r.to_row().items() if k != "categories"} for r in result.route_list]

    assert rows(routes_only) == rows(full)
    assert full.finding_list and not routes_only.finding_list
    again = mapping.run_map(ROOT / "legacy_app", jobs=1, bandit=False, semgrep=False, cache_dir=cache,
                            progress=False, formats="none")
    assert {(f.rule_id, f.file, f.line) for f in again.finding_list} == {
        (f.rule_id, f.file, f.line) for f in full.finding_list}


def test_tools_that_take_slots_get_the_maps_cores(src, tmp_path, rules, monkeypatch):
    from audit.executor import CoreSlots

    seen = {}
    module = types.ModuleType("audit.adapters.bandit")
    module.available = lambda: True
    module.version = lambda: "9.9"

    def scheduled_run(src_, files=None, jobs=1, timeout=600, slots=None):
        seen["slots"] = slots
        with slots.hold():  # (as the real adapters do around each process)
            seen["held"] = True
        return {}

    module.run = scheduled_run
    module.parse = lambda raw, src_: []
    monkeypatch.setitem(sys.modules, "audit.adapters.bandit", module)
    fake_tool(monkeypatch, "semgrep")  # an adapter without the parameter still runs, unscheduled
    result = run(src, tmp_path, bandit=True, semgrep=True, jobs=2)
    assert isinstance(seen["slots"], CoreSlots) and seen["held"]
    assert result.summary["tools"]["bandit"]["status"] == "ok"
    assert result.summary["tools"]["semgrep"]["status"] == "ok"
