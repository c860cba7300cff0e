"""The semgrep adapter and the workbench's semgrep rules: recorded JSON, rule metadata, real runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from audit.adapters import ToolError, semgrep
from audit.model import Category, Severity

from .recordings import SAMPLE, annotations, recorded

RULE_FILES = sorted(semgrep.RULES_DIR.rglob("*.yml"))


def located(findings):
    return {(f.rule_id, f.file, f.line) for f in findings}


def test_parse_recorded_report() -> None:
    findings = semgrep.parse(recorded("semgrep_sample.json"), SAMPLE)
    by_id = {f.rule_id: f for f in findings}
    ssrf = by_id["wb-py-ssrf-request-url"]
    assert ssrf.category is Category.SSRF
    assert ssrf.file == "app.py" and ssrf.snippet == "return requests.get(url, timeout=5).text"
    assert ssrf.source == ("semgrep",)
    assert ssrf.severity is Severity.HIGH and ssrf.cwe == 918
    assert ssrf.fixed_by == "guard_outbound_urls"
    assert by_id["wb-js-console-log"].category is Category.DEBUG_LOGGING
    assert by_id["wb-js-console-log"].severity is Severity.LOW
    assert by_id["wb-js-error-text-in-response"].file == "web/server.js"


def test_recorded_report_matches_annotations() -> None:
    want, unwanted = annotations(SAMPLE)
    found = located(semgrep.parse(recorded("semgrep_sample.json"), SAMPLE))
    assert want <= found, want - found
    assert not (unwanted & found)


def test_foreign_rules_map_to_other() -> None:
    raw = {"results": [{"check_id": "python.lang.security.audit.eval", "path": "app.py",
                        "start": {"line": 3}, "end": {"line": 3},
                        "extra": {"severity": "WARNING", "message": "eval", "metadata": {"category": "security",
                                                                                          "cwe": ["CWE-95: Eval"]}}},
                       {"check_id": "broken"}]}
    [finding] = semgrep.parse(raw, SAMPLE)
    assert finding.category is Category.OTHER
    assert finding.rule_id == "python.lang.security.audit.eval"
    assert finding.cwe == 95


def test_rule_id_drops_the_config_folder_prefix() -> None:
    assert semgrep.rule_id("home.x.audit.semgrep_rules.python.wb-py-debug-run") == "wb-py-debug-run"
    assert semgrep.rule_id("wb-py-debug-run") == "wb-py-debug-run"


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_every_rule_names_a_contract_category(path: Path) -> None:
    categories = {c.value for c in Category} - {"other"}
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["rules"]
    for rule in doc["rules"]:
        assert rule["id"].startswith(("wb-py-", "wb-js-")), rule["id"]
        assert rule["metadata"]["category"] in categories, rule["id"]
        assert rule["message"].strip() and rule["severity"] in ("ERROR", "WARNING", "INFO")
        assert "cwe" in rule["metadata"], rule["id"]


def test_rule_ids_are_unique() -> None:
    ids = [r["id"] for p in RULE_FILES for r in yaml.safe_load(p.read_text())["rules"]]
    assert len(ids) == len(set(ids))


def test_environment_is_offline_and_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/nonexistent-home")
    env = semgrep._environment(str(tmp_path))
    assert env["SEMGREP_SEND_METRICS"] == "off" and env["SEMGREP_ENABLE_VERSION_CHECK"] == "0"
    assert env["HOME"] == str(tmp_path)
    assert Path(env["SEMGREP_SETTINGS_FILE"]).parent == tmp_path


def test_missing_semgrep_is_a_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semgrep, "find_executable", lambda name: None)
    assert not semgrep.available()
    with pytest.raises(ToolError, match="not installed"):
        semgrep.run(SAMPLE)


def test_failing_semgrep_is_a_tool_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "semgrep"
    fake.write_text("#!/bin/sh\necho 'fatal: cannot read rules' >&2\nexit 7\n")
    fake.chmod(0o755)
    monkeypatch.setattr(semgrep, "find_executable", lambda name: str(fake))
    with pytest.raises(ToolError, match="exit 7"):
        semgrep.run(SAMPLE)


@pytest.mark.slow
def test_real_run_flags_every_annotated_line() -> None:
    """Runs semgrep (offline) with our rules over the annotated sample: the rules' own test."""
    assert semgrep.available()
    raw = semgrep.run(SAMPLE, jobs=2, timeout=300)
    assert not [e for e in raw["errors"] if e.get("level") == "error"], raw["errors"]
    found = located(semgrep.parse(raw, SAMPLE))
    want, unwanted = annotations(SAMPLE)
    assert want <= found, want - found
    assert not (unwanted & found)
    # Nothing beyond the annotations: every semgrep finding on the sample is expected.
    assert found == want


def test_python_front_end_is_the_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A semgrep whose OCaml front end (--experimental) fails is run again without it."""
    fake = tmp_path / "semgrep"
    fake.write_text(
        "#!/bin/sh\n"
        "for a in \"$@\"; do [ \"$a\" = --experimental ] && { echo 'unknown flag' >&2; exit 2; }; done\n"
        "echo '{\"results\": [], \"errors\": [], \"version\": \"0.1\"}'\n")
    fake.chmod(0o755)
    monkeypatch.setattr(semgrep, "find_executable", lambda name: str(fake))
    raw = semgrep.run(SAMPLE, files=[sorted(p.name for p in SAMPLE.glob("*.py"))[0]])
    assert raw["engine"] == "pysemgrep" and raw["results"] == []


@pytest.mark.slow
def test_both_front_ends_find_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast OCaml front end (the default) and the Python one report the same findings."""
    found = {}
    for engine in ("osemgrep", "pysemgrep"):
        monkeypatch.setenv("WORKBENCH_SEMGREP_ENGINE", engine)
        raw = semgrep.run(SAMPLE, jobs=2, timeout=300)
        assert raw["engine"] == engine
        found[engine] = located(semgrep.parse(raw, SAMPLE))
    assert found["osemgrep"] == found["pysemgrep"] and found["osemgrep"]
