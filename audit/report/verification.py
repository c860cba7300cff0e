"""The Deploy report's tables and charts: ``verify``'s checks for the legacy and the
migrated app side by side, the routes that fail or need a look, latency, and the
integrity gate's problems in plain words with what a person has to do about each.

Every function takes what ``audit.verify`` / ``audit.integrity`` return (a
``VerifyResult``, an ``IntegrityReport``), or None for a side that was not run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .charts import _AFTER, _BEFORE, Chart, _empty, _shorten

__all__ = ["CHECKS", "check_rows", "checks_side_by_side", "summarize", "checks_chart", "failing_routes", "integrity_table", "latency_chart",
           "route_answers", "warnings_table"]

# Each check of verify in plain words: what a passing app does.
CHECKS = {
    "routes": "Serves exactly the routes the audit found",
    "auth": "Refuses requests without a valid token (none, forged, expired)",
    "errors": "Never crashes (500) nor shows error details to the client",
    "validation": "Rejects empty or wrongly typed input with a clear 400 error",
    "valid_request": "Accepts a correct request",
    "hardening": "Security headers and the standard error format on every answer",
    "latency": "Answers fast (95% of calls under the budget, 100 ms by default)",
    "rate_limit": "Slows down repeated login, sign-up, password and upload attempts (429)",
}

# The same, short enough for a chart's axis.
_SHORT = {
    "routes": "Routes as the audit found them",
    "auth": "Refuses missing/forged/expired tokens",
    "errors": "No crashes, no leaked errors",
    "validation": "Rejects bad input (400)",
    "valid_request": "Accepts a correct request",
    "hardening": "Security headers, error format",
    "latency": "Fast (p95 under budget)",
    "rate_limit": "Limits repeated sensitive calls",
}

# What a person has to do about each kind of integrity problem.
_INTEGRITY_ACTIONS = {
    "critical-file-missing": "A file the app needs is gone. Restore it before deploying.",
    "critical-file-empty": "A file the app needs is empty. Restore its content before deploying.",
    "broken-import": "The code uses something that does not exist; that part of the app fails when it runs. "
                     "A developer must restore the missing code or remove its use.",
    "import-error": "This part of the app fails as soon as it is loaded. A developer must fix it.",
    "syntax-error": "This file is not valid Python and cannot run. A developer must fix it.",
    "doc-missing-file": "A document points to a file that does not exist. Update the document or restore the file.",
    "missing-file": "The migrated app lacks a file the legacy app had. Check whether it is still needed.",
    "empty-module": "A module without code. Check that nothing was lost (a warning, not a blocker).",
}


def _counts(result: Any, check: str) -> dict[str, int]:
    if result is None or getattr(result, "error", None):
        return {}
    column = result.routes.get(f"check_{check}")
    return {} if column is None else {str(k): int(v) for k, v in column.value_counts().items()}


def summarize(counts: dict[str, int] | None, ran: bool = True, error: Any = None) -> str:
    """``"58 of 63 pass, 4 to look at"`` for one check's counts (pass/fail/warn/skip)."""
    if not ran:
        return "not run"
    if error:
        return "could not start"
    counts = counts or {}
    judged = counts.get("pass", 0) + counts.get("fail", 0) + counts.get("warn", 0)
    if not judged:
        return "does not apply"
    text = f"{counts.get('pass', 0)} of {judged} pass"
    if counts.get("warn"):
        text += f", {counts['warn']} to look at"
    return text


def check_rows(legacy: dict[str, Any] | None, target: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The side-by-side rows from two saved verifications (``verify.json``: ``checks``,
    ``error``), for the summary page; None for a side that was not verified."""
    rows = []
    for check, meaning in CHECKS.items():
        row = {"check": meaning}
        for side, saved in (("legacy", legacy), ("target", target)):
            counts = (saved or {}).get("checks", {}).get(check)
            row[side] = summarize(counts, saved is not None, (saved or {}).get("error"))
        rows.append(row)
    return rows


def checks_side_by_side(legacy: Any, target: Any) -> pd.DataFrame:
    """One row per check: what it means and how many routes pass it, legacy beside target."""
    rows = []
    for check, meaning in CHECKS.items():
        before, after = _counts(legacy, check), _counts(target, check)
        rows.append({
            "check": meaning,
            "legacy app": summarize(before, legacy is not None, getattr(legacy, "error", None)),
            "migrated app": summarize(after, target is not None, getattr(target, "error", None)),
            "legacy failing": before.get("fail", 0),
            "migrated failing": after.get("fail", 0),
        })
    return pd.DataFrame(rows)


def checks_chart(legacy: Any, target: Any, title: str = "Share of routes passing each check") -> Chart:
    """Paired bars per check: the share of routes (where the check applies) that pass it."""

    def share(result: Any, check: str) -> float:
        counts = _counts(result, check)
        judged = sum(counts.get(k, 0) for k in ("pass", "fail", "warn"))
        return 100.0 * (counts.get("pass", 0) + counts.get("warn", 0)) / judged if judged else float("nan")

    if legacy is None and target is None:
        return _empty(title, "nothing was verified")
    labels = [_SHORT[check] for check in CHECKS]
    fig = Figure(figsize=(8.5, 0.55 * len(labels) + 1.4))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    height = 0.38
    if legacy is not None:
        ax.barh([p + height / 2 for p in positions], [share(legacy, c) for c in CHECKS], height,
                label="legacy app", color=_BEFORE)
    if target is not None:
        ax.barh([p - height / 2 for p in positions], [share(target, c) for c in CHECKS], height,
                label="migrated app", color=_AFTER)
    ax.set_yticks(positions, labels)
    ax.set_xlim(0, 105)
    ax.set_xlabel("% of routes passing (or to look at)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, title)


def latency_chart(result: Any, budget_ms: float = 100.0, top: int = 15,
                  title: str = "Slowest routes: 95th percentile response time") -> Chart:
    """The ``top`` slowest routes by p95 (with p50), and the budget as a line."""
    if result is None or getattr(result, "error", None) or result.routes.empty:
        return _empty(title, "no latency measured")
    frame = result.routes.assign(latency_p95_ms=pd.to_numeric(result.routes["latency_p95_ms"], errors="coerce"),
                                 latency_p50_ms=pd.to_numeric(result.routes["latency_p50_ms"], errors="coerce"))
    frame = frame.dropna(subset=["latency_p95_ms"])
    frame = frame.sort_values("latency_p95_ms", ascending=False).head(top)
    if frame.empty:
        return _empty(title, "no latency measured")
    labels = [_shorten(f"{m} {p}", 50) for m, p in zip(frame["method"], frame["path"])]
    fig = Figure(figsize=(8.5, 0.42 * len(labels) + 1.4))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, frame["latency_p95_ms"], color=_AFTER, label="p95")
    ax.barh(positions, frame["latency_p50_ms"], color="#9bbb59", label="p50", height=0.4)
    ax.axvline(budget_ms, color=_BEFORE, linestyle="--", label=f"budget {budget_ms:g} ms")
    ax.set_yticks(positions, labels)
    ax.set_xlabel("milliseconds, in-process")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, title)


def failing_routes(result: Any) -> pd.DataFrame:
    """The routes that fail a check, with the reasons in words."""
    if result is None or getattr(result, "error", None):
        return pd.DataFrame(columns=["route", "why it fails"])
    bad = result.failing
    return pd.DataFrame({"route": [f"{m} {p}" for m, p in zip(bad["method"], bad["path"])],
                         "why it fails": list(bad["reason"])})


def warnings_table(result: Any) -> pd.DataFrame:
    """Answers that are not failures but deserve a look, each with its explanation."""
    if result is None or getattr(result, "error", None) or "warnings" not in result.routes:
        return pd.DataFrame(columns=["route", "to look at"])
    rows = result.routes[result.routes["warnings"].fillna("").astype(str) != ""]
    return pd.DataFrame({"route": [f"{m} {p}" for m, p in zip(rows["method"], rows["path"])],
                         "to look at": list(rows["warnings"])})


def route_answers(result: Any) -> pd.DataFrame:
    """Per route, the status codes each probe got and the verdict (the CSV has everything)."""
    columns = {"method": "method", "path": "path", "status_no_token": "no token", "status_expired_token": "expired",
               "status_forged_token": "forged", "status_valid_token": "valid token", "status_empty": "empty input",
               "status_wrong": "wrong types", "status_valid_request": "valid request",
               "status_rate_limit": "after the limit", "latency_p95_ms": "p95 ms", "verdict": "verdict"}
    if result is None or getattr(result, "error", None):
        return pd.DataFrame(columns=list(columns.values()))
    frame = result.routes[[c for c in columns if c in result.routes]].rename(columns=columns)
    return frame.astype(object).where(frame.notna(), "").astype(str).replace({"nan": "", "None": "", "<NA>": ""})


def integrity_table(report: Any) -> pd.DataFrame:
    """The integrity gate's problems: where, what, and what a person has to do."""
    columns = ["severity", "where", "what", "what to do"]
    problems = getattr(report, "problems", None) or []
    rows = [{"severity": "blocker" if p.severity == "error" else "warning",
             "where": p.file + (f":{p.line}" if p.line else ""),
             "what": p.detail,
             "what to do": _INTEGRITY_ACTIONS.get(p.kind, "A developer must look at this.")}
            for p in problems]
    return pd.DataFrame(rows, columns=columns)
