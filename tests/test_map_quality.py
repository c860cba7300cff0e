"""Acceptance test of the map (issue 3): on legacy_app and on every fixture app with an
EXPECTED.yml, the route inventory is exact, the route flags are exact, and per category
(excluding ``other``) precision and recall of the findings (own rules + bandit + semgrep,
merged) are at least 0.9.

Run as a script (``python tests/test_map_quality.py [--out FILE]``) it prints the table
for every app (and writes it as markdown) without asserting.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("auth", "validated", "rate_limited", "public")
TARGET = 0.9


def expected_files() -> list[Path]:
    files = []
    legacy = ROOT / "legacy_app" / "EXPECTED.yml"
    if legacy.exists():
        files.append(legacy)
    files.extend(sorted((ROOT / "tests" / "fixtures").glob("*/EXPECTED.yml")))
    return files


@dataclass
class Quality:
    """The comparison of one map with one EXPECTED.yml."""

    app: str
    missing_routes: list[tuple] = field(default_factory=list)
    extra_routes: list[tuple] = field(default_factory=list)
    flag_errors: list[str] = field(default_factory=list)
    per_category: dict[str, dict[str, int]] = field(default_factory=dict)  # cat -> tp, fp, fn
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)

    def scores(self, cat: str) -> tuple[float, float]:
        c = self.per_category[cat]
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        return precision, recall

    def failing_categories(self) -> list[str]:
        return [c for c in sorted(self.per_category) if min(self.scores(c)) < TARGET]

    def table(self) -> str:
        rows = [f"### {self.app}", "",
                f"routes: {len(self.missing_routes)} missing, {len(self.extra_routes)} extra; "
                f"flag errors: {len(self.flag_errors)}", "",
                "| category | tp | fp | fn | precision | recall | ok |", "|---|---|---|---|---|---|---|"]
        for cat in sorted(self.per_category):
            c = self.per_category[cat]
            p, r = self.scores(cat)
            rows.append(f"| {cat} | {c['tp']} | {c['fp']} | {c['fn']} | {p:.2f} | {r:.2f} | "
                        f"{'yes' if min(p, r) >= TARGET else 'NO'} |")
        for title, items in (("missing routes", self.missing_routes), ("extra routes", self.extra_routes),
                             ("flag errors", self.flag_errors), ("false positives", self.false_positives),
                             ("false negatives", self.false_negatives)):
            if items:
                rows += ["", f"{title} ({len(items)}):", *[f"- {i}" for i in items[:60]]]
        return "\n".join(rows)


def compare(expected_path: Path, result) -> Quality:
    exp = yaml.safe_load(expected_path.read_text(encoding="utf-8"))
    q = Quality(app=str(expected_path.parent.relative_to(ROOT)))
    key = lambda r: (r["method"], r["path"], r["file"], int(r["line"]), r["handler"])  # noqa: E731
    expected_routes = {key(r): r for r in exp.get("routes") or []}
    got_routes = {key(r.to_row()): r for r in result.route_list}
    q.missing_routes = sorted(set(expected_routes) - set(got_routes))
    q.extra_routes = sorted(set(got_routes) - set(expected_routes))
    for k in sorted(set(expected_routes) & set(got_routes)):
        for flag in FLAGS:
            if flag in expected_routes[k] and bool(expected_routes[k][flag]) != getattr(got_routes[k], flag):
                q.flag_errors.append(f"{k[0]} {k[1]} ({k[2]}:{k[3]}): {flag} expected {expected_routes[k][flag]}, "
                                     f"got {getattr(got_routes[k], flag)}")
    flaws = {(f["category"], f["file"], int(f["line"])): f for f in exp.get("flaws") or []}
    found = {}
    for f in result.finding_list:
        if f.suppressed or f.category.value == "other":
            continue
        found.setdefault((f.category.value, f.file, f.line), f)
    for cat in sorted({k[0] for k in flaws} | {k[0] for k in found}):
        exp_keys = {k for k in flaws if k[0] == cat}
        got_keys = {k for k in found if k[0] == cat}
        q.per_category[cat] = {"tp": len(exp_keys & got_keys), "fp": len(got_keys - exp_keys),
                               "fn": len(exp_keys - got_keys)}
        for k in sorted(got_keys - exp_keys):
            f = found[k]
            q.false_positives.append(f"{cat} {k[1]}:{k[2]} [{f.rule_id} via {'+'.join(f.source)}] {f.snippet[:80]}")
        for k in sorted(exp_keys - got_keys):
            q.false_negatives.append(f"{cat} {k[1]}:{k[2]} `{flaws[k].get('snippet', '')[:80]}`")
    return q


def map_app(expected_path: Path, tmp: Path):
    import audit

    return audit.map(expected_path.parent, out=tmp, bandit=True, semgrep=True, cache=False, jobs=2, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("expected_path", expected_files(), ids=lambda p: p.parent.name)
def test_map_matches_expected(expected_path: Path, tmp_path: Path) -> None:
    result = map_app(expected_path, tmp_path / "map")
    for tool in ("bandit", "semgrep"):  # the quality target is for the merged findings of all three
        assert result.summary["tools"][tool]["status"] == "ok", result.summary["tools"][tool]
    q = compare(expected_path, result)
    problems = bool(q.missing_routes or q.extra_routes or q.flag_errors or q.failing_categories())
    assert not problems, "\n" + q.table()


def test_expected_files_exist() -> None:
    """The acceptance test has something to compare with: legacy_app's ground truth at least."""
    assert (ROOT / "legacy_app" / "EXPECTED.yml") in expected_files()


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Print the map quality table for every app with an EXPECTED.yml")
    parser.add_argument("--out", default=None, help="also write the tables as markdown to this file")
    args = parser.parse_args(argv)
    tables = []
    for path in expected_files():
        with tempfile.TemporaryDirectory() as tmp:
            result = map_app(path, Path(tmp) / "map")
        q = compare(path, result)
        tools = ", ".join(f"{k}: {v.get('status')}" for k, v in result.summary["tools"].items())
        tables.append(q.table() + f"\n\n(tools: {tools}; rule errors: {len(result.summary['rule_errors'])})\n")
    import datetime

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"# Map quality ({stamp})\n\nGenerated by `python tests/test_map_quality.py --out ...` (H2). "
            "Target: routes and flags exact; per category precision and recall >= 0.9 "
            "(own rules + bandit + semgrep merged).\n\n" + "\n\n".join(tables))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
