"""``OUT/index.html``: the one page a stakeholder reads, built from the files the stages wrote.

It reads what is there (the legacy map, the plan, what was migrated, the target's map,
the verification) and says plainly what is missing, so that a partial run still gets
a summary. The page is rendered by Jinja2 with autoescaping on (file names, messages
and snippets from the audited code stay text), charts are inline PNG ``data:`` URIs, the
style sheet is inline, and there is no script at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from . import charts, tables, verification
from .export import ASSETS
from .layout import RunLayout

__all__ = ["build_index", "collect", "load_result", "save_verification"]


def load_result(folder: str | Path) -> Any | None:
    """The map result written in ``folder``, or None when the stage did not write one."""
    folder = Path(folder)
    if not (folder / "routes.csv").is_file() or not (folder / "findings.csv").is_file():
        return None
    from ..mapping import load_map

    return load_map(folder)


def _read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _problem_text(problem: Any) -> str:
    if isinstance(problem, dict):
        where = str(problem.get("file", "")) + (f":{problem['line']}" if problem.get("line") else "")
        parts = [problem.get("severity", ""), problem.get("kind", ""), where, problem.get("detail", "")]
        return " ".join(str(p) for p in parts if p) or json.dumps(problem, sort_keys=True, default=str)
    return str(problem)


def save_verification(result: Any, path: str | Path) -> Path | None:
    """Record a verification result (``audit.verify``) as JSON for the summary page:
    whether it passed, verdicts per route, the failing routes and the integrity problems
    (None, for a verification that was not run, writes nothing)."""
    if result is None:
        return None
    frame = getattr(result, "routes", None)
    by_verdict: dict[str, int] = {}
    failing: list[str] = []
    if isinstance(frame, pd.DataFrame) and not frame.empty:
        column = next((c for c in ("verdict", "status", "result", "outcome") if c in frame.columns), None)
        if column:
            by_verdict = {str(k): int(v) for k, v in frame[column].value_counts().items()}
            bad = frame[frame[column].astype(str).isin(["fail", "failed", "error"])]
            failing = [" ".join(str(row.get(k, "")) for k in ("method", "path", "reason")).strip()
                       for row in bad.head(50).to_dict("records")]
    integrity = getattr(result, "integrity", None)
    if hasattr(integrity, "rows"):
        problems = [_problem_text(p) for p in integrity.rows()]
    elif isinstance(integrity, pd.DataFrame):
        problems = [_problem_text(p) for p in integrity.to_dict("records")]
    elif isinstance(integrity, (list, tuple)):
        problems = [_problem_text(p) for p in integrity]
    else:
        problems = [] if integrity is None else [str(integrity)]
    data = {
        "ok": bool(getattr(result, "ok", False)),
        "routes": int(len(frame)) if isinstance(frame, pd.DataFrame) else None,
        "by_status": by_verdict,
        "failing": failing,
        "problems": problems,
        "error": getattr(result, "error", None),
        "description": result.describe() if hasattr(result, "describe") else str(result),
    }
    if hasattr(result, "check_counts") and not getattr(result, "error", None):
        data["checks"] = result.check_counts()  # per check: routes passing, failing, to look at
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def collect(layout: RunLayout, target: str | Path | None = None, *, before: Any = None,
            after: Any = None) -> dict[str, Any]:
    """Everything the summary page shows, read from the run's files (missing parts are None).
    ``before``/``after`` are the legacy and target map results when the caller has them."""
    before = before if before is not None else load_result(layout.map_dir)
    after = after if after is not None else load_result(layout.target_map_dir)
    data: dict[str, Any] = {"has_before": before is not None, "has_after": after is not None}

    if before is not None:
        compared = tables.compare_categories(before, after) if after is not None else \
            tables.by_category(before).rename(columns={"total": "before"}).assign(after=None)
        data["headline"] = [{"category": r["category"], "label": r["what it means"], "before": int(r["before"]),
                             "after": None if after is None else int(r["after"])}
                            for r in compared.to_dict("records")]
        data["findings_before"] = int(sum(h["before"] for h in data["headline"]))
        data["findings_after"] = None if after is None else int(sum(h["after"] for h in data["headline"]))
        cov = tables.compare_coverage(before, after if after is not None else before)
        data["coverage"] = [{"measure": r["measure"], "label": r["what it means"],
                             "before": int(r["before"]), "before_of": int(r["before_of"]),
                             "after": int(r["after"]) if after is not None else None,
                             "after_of": int(r["after_of"]) if after is not None else None}
                            for r in cov.to_dict("records")]
        data["routes"] = len(before.route_list)
        if after is not None:
            data["charts"] = [charts.before_after(compared).data_uri(), charts.coverage_bars(cov).data_uri()]
        else:
            data["charts"] = [charts.horizontal_bars(list(compared["what it means"]), list(compared["before"]),
                                                     "Findings in the legacy app").data_uri()]
    plan_data = _read_json(layout.plan_json)
    if plan_data is not None:
        from ..plan import load_plan

        frame = load_plan(layout.plan_json).to_frame()
        data["plan"] = frame.to_dict("records")
        data["charts"] = data.get("charts", []) + [charts.plan_bars(frame).data_uri()]
    data["mitigation"] = _read_json(layout.mitigate_json)
    migration_json = Path(target) / "MIGRATION.json" if target else None
    report = _read_json(migration_json) if migration_json else None
    data["human_notes"] = tables.migration_notes(report).to_dict("records") if report is not None else None
    data["remaining"] = tables.remaining(after).to_dict("records") if after is not None else None
    data["verification"] = _read_json(layout.verify_json)
    legacy_verification = _read_json(layout.legacy_verify_json)
    has_checks = any(v and v.get("checks") for v in (data["verification"], legacy_verification))
    data["verification_checks"] = verification.check_rows(legacy_verification, data["verification"]) \
        if has_checks else None
    return data


def build_index(layout: RunLayout, *, stages: list[dict[str, Any]], ok: bool, error: str | None = None,
                legacy: str | Path | None = None, target: str | Path | None = None,
                before: Any = None, after: Any = None) -> dict[str, Any]:
    """Write ``index.html`` for the run in ``layout.out``; return the figures it shows
    (the headline and coverage numbers that go into ``summary.json``)."""
    import jinja2

    data = collect(layout, target, before=before, after=after)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ASSETS)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    page = env.get_template("index.html.j2").render(
        data=data, stages=stages, ok=ok, error=error,
        legacy=Path(legacy).name if legacy else "", target=Path(target).name if target else "",
        css=(ASSETS / "report.css").read_text(encoding="utf-8"),
    )
    layout.out.mkdir(parents=True, exist_ok=True)
    layout.index_html.write_text(page, encoding="utf-8")
    keep = ("headline", "coverage", "findings_before", "findings_after", "routes", "verification")
    figures = {k: data.get(k) for k in keep}
    figures["needs_a_human"] = None if data.get("remaining") is None else len(data["remaining"])
    figures["batches"] = None if data.get("plan") is None else len(data["plan"])
    return figures
