"""How fast is ``workbench map``? One run over a generated codebase, every figure at once.

    .venv/bin/python benchmarks/bench_map.py [--lines 100000] [--modules 520] [--seed 7] [--jobs N] [--repeat 3]
    .venv/bin/python benchmarks/bench_map.py --quick      # a small tree, for a smoke run

Prints lines per second of: our own analysis alone (``audit.map`` without bandit and
semgrep, cache off), bandit alone, semgrep alone (with our rules,
``audit/semgrep_rules/``), the full map; the ratios; and the warm re-run after
touching one file (cache on) against the cold run. The issue's targets are shown as
pass/fail:

* own analysis at least as fast as bandit (lines/s);
* full map no slower than 1.25 x (bandit + semgrep run one after the other);
* a one-file re-map under 10% of the cold map.

bandit and semgrep are run through the workbench's adapters (``audit.adapters``, the
same invocation the map uses) when they exist, else directly with equivalent flags.
``--json FILE`` also writes the figures as JSON.

The cold figures are the best of ``--repeat`` rounds (default 3) taken side by side: on a
shared machine the speed of the same run drifts by up to a third within minutes, and rounds
taken one after the other, best of each, compare the analyses under the same conditions.
Every round's times are printed too. The full-map verdict is the median of the rounds' own
ratios (see ``round_ratios``); the ratio of the best figures is printed beside it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import generate, tree_arguments, tree_options  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "audit" / "semgrep_rules"


def _timed(func: Callable[[], Any], label: str = "") -> tuple[float, Any]:
    started = time.perf_counter()
    value = func()
    elapsed = time.perf_counter() - started
    if label:  # progress on stderr, so a long run shows where it is
        print(f"  {label}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    return elapsed, value


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the tools' subprocesses)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def count_lines(src: Path) -> int:
    return sum(p.read_text(encoding="utf-8", errors="replace").count("\n") for p in src.rglob("*.py"))


def run_map(src: Path, jobs: int, *, bandit: bool, semgrep: bool, cache_dir: Path | None) -> Any:
    from audit.mapping import run_map as map_

    return map_(src, jobs=jobs, bandit=bandit, semgrep=semgrep, cache=cache_dir is not None,
                cache_dir=cache_dir, progress=False, formats="csv")


def run_tool(name: str, src: Path, jobs: int) -> str:
    """Run bandit or semgrep over ``src`` alone; return how it was run."""
    try:
        adapter = importlib.import_module(f"audit.adapters.{name}")
    except ImportError:
        adapter = None
    if adapter is not None and adapter.available():
        files = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.py"))
        adapter.run(src, files=files, jobs=jobs)
        return "adapter"
    exe = Path(sys.executable).with_name(name)
    if name == "bandit":
        cmd = [str(exe), "-r", str(src), "-f", "json", "-q"]
    else:
        if not any(RULES.rglob("*.y*ml")):
            raise RuntimeError(f"no semgrep rules in {RULES}")
        cmd = [str(exe), "scan", "--config", str(RULES), "--json", "--metrics=off", "--disable-version-check",
               "--jobs", str(jobs), "--quiet", str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("{"):
        raise RuntimeError(f"{name} failed: {done.stderr.strip()[-300:]}")
    return "command line"


def touch_target(src: Path) -> Path:
    """The file the warm re-run changes: a route module, where a change matters most."""
    routes = sorted((src / "blueprints").glob("m*.py"))
    return routes[0] if routes else sorted(src.rglob("*.py"))[0]


def _cold_round(src: Path, jobs: int, tools: bool, number: int, total: int) -> dict[str, Any]:
    """One round of the cold measurements: own analysis, bandit alone, semgrep alone, full map."""
    label = f" (round {number}/{total})" if total > 1 else ""
    figures: dict[str, Any] = {}
    cpu = time.process_time()
    t, result = _timed(lambda: run_map(src, jobs, bandit=False, semgrep=False, cache_dir=None), "own analysis" + label)
    figures["own_s"], figures["routes"] = t, len(result.route_list)
    timings = result.summary.get("timings", {})
    # CPU seconds (this process + the map's workers): a figure the machine's other load barely moves.
    figures["own_cpu_s"] = time.process_time() - cpu + timings.get("facts_cpu_s", 0) + timings.get("rules_cpu_s", 0) \
        if jobs > 1 else time.process_time() - cpu
    for tool in ("bandit", "semgrep"):
        if not tools:
            figures[f"{tool}_s"], figures[f"{tool}_error"] = None, "not run (--no-tools)"
            continue
        try:
            before = _children_cpu()
            t, how = _timed(lambda: run_tool(tool, src, jobs), f"{tool} alone" + label)
            figures[f"{tool}_s"], figures[f"{tool}_via"] = t, how
            figures[f"{tool}_cpu_s"] = _children_cpu() - before
        except Exception as exc:  # a missing tool or rule set is a reported gap, not a crash
            figures[f"{tool}_s"], figures[f"{tool}_error"] = None, str(exc)
    figures["full_s"] = figures["full_error"] = None
    if tools:
        t, result = _timed(lambda: run_map(src, jobs, bandit=True, semgrep=True, cache_dir=None), "full map" + label)
        figures["full_s"], figures["tools"] = t, result.summary.get("tools", {})
    else:
        figures["full_error"] = "not run (--no-tools)"
    return figures


def measure(src: Path, jobs: int, tools: bool = True, repeat: int = 1) -> dict[str, Any]:
    """Every figure of the benchmark for the tree at ``src`` (``tools=False``: our own
    analysis only, for a quick smoke run; the tool figures are then n/a).

    ``repeat``: the four cold measurements (own, bandit, semgrep, full) are taken in that many
    rounds, one after the other, and each figure is its fastest round (all rounds are kept
    under ``rounds``). On a shared machine the speed drifts by a third within minutes; rounds
    side by side, best of each, compare the analyses under the same conditions."""
    lines = count_lines(src)
    figures: dict[str, Any] = {"lines": lines, "modules": sum(1 for _ in src.rglob("*.py")), "jobs": jobs,
                               "repeat": max(1, repeat)}
    rounds = [_cold_round(src, jobs, tools, n + 1, max(1, repeat)) for n in range(max(1, repeat))]
    figures["rounds"] = rounds
    for key in ("own_s", "bandit_s", "semgrep_s", "full_s"):
        times = [r[key] for r in rounds if r.get(key)]
        best = min(range(len(rounds)), key=lambda i: rounds[i].get(key) or float("inf"))
        figures[key] = min(times) if times else None
        if key == "own_s":
            figures["own_cpu_s"], figures["routes"] = rounds[best]["own_cpu_s"], rounds[best]["routes"]
        elif key == "full_s" and times:
            figures["tools"] = rounds[best]["tools"]
        elif times:
            tool = key[:-2]
            figures[f"{tool}_cpu_s"], figures[f"{tool}_via"] = rounds[best][f"{tool}_cpu_s"], rounds[best][f"{tool}_via"]
    for key in ("bandit_error", "semgrep_error", "full_error"):
        if rounds[-1].get(key):
            figures[key] = rounds[-1][key]
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        for label, with_tools in (("own", False), ("full", True)):
            if with_tools and not tools:
                continue
            cache_dir = Path(cache) / label
            cold, _ = _timed(lambda: run_map(src, jobs, bandit=with_tools, semgrep=with_tools, cache_dir=cache_dir),
                             f"{label}: cold, cache on")
            touched = touch_target(src)
            with touched.open("a") as handle:
                handle.write(f"# touched by the benchmark at {time.time()}\n")
            warm, _ = _timed(lambda: run_map(src, jobs, bandit=with_tools, semgrep=with_tools, cache_dir=cache_dir),
                             f"{label}: warm, one file touched")
            figures[f"{label}_cold_cached_s"], figures[f"{label}_warm_s"] = cold, warm
    return figures


def report(f: dict[str, Any]) -> str:
    lines = f["lines"]

    def rate(key: str) -> str:
        return f"{lines / f[key]:>10,.0f} lines/s  ({f[key]:.2f} s)" if f.get(key) else "   n/a" + (
            f"  ({f.get(key.replace('_s', '_error'), '')})")

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("PASS" if ok else "FAIL")

    out = [f"tree: {f['modules']} modules, {lines:,} lines, {f['routes']} routes found; jobs={f['jobs']}"
           + (f"; best of {f['repeat']} interleaved rounds" if f.get("repeat", 1) > 1 else ""),
           f"own analysis (map, no bandit/semgrep, cache off): {rate('own_s')}",
           f"bandit alone:                                    {rate('bandit_s')}",
           f"semgrep alone (our rules):                       {rate('semgrep_s')}",
           f"full map (own + bandit + semgrep, cache off):    {rate('full_s')}"]
    if f.get("own_cpu_s"):
        cpu = [f"CPU seconds (less sensitive to other load on the machine): own analysis {f['own_cpu_s']:.1f}"]
        for tool in ("bandit", "semgrep"):
            if f.get(f"{tool}_cpu_s"):
                cpu.append(f"{tool} {f[f'{tool}_cpu_s']:.1f}")
        if f.get("bandit_cpu_s"):
            cpu.append(f"-> own / bandit CPU speed {f['bandit_cpu_s'] / f['own_cpu_s']:.2f}")
        out.append(", ".join(cpu))
    own_vs_bandit = f["bandit_s"] / f["own_s"] if f.get("bandit_s") else None
    tools_sum = (f["bandit_s"] or 0) + (f["semgrep_s"] or 0) if f.get("bandit_s") and f.get("semgrep_s") else None
    best_of_each = f["full_s"] / tools_sum if tools_sum and f.get("full_s") else None
    ratios = round_ratios(f)
    full_vs_tools = statistics.median(ratios) if ratios else best_of_each
    warm_full = f["full_warm_s"] / f["full_cold_cached_s"] if f.get("full_warm_s") else None
    warm_own = f["own_warm_s"] / f["own_cold_cached_s"]
    out += [
        "",
        f"own speed / bandit speed:        {own_vs_bandit:.2f}  (target >= 1.00)  {verdict(own_vs_bandit and own_vs_bandit >= 1)}"
        if own_vs_bandit else "own speed / bandit speed:        n/a",
        f"full / (bandit + semgrep):       {full_vs_tools:.2f}  (target <= 1.25)  {verdict(full_vs_tools <= 1.25)}"
        + (f"  median of {len(ratios)} rounds; best of each: {best_of_each:.2f}" if len(ratios) > 1 else "")
        if full_vs_tools else "full / (bandit + semgrep):       n/a",
        f"full map, one file touched: warm {f['full_warm_s']:.2f} s vs cold {f['full_cold_cached_s']:.2f} s = "
        f"{warm_full:.1%}  (target < 10%)  {verdict(warm_full < 0.10)}"
        if warm_full is not None else "full map, one file touched: n/a (target < 10%)",
        f"own analysis, one file touched: warm {f['own_warm_s']:.2f} s vs cold {f['own_cold_cached_s']:.2f} s = "
        f"{warm_own:.1%}",
    ]
    if f.get("repeat", 1) > 1:
        out.append("rounds (own / bandit / semgrep / full, seconds): " + "; ".join(
            " / ".join(f"{r[k]:.1f}" if r.get(k) else "n/a" for k in ("own_s", "bandit_s", "semgrep_s", "full_s"))
            for r in f["rounds"]))
        if ratios:
            out.append("full / (bandit + semgrep) within each round: " + ", ".join(f"{x:.2f}" for x in sorted(ratios))
                       + f" (median {statistics.median(ratios):.2f})")
    for tool, info in (f.get("tools") or {}).items():
        out.append(f"  in the full map, {tool}: {info.get('status')} {info.get('detail', '')} {info.get('time_s', '')}")
    return "\n".join(out)


def round_ratios(f: dict[str, Any]) -> list[float]:
    """full / (bandit + semgrep) of each round: the three measured minutes apart, under the same
    conditions. Their median is the benchmark's verdict: the ratio of each figure's best round
    (printed too) puts the fastest full map over the sum of two separate lucky rounds, bandit's
    and semgrep's, which a drifting machine makes lower than any one round's sum."""
    return [r["full_s"] / (r["bandit_s"] + r["semgrep_s"]) for r in f.get("rounds", [])
            if r.get("full_s") and r.get("bandit_s") and r.get("semgrep_s")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tree_arguments(parser)
    parser.add_argument("--no-tools", action="store_true", help="own analysis only (no bandit/semgrep)")
    parser.add_argument("--keep", type=Path, default=None, help="generate into this folder and keep it")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of the cold measurements, best of each (default 3; --quick: 1)")
    args = tree_options(parser.parse_args(argv))
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-map-"))
    try:
        stats = generate(workdir, args.lines, args.modules, args.seed)
        figures = measure(stats.root, args.jobs, tools=not args.no_tools, repeat=1 if args.quick else args.repeat)
        ratios = round_ratios(figures)
        figures["full_vs_tools_rounds"] = ratios
        figures["full_vs_tools_median"] = statistics.median(ratios) if ratios else None
        print(report(figures))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, default=str))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
