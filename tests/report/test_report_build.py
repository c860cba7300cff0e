"""audit.report.build: the summary page from a run's files (partial runs included)."""

from __future__ import annotations

import json
import re

from audit.plan import make_plan
from audit.report.build import build_index, save_verification
from audit.report.export import external_resources
from audit.report.layout import RunLayout

STAGES = [{"stage": "01_map", "title": "Map", "ok": True, "seconds": 1.0, "html": "01_map.html",
           "notebook": "notebooks/01_map.ipynb", "error": None}]


def _headline(page: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(r'<li data-category="([^"]+)">.*?class="before">([^<]*)<.*?class="after[^"]*">([^<]*)<',
                      page, flags=re.S)
    return {cat: (before, after) for cat, before, after in rows}


def test_full_summary(tmp_path, before_map, after_map):
    layout = RunLayout(tmp_path)
    make_plan(before_map, batch_size=2).to_json(layout.plan_json)

    class Verified:
        ok = True
        routes = __import__("pandas").DataFrame({"status": ["pass", "pass", "fail"]})
        integrity = ["<script>alert(3)</script> missing file"]

        def describe(self):
            return "3 routes probed"

    save_verification(Verified(), layout.verify_json)
    figures = build_index(layout, stages=STAGES, ok=True, legacy="legacy_app", target=tmp_path / "target_app",
                          before=before_map, after=after_map)
    page = layout.index_html.read_text()

    assert figures["findings_before"] == 7 and figures["findings_after"] == 1
    assert _headline(page)["missing-auth"] == ("3", "0")
    assert _headline(page)["debug-logging"] == ("1", "1")
    assert {h["category"]: (h["before"], h["after"]) for h in figures["headline"]}["missing-auth"] == (3, 0)
    # the plain words of the contract category
    assert "Routes anyone can call without logging in" in page
    cov = {c["measure"]: c for c in figures["coverage"]}
    assert (cov["authenticated"]["before"], cov["authenticated"]["after"], cov["authenticated"]["of"]
            if "of" in cov["authenticated"] else cov["authenticated"]["after_of"]) == (0, 3, 3)
    assert figures["batches"] == 3 and figures["needs_a_human"] == 1
    assert figures["verification"]["ok"] is True and figures["verification"]["by_status"] == {"pass": 2, "fail": 1}
    assert page.count("data:image/png;base64,") == 3  # before/after, coverage, plan
    json.dumps(figures)  # summary.json material must be JSON


def test_summary_escapes_audited_strings(tmp_path, before_map, after_map):
    layout = RunLayout(tmp_path)
    build_index(layout, stages=STAGES, ok=False, error="03_mitigate.ipynb: cell 3 failed: <b>boom</b>",
                before=before_map, after=after_map)
    page = layout.index_html.read_text()
    assert "<script" not in page.lower()  # neither ours nor injected
    assert "<img src=x" not in page and "<b>boom</b>" not in page
    assert "print of &lt;img src=x onerror=" in page
    assert external_resources(page) == []


def test_partial_run_without_target(tmp_path, before_map):
    layout = RunLayout(tmp_path)
    figures = build_index(layout, stages=STAGES, ok=False, error="04_deploy failed", before=before_map)
    page = layout.index_html.read_text()
    assert figures["findings_after"] is None and figures["needs_a_human"] is None
    assert "not measured" in page and "The migrated app was not verified." in page
    assert _headline(page)["missing-auth"] == ("3", "not measured")


def test_nothing_at_all(tmp_path):
    layout = RunLayout(tmp_path)
    figures = build_index(layout, stages=[], ok=False, error="no notebooks")
    assert figures["headline"] is None
    assert "The legacy app was not mapped." in layout.index_html.read_text()
