"""Map quality on code the rules were not tuned on: the holdout apps, with the tuned apps for comparison.

    .venv/bin/python benchmarks/holdout_quality.py                 # every app with an EXPECTED.yml
    .venv/bin/python benchmarks/holdout_quality.py --app flask_shop --app fastapi_notes
    .venv/bin/python benchmarks/holdout_quality.py --out /tmp/holdout.md

Each app is mapped with ``audit.map(src, cache=False)`` (own rules + bandit + semgrep) and
compared with its EXPECTED.yml by the same comparison as the acceptance test
(``tests/test_map_quality.py``: routes keyed by method, path, file, line, handler; a finding
matches a flaw when category, file and line are equal; ``other`` and suppressed findings
left out). Printed per app: missing/extra routes, flag errors per flag, per-category
tp/fp/fn/precision/recall and their micro-average, then the concrete false positives and
false negatives; at the end one table over all apps, holdout and tuned apps apart.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT = ROOT / "benchmarks" / "holdout"
FLAGS = ("auth", "validated", "rate_limited", "public")


def _load_acceptance():
    """tests/test_map_quality.py (H2) holds the comparison; tests/ is no package, so load it by path."""
    spec = importlib.util.spec_from_file_location("_map_quality", ROOT / "tests" / "test_map_quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def expected_files(acceptance) -> list[Path]:
    """The holdout apps first, then legacy_app and tests/fixtures/* (the apps the rules were tuned on)."""
    return sorted(HOLDOUT.glob("*/EXPECTED.yml")) + list(acceptance.expected_files())


def flag_error_counts(quality) -> dict[str, int]:
    counts = dict.fromkeys(FLAGS, 0)
    for text in quality.flag_errors:
        match = re.search(r"\): (\w+) expected", text)
        if match:
            counts[match.group(1)] += 1
    return counts


def path_mismatches(expected_path: Path, quality, result) -> tuple[list[str], dict[str, int]]:
    """Routes the map found at the right handler but under another path (e.g. a prefix it could
    not resolve), paired by (method, file, line, handler), and the flag errors on those pairs,
    which the strict comparison cannot see because their keys differ."""
    import yaml

    expected = {(r["method"], r["file"], int(r["line"]), r["handler"]): r
                for r in yaml.safe_load(expected_path.read_text(encoding="utf-8")).get("routes") or []}
    missing = {(k[0], k[2], k[3], k[4]) for k in quality.missing_routes}
    notes, counts = [], dict.fromkeys(FLAGS, 0)
    for route in result.route_list:
        row = route.to_row()
        key = (row["method"], row["file"], int(row["line"]), row["handler"])
        if key not in missing or key not in expected:
            continue
        want = expected[key]
        wrong = [f for f in FLAGS if bool(want[f]) != getattr(route, f)]
        for f in wrong:
            counts[f] += 1
        notes.append(f"{key[0]} {want['path']} found as {row['path']}"
                     + (f"; flags wrong: {', '.join(f'{f} (expected {want[f]})' for f in wrong)}" if wrong else ""))
    return notes, counts


def micro(per_category: dict[str, dict[str, int]]) -> dict[str, float]:
    tp = sum(c["tp"] for c in per_category.values())
    fp = sum(c["fp"] for c in per_category.values())
    fn = sum(c["fn"] for c in per_category.values())
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0}


def app_report(quality, result, seconds: float, moved: list[str], moved_flags: dict[str, int]) -> str:
    flags = flag_error_counts(quality)
    n_routes = len(result.route_list)
    m = micro(quality.per_category)
    tools = ", ".join(f"{k}: {v.get('status')}" for k, v in result.summary.get("tools", {}).items())
    lines = [quality.table(), "",
             "flag errors per flag: " + ", ".join(f"{f} {flags[f]}" for f in FLAGS),
             f"micro-average: tp {m['tp']}, fp {m['fp']}, fn {m['fn']}, "
             f"precision {m['precision']:.2f}, recall {m['recall']:.2f}",
             f"(routes found {n_routes}; tools: {tools}; map took {seconds:.1f} s)"]
    if moved:
        lines += ["", f"routes found at the right handler under another path ({len(moved)}); flag errors on them: "
                  + ", ".join(f"{f} {moved_flags[f]}" for f in FLAGS), *[f"- {m}" for m in moved]]
    return "\n".join(lines)


def summary_table(rows: list[tuple]) -> str:
    out = ["| app | holdout | routes missing | routes extra | flag errors (auth/validated/rate_limited/public; "
           "+ on routes found under another path) "
           "| tp | fp | fn | precision | recall |", "|---|---|---|---|---|---|---|---|---|---|"]
    groups: dict[bool, dict[str, dict[str, int]]] = {True: {}, False: {}}
    for app, quality, is_holdout, moved_flags in rows:
        f = flag_error_counts(quality)
        moved = "/".join(str(moved_flags[k]) for k in FLAGS) if any(moved_flags.values()) else ""
        m = micro(quality.per_category)
        out.append(f"| {app} | {'yes' if is_holdout else 'no'} | {len(quality.missing_routes)} | "
                   f"{len(quality.extra_routes)} | {'/'.join(str(f[k]) for k in FLAGS)}{' + ' + moved if moved else ''} | {m['tp']} | {m['fp']} | "
                   f"{m['fn']} | {m['precision']:.2f} | {m['recall']:.2f} |")
        for cat, c in quality.per_category.items():
            slot = groups[is_holdout].setdefault(cat, {"tp": 0, "fp": 0, "fn": 0})
            for k in slot:
                slot[k] += c[k]
    for is_holdout, label in ((True, "all holdout apps"), (False, "all tuned apps")):
        if groups[is_holdout]:
            m = micro(groups[is_holdout])
            out.append(f"| **{label}** | | | | | {m['tp']} | {m['fp']} | {m['fn']} | "
                       f"{m['precision']:.2f} | {m['recall']:.2f} |")
    return "\n".join(out)


def category_table(rows: list[tuple], holdout: bool) -> str:
    """Per category, summed over the holdout (or the tuned) apps."""
    sums: dict[str, dict[str, int]] = {}
    for _, quality, is_holdout, _ in rows:
        if is_holdout != holdout:
            continue
        for cat, c in quality.per_category.items():
            slot = sums.setdefault(cat, {"tp": 0, "fp": 0, "fn": 0})
            for k in slot:
                slot[k] += c[k]
    out = ["| category | tp | fp | fn | precision | recall |", "|---|---|---|---|---|---|"]
    for cat in sorted(sums):
        m = micro({cat: sums[cat]})
        out.append(f"| {cat} | {m['tp']} | {m['fp']} | {m['fn']} | {m['precision']:.2f} | {m['recall']:.2f} |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", default=[],
                        help="only this app (folder name of its EXPECTED.yml, e.g. flask_shop); repeatable")
    parser.add_argument("--jobs", type=int, default=None, help="processes for the map (default: all cores)")
    parser.add_argument("--out", default=None, help="also write the report as markdown to this file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    import audit

    acceptance = _load_acceptance()
    paths = expected_files(acceptance)
    if args.app:
        unknown = set(args.app) - {p.parent.name for p in paths}
        if unknown:
            parser.error(f"no EXPECTED.yml for {sorted(unknown)}; known: {sorted(p.parent.name for p in paths)}")
        paths = [p for p in paths if p.parent.name in args.app]

    sections, rows = [], []
    for path in paths:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            result = audit.map(path.parent, out=Path(tmp) / "map", cache=False, jobs=args.jobs, progress=False)
        quality = acceptance.compare(path, result)
        is_holdout = HOLDOUT in path.parents
        moved, moved_flags = path_mismatches(path, quality, result)
        rows.append((quality.app, quality, is_holdout, moved_flags))
        sections.append(app_report(quality, result, time.perf_counter() - started, moved, moved_flags))
        print(sections[-1] + "\n", flush=True)

    text = ("# Map quality on holdout apps\n\n## Summary\n\n" + summary_table(rows) +
            "\n\n## Per category, holdout apps\n\n" + category_table(rows, True) +
            "\n\n## Per category, tuned apps (legacy_app, tests/fixtures)\n\n" + category_table(rows, False) +
            "\n\n## Per app\n\n" + "\n\n".join(sections) + "\n")
    print("## Summary\n\n" + summary_table(rows))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
