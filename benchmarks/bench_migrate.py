"""How fast is ``workbench migrate``, next to the cheapest possible libcst codemod?

    .venv/bin/python benchmarks/bench_migrate.py [--lines 100000] [--modules 520] [--seed 7] [--jobs N]
    .venv/bin/python benchmarks/bench_migrate.py --quick

Over the same generated tree (benchmarks/generate.py) and in the same run, it times:

* the full migration (``audit.migrate(src, target)``, every codemod), and
* a no-op libcst codemod: each file read, parsed, run through a ``Codemod`` whose
  ``transform_module_impl`` returns the tree unchanged, printed and written to a
  target folder, spread over the same number of processes.

and prints files per second of both and the ratio (wall clock, and CPU seconds, which
other work on the machine disturbs less), then the migration's stages (reading,
the route inventory through the map, the codemods, writing) so that a reader sees where
the time goes. Target: the migration takes at most 3 x the no-op's time. The inventory
starts cold (a fresh tree path, so no cache of the map applies); its cache is removed after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libcst as cst  # noqa: E402
from libcst.codemod import Codemod, CodemodContext  # noqa: E402

from benchmarks.generate import generate, tree_arguments, tree_options  # noqa: E402

TARGET_RATIO = 3.0


class NoopCommand(Codemod):
    """Parse and print only: the floor under any libcst codemod's cost."""

    DESCRIPTION = "Changes nothing."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        return tree


def _noop_chunk(pairs: list[tuple[str, str]]) -> int:
    changed = 0
    for source_path, target_path in pairs:
        source = Path(source_path).read_text(encoding="utf-8")
        module = NoopCommand(CodemodContext(filename=source_path)).transform_module(cst.parse_module(source))
        Path(target_path).parent.mkdir(parents=True, exist_ok=True)
        Path(target_path).write_text(module.code, encoding="utf-8")
        changed += module.code != source
    return changed


def run_noop(src: Path, target: Path, jobs: int) -> int:
    """The no-op codemod over every Python file of ``src``, written under ``target``."""
    pairs = [(str(p), str(target / p.relative_to(src))) for p in sorted(src.rglob("*.py"))]
    if jobs <= 1:
        return _noop_chunk(pairs)
    size = max(1, len(pairs) // (jobs * 4))
    chunks = [pairs[i:i + size] for i in range(0, len(pairs), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return sum(pool.map(_noop_chunk, chunks))


def run_migration(src: Path, target: Path, jobs: int) -> Any:
    from audit.api import migrate

    return migrate(src, target, jobs=jobs, progress=False)


def _cpu() -> float:
    """CPU seconds of this process and of its finished child processes (the worker pools,
    once shut down). The map's workers are children of its forkserver, not of this process:
    with jobs > 1 the migration's CPU figure leaves them out; with --jobs 1 it is complete."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(src: Path, workdir: Path, jobs: int) -> dict[str, Any]:
    files = sum(1 for _ in src.rglob("*.py"))
    figures: dict[str, Any] = {"files": files, "jobs": jobs}
    started, cpu = time.perf_counter(), _cpu()
    changed = run_noop(src, workdir / "noop", jobs)
    figures["noop_s"] = time.perf_counter() - started
    figures["noop_cpu_s"] = _cpu() - cpu
    print(f"  no-op codemod: {figures['noop_s']:.2f} s", file=sys.stderr, flush=True)
    figures["noop_changed"] = changed  # must be 0: libcst round-trips source exactly
    started, cpu = time.perf_counter(), _cpu()
    try:
        result = run_migration(src, workdir / "migrated", jobs)
        figures["migrate_s"] = time.perf_counter() - started
        figures["migrate_cpu_s"] = _cpu() - cpu
        figures["migrate_files_changed"] = len(getattr(result, "files_changed", []) or [])
        figures["migrate_stages"] = dict(getattr(result, "timings", {}) or {})
    except Exception as exc:  # an unfinished migration is a reported gap, not a crash
        figures["migrate_s"] = None
        figures["migrate_error"] = f"{type(exc).__name__}: {exc}"
    return figures


def report(f: dict[str, Any]) -> str:
    out = [f"tree: {f['files']} Python files; jobs={f['jobs']}",
           f"no-op libcst codemod: {f['files'] / f['noop_s']:8.1f} files/s  ({f['noop_s']:.2f} s; "
           f"{f['noop_changed']} files changed by the round trip)"]
    if f.get("migrate_s"):
        ratio = f["migrate_s"] / f["noop_s"]
        out += [f"full migration:       {f['files'] / f['migrate_s']:8.1f} files/s  ({f['migrate_s']:.2f} s; "
                f"{f['migrate_files_changed']} files rewritten)",
                f"migration / no-op time: {ratio:.2f}  (target <= {TARGET_RATIO:.0f})  "
                f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"]
        stages = f.get("migrate_stages") or {}
        if stages:
            wall = "  ".join(f"{name.removesuffix('_s')} {stages[name]:.2f} s" for name in
                             ("read_s", "analysis_s", "rewrite_s", "write_s") if name in stages)
            out.append(f"  migration stages (wall): {wall}")
            if "inventory_s" in stages:
                out.append(f"  analysis = route inventory (the map's facts, no bandit/semgrep) "
                           f"{stages['inventory_s']:.2f} s, beside the project scan {stages.get('scan_s', 0):.2f} s; "
                           f"inventory / rewrite = {stages['inventory_s'] / max(stages.get('rewrite_s', 0), 1e-9):.2f}")
            if "rewrite_cpu_s" in stages:
                out.append(f"  codemods' CPU summed over the workers: {stages['rewrite_cpu_s']:.2f} s")
        if f.get("noop_cpu_s") and f.get("migrate_cpu_s"):
            note = "" if f["jobs"] == 1 else " (the map's forkserver workers not counted: exact with --jobs 1)"
            out.append(f"CPU seconds: no-op {f['noop_cpu_s']:.2f}, migration {f['migrate_cpu_s']:.2f}, "
                       f"ratio {f['migrate_cpu_s'] / f['noop_cpu_s']:.2f}{note}")
    else:
        out.append(f"full migration: n/a ({f.get('migrate_error')})")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tree_arguments(parser)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = tree_options(parser.parse_args(argv))
    workdir = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    try:
        stats = generate(workdir / "src", args.lines, args.modules, args.seed)
        figures = measure(stats.root, workdir, args.jobs)
        print(report(figures))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, default=str))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        try:  # the map's per-file cache of the inventory, kept outside the (deleted) tree
            from audit.cache import default_cache_dir

            shutil.rmtree(default_cache_dir(workdir / "src" / "bigapp", None), ignore_errors=True)
        except ImportError:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
