"""The tables of the reports, as pandas DataFrames built from a map (or two maps).

Every function takes a map result or a map output folder (what ``audit.map`` returns
or writes) and leaves out suppressed findings. Rendering is the caller's business:
``DataFrame.to_html`` escapes cell text, which is how code from the audited tree
(file names, messages, snippets) stays text in the HTML.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd

from ..model import Category, Finding, Route, Severity
from ..plan import read_map

__all__ = [
    "by_category",
    "by_module",
    "compare_categories",
    "compare_coverage",
    "coverage",
    "data_access",
    "findings_table",
    "inventory",
    "migration_notes",
    "remaining",
]


def _parts(source: Any, min_severity: str = "low") -> tuple[list[Route], list[Finding]]:
    routes, findings, _ = read_map(source)
    threshold = Severity(str(min_severity).lower()).rank
    return routes, [f for f in findings if not f.suppressed and f.severity.rank >= threshold]


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def inventory(source: Any) -> pd.DataFrame:
    """The route inventory: one row per (method, path) with its flags and where it lives."""
    routes, _ = _parts(source)
    rows = [{
        "method": r.method, "path": r.path, "file": r.file, "line": r.line, "handler": r.handler,
        "auth": _flag(r.auth), "validated": _flag(r.validated), "rate_limited": _flag(r.rate_limited),
        "public": _flag(r.public), "data_access": r.data_access,
        "categories": ", ".join(sorted(r.categories)),
    } for r in routes]
    columns = ["method", "path", "file", "line", "handler", "auth", "validated", "rate_limited",
               "public", "data_access", "categories"]
    return pd.DataFrame(rows, columns=columns)


def findings_table(source: Any, min_severity: str = "low") -> pd.DataFrame:
    """Every unsuppressed finding at or above ``min_severity``, most severe first."""
    _, findings = _parts(source, min_severity)
    findings = sorted(findings, key=lambda f: (-f.severity.rank, f.category.value, f.file, f.line))
    rows = [{
        "severity": f.severity.value, "category": f.category.value, "file": f.file, "line": f.line,
        "route": f.route, "message": f.message, "code": f.snippet, "source": ", ".join(f.source),
        "rule": f.rule_id, "fix": f.fixed_by or "needs a human",
    } for f in findings]
    columns = ["severity", "category", "file", "line", "route", "message", "code", "source", "rule", "fix"]
    return pd.DataFrame(rows, columns=columns)


def by_category(source: Any, min_severity: str = "low") -> pd.DataFrame:
    """Findings per category (in plain words too) and per severity, largest first."""
    _, findings = _parts(source, min_severity)
    counts: dict[Category, Counter[str]] = {}
    for f in findings:
        counts.setdefault(f.category, Counter())[f.severity.value] += 1
    rows = [{
        "category": cat.value, "what it means": cat.plain_label,
        "high": c["high"], "medium": c["medium"], "low": c["low"], "total": sum(c.values()),
    } for cat, c in counts.items()]
    frame = pd.DataFrame(rows, columns=["category", "what it means", "high", "medium", "low", "total"])
    return frame.sort_values(["total", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)


def by_module(source: Any, min_severity: str = "low") -> pd.DataFrame:
    """Findings per file (rows) and category (columns), the files with most findings first."""
    _, findings = _parts(source, min_severity)
    if not findings:
        return pd.DataFrame(columns=["file", "total"])
    frame = pd.DataFrame([{"file": f.file, "category": f.category.value} for f in findings])
    table = pd.crosstab(frame["file"], frame["category"])
    table["total"] = table.sum(axis=1)
    table = table.sort_values(["total"], ascending=False, kind="stable")
    table.columns.name = None
    return table.reset_index()


def data_access(source: Any) -> pd.DataFrame:
    """How each route module reaches the data: through the storage layer, by direct queries, or not at all."""
    routes, _ = _parts(source)
    counts: dict[str, Counter[str]] = {}
    for r in routes:
        counts.setdefault(r.file, Counter())[r.data_access or "none"] += 1
    rows = [{"file": name, "storage": c["storage"], "direct": c["direct"], "none": c["none"],
             "direct routes": ", ".join(r.key for r in routes if r.file == name and r.data_access == "direct")}
            for name, c in sorted(counts.items())]
    return pd.DataFrame(rows, columns=["file", "storage", "direct", "none", "direct routes"])


def coverage(source: Any) -> dict[str, dict[str, int]]:
    """Route coverage: how many routes are authenticated (of those that are not public),
    validated (of all) and rate limited (of the sensitive ones), as ``{"covered", "of"}``."""
    routes, _ = _parts(source)
    private = [r for r in routes if not r.public]
    sensitive = [r for r in routes if r.sensitive]
    return {
        "authenticated": {"covered": sum(r.auth for r in private), "of": len(private)},
        "validated": {"covered": sum(r.validated for r in routes), "of": len(routes)},
        "rate_limited": {"covered": sum(r.rate_limited for r in sensitive), "of": len(sensitive)},
    }


COVERAGE_LABELS = {
    "authenticated": "Non-public routes that require a login",
    "validated": "Routes that validate the data they read",
    "rate_limited": "Sensitive routes with a rate limit",
}


def compare_coverage(before: Any, after: Any) -> pd.DataFrame:
    """Route coverage before and after, one row per measure."""
    b, a = coverage(before), coverage(after)
    rows = [{
        "measure": key, "what it means": COVERAGE_LABELS[key],
        "before": b[key]["covered"], "before_of": b[key]["of"],
        "after": a[key]["covered"], "after_of": a[key]["of"],
    } for key in COVERAGE_LABELS]
    return pd.DataFrame(rows, columns=["measure", "what it means", "before", "before_of", "after", "after_of"])


def compare_categories(before: Any, after: Any, min_severity: str = "low") -> pd.DataFrame:
    """Findings per category before and after (categories present in either), in plain words."""
    _, fb = _parts(before, min_severity)
    _, fa = _parts(after, min_severity)
    cb, ca = Counter(f.category for f in fb), Counter(f.category for f in fa)
    cats = [c for c in Category if cb[c] or ca[c]]
    rows = [{"category": c.value, "what it means": c.plain_label, "before": cb[c], "after": ca[c],
             "removed": cb[c] - ca[c]} for c in cats]
    frame = pd.DataFrame(rows, columns=["category", "what it means", "before", "after", "removed"])
    return frame.sort_values(["before", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)


def remaining(source: Any, min_severity: str = "low") -> pd.DataFrame:
    """What is still there after the migration: the findings that need a human."""
    frame = findings_table(source, min_severity)
    return frame[["severity", "category", "file", "line", "message", "rule"]]


def migration_notes(report: Any) -> pd.DataFrame:
    """What MIGRATION.json says was left for a human, whatever its exact nesting: any entry
    under a key meaning "left for a human" (notes, left_for_human, skipped, reason...), per file."""
    keys = ("left_for_human", "needs_human", "manual", "notes", "skipped", "reason", "todo", "not_fixed", "left")
    notes: list[dict[str, str]] = []

    def text(item: Any) -> str:
        if isinstance(item, dict):
            reason = item.get("reason") or item.get("why") or item.get("message") or ""
            what = item.get("what") or item.get("codemod") or item.get("category") or item.get("rule") or ""
            line = f" (line {item['line']})" if item.get("line") else ""
            return f"{what}{line}: {reason}".strip(": ") or json.dumps(item, sort_keys=True)
        return str(item)

    def walk(node: Any, file: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in keys and value:
                    for item in value if isinstance(value, list) else [value]:
                        where = item.get("file", file) if isinstance(item, dict) else file
                        notes.append({"file": str(where), "note": text(item)})
                elif isinstance(value, (dict, list)):
                    walk(value, key if file == "" and key.endswith(".py") else
                         (value.get("file", file) if isinstance(value, dict) else file))
        elif isinstance(node, list):
            for item in node:
                walk(item, item.get("file", file) if isinstance(item, dict) else file)

    walk(report or {}, "")
    return pd.DataFrame(notes, columns=["file", "note"])
