"""The Deploy report's verification tables and charts, from real verify results built in memory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit.integrity import IntegrityReport, Problem
from audit.report import verification as checks
from audit.verify import VERIFIED_COLUMNS, VerifyResult, compare


def _answer(status, **extra):
    base = {"status": status, "envelope": status >= 400, "csp": True, "hsts": True, "nosniff": True,
            "response_time": True, "leak": False, "code": None}
    return base | extra


def _result(probed, mapped) -> VerifyResult:
    frame = pd.DataFrame(compare(mapped, probed), columns=VERIFIED_COLUMNS)
    return VerifyResult(Path("app"), "app:create_app", "flask", frame, IntegrityReport([]))


MAPPED = [{"method": "GET", "path": "/notes", "auth": True, "public": False},
          {"method": "POST", "path": "/login", "auth": False, "public": True, "sensitive": True}]


def _target():
    return _result([
        {"method": "GET", "path": "/notes", "none": _answer(401), "valid": _answer(200), "forged": _answer(401),
         "expired": _answer(401), "valid_request": _answer(200, sent="GET /notes"),
         "latency": {"request": "valid request", "calls": 5, "p50": 3.0, "p95": 4.0}},
        {"method": "POST", "path": "/login", "none": _answer(400, code="validation_error"),
         "valid": _answer(400), "forged": _answer(400), "expired": _answer(400),
         "valid_request": _answer(401, sent="POST /login"), "valid_request_credentials": True, "reads": "json",
         "latency": {"request": "valid token, empty body", "calls": 5, "p50": 40.0, "p95": 140.0},
         "rate_limit": _answer(429, calls=11, retry_after="60")},
    ], MAPPED)


def _legacy():
    bare = {"csp": False, "hsts": False, "nosniff": False, "response_time": False}
    return _result([
        {"method": "GET", "path": "/notes", "none": _answer(200, **bare), "valid": _answer(200, **bare),
         "forged": _answer(200, **bare), "expired": _answer(200, **bare)},
        {"method": "POST", "path": "/login", "none": _answer(401, **bare), "valid": _answer(401, **bare),
         "forged": _answer(401, **bare), "rate_limit": _answer(401, calls=120, **bare)},
    ], MAPPED)


def test_side_by_side_counts_each_check_in_words():
    frame = checks.checks_side_by_side(_legacy(), _target())
    assert list(frame["check"]) == list(checks.CHECKS.values())
    row = frame.set_index("check").loc[checks.CHECKS["auth"]]
    assert (row["legacy app"], row["migrated app"], row["legacy failing"]) == ("0 of 1 pass", "1 of 1 pass", 1)
    limits = frame.set_index("check").loc[checks.CHECKS["rate_limit"]]
    assert (limits["legacy app"], limits["migrated app"]) == ("0 of 1 pass", "1 of 1 pass")
    assert checks.checks_side_by_side(None, _target())["legacy app"].eq("not run").all()


def test_failing_routes_and_warnings_say_why():
    target = _target()
    failing = checks.failing_routes(target)
    assert list(failing["route"]) == ["POST /login"] and "p95 140 ms" in failing["why it fails"][0]
    warnings = checks.warnings_table(target)
    assert list(warnings["route"]) == ["POST /login"] and "credential" in warnings["to look at"][0]


def test_route_answers_and_charts_render():
    answers = checks.route_answers(_target())
    assert list(answers.columns)[:3] == ["method", "path", "no token"] and len(answers) == 2
    assert checks.checks_chart(_legacy(), _target()).png().startswith(b"\x89PNG")
    assert checks.latency_chart(_target()).png().startswith(b"\x89PNG")
    assert checks.latency_chart(None).png().startswith(b"\x89PNG")  # an empty chart, not an error


def test_integrity_problems_come_with_what_to_do():
    report = IntegrityReport([Problem("broken-import", "services/x.py", "from .y import z: no module .y", line=4),
                              Problem("empty-module", "cache.py", "the module has no code", severity="warning")])
    frame = checks.integrity_table(report)
    assert list(frame["severity"]) == ["blocker", "warning"] and frame["where"][0] == "services/x.py:4"
    assert "developer" in frame["what to do"][0]
    assert checks.integrity_table(IntegrityReport([])).empty


def test_summary_page_shows_the_checks_side_by_side(tmp_path):
    from audit.report.build import build_index, save_verification
    from audit.report.layout import RunLayout

    layout = RunLayout(tmp_path)
    save_verification(_target(), layout.verify_json)
    save_verification(_legacy(), layout.legacy_verify_json)
    assert save_verification(None, tmp_path / "nothing.json") is None and not (tmp_path / "nothing.json").exists()
    build_index(layout, stages=[], ok=True)
    page = layout.index_html.read_text()
    table = page[page.index('id="verification-checks"'):page.index("</table>", page.index('id="verification-checks"'))]
    auth_row = table[table.index(checks.CHECKS["auth"]):].split("</tr>")[0]
    assert "<td>0 of 1 pass</td><td>1 of 1 pass</td>" in auth_row
