"""``workbench run``: the Map -> Breakdown -> Mitigate -> Deploy notebooks executed with
papermill, then exported for their two audiences.

- Engineers get the executed notebooks, with code, in ``OUT/notebooks/``.
- Stakeholders get one HTML report per stage without code (``OUT/01_map.html`` ...) and
  ``OUT/index.html``, a one-page before/after summary; every page opens from disk offline.

The notebooks exchange results through files in OUT (see :mod:`audit.report.layout`),
never through kernel state. A failing cell stops the run: the message names the
notebook, the cell and the error, and the reports of what did run are still written.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import yaml

from .report.layout import STAGES, RunLayout

__all__ = ["NOTEBOOKS", "PipelineError", "kernel_for_this_interpreter", "run_pipeline"]

# The repository's notebooks/ (an editable install or a checkout); a wheel would carry
# them as package data in audit/notebooks/.
NOTEBOOKS = next((p for p in (Path(__file__).resolve().parents[1] / "notebooks",
                              Path(__file__).resolve().parent / "notebooks") if p.is_dir()),
                 Path(__file__).resolve().parents[1] / "notebooks")


class PipelineError(RuntimeError):
    """The pipeline could not start (bad parameter, missing notebook, no kernel)."""


def _runs_this_interpreter(argv: list[str]) -> bool:
    if not argv:
        return False
    exe = argv[0]
    major, minor = sys.version_info[:2]
    if exe in ("python", f"python{major}", f"python{major}.{minor}"):
        return True  # jupyter_client launches these names with sys.executable
    # Compare without resolving symlinks: a venv's python links to the base interpreter,
    # but only the path inside the venv gives the venv's packages.
    return Path(os.path.abspath(exe)).parent == Path(os.path.abspath(sys.executable)).parent


def kernel_for_this_interpreter(candidates: tuple[str, ...] = ("workbench", "python3")) -> str:
    """The name of a kernelspec that runs ``sys.executable`` (the interpreter running the
    workbench, hence the same packages); when none of ``candidates`` does, one is written
    into a private folder added to ``JUPYTER_PATH`` for this process."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    for name in candidates:
        try:
            spec = manager.get_kernel_spec(name)
        except NoSuchKernel:
            continue
        if _runs_this_interpreter(list(spec.argv)):
            return name
    name = "workbench-" + hashlib.sha256(sys.executable.encode()).hexdigest()[:10]
    base = Path(tempfile.gettempdir()) / f"workbench-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
    spec_dir = base / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Workbench ({sys.executable})",
        "language": "python",
    }), encoding="utf-8")
    paths = os.environ.get("JUPYTER_PATH", "")
    if str(base) not in paths.split(os.pathsep):
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(base), paths) if p)
    return name


def _literal(value: Any) -> Any:
    """CLI parameters arrive as strings: ``2`` -> 2, ``true`` -> True, ``[0, 1]`` -> [0, 1]."""
    if not isinstance(value, str):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return parsed if isinstance(parsed, (int, float, bool, list, type(None))) else value


def _declared(notebook: Path) -> dict[str, Any]:
    import papermill as pm

    return pm.inspect_notebook(str(notebook))


def _stage_error(stem: str, exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        source = (exc.source or "").strip().splitlines()
        first = source[0] if source else ""
        return (f"{stem}.ipynb: cell {exc.cell_index} (In [{exc.exec_count}]) `{first}` failed: "
                f"{exc.ename}: {exc.evalue}")
    return f"{stem}.ipynb: {type(exc).__name__}: {exc}"


def _start_kernel(kernel: str, cwd: Path, log_file: Any = None) -> Any:
    """A kernel process for the next stage, booting while the current one runs; its own
    stderr (start-up warnings, shutdown notices) goes to ``log_file``, not the terminal."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name=kernel)
    if log_file is None:
        manager.start_kernel(cwd=str(cwd))
    else:
        manager.start_kernel(cwd=str(cwd), stdout=log_file, stderr=log_file)
    return manager


def _stop_kernel(manager: Any) -> None:
    try:
        if manager.has_kernel:
            manager.shutdown_kernel(now=False)
    except Exception:  # noqa: BLE001 - a kernel that is already gone is fine
        pass


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_pipeline(legacy: str | Path, target: str | Path, reports: str | Path,
                 parameters: dict[str, Any] | None = None, progress: bool | None = None, *,
                 notebooks: str | Path | None = None, kernel_name: str | None = None,
                 log: Callable[[str], None] = _say) -> dict[str, Any]:
    """Execute the four notebooks on ``legacy`` (migrating into ``target``), write the executed
    notebooks and HTML reports into ``reports``, and return the run's summary
    (also written to ``reports/summary.json``; ``"ok"`` says whether every stage ran, ``"verified"``
    whether the migrated app passed verification).

    ``parameters`` go to every notebook that declares them (CLI strings are read as
    YAML scalars); a parameter no notebook declares is an error. ``notebooks`` is the
    folder holding the notebooks (default: the repository's ``notebooks/``).
    """
    import papermill as pm

    from .report.build import build_index
    from .report.export import export_html

    layout = RunLayout(Path(reports).resolve())
    source_dir = Path(notebooks) if notebooks else NOTEBOOKS
    legacy_path, target_path = Path(legacy).resolve(), Path(target).resolve()
    stages: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"ok": False, "legacy": str(legacy_path), "target": str(target_path),
                               "reports": str(layout.out), "stages": stages}
    try:
        if not legacy_path.is_dir():
            raise PipelineError(f"{legacy}: no such directory")
        if layout.out == legacy_path or legacy_path in layout.out.parents or target_path == legacy_path:
            raise PipelineError("the reports and the target must be outside the legacy tree")
        inputs = [(stem, title, source_dir / f"{stem}.ipynb") for stem, title in STAGES]
        missing = [str(p) for _, _, p in inputs if not p.is_file()]
        if missing:
            raise PipelineError(f"notebook(s) not found: {', '.join(missing)}")
        declared = {stem: _declared(path) for stem, _, path in inputs}
        extra = {k: _literal(v) for k, v in (parameters or {}).items()}
        reserved = sorted(set(extra) & {"root", "legacy", "target", "out"})
        if reserved:
            raise PipelineError(f"parameter(s) {', '.join(reserved)} are set by the run itself "
                                "(use the legacy, target and reports arguments)")
        unknown = sorted(set(extra) - {name for d in declared.values() for name in d})
        if unknown:
            known = sorted({name for d in declared.values() for name in d})
            raise PipelineError(f"unknown parameter(s) {', '.join(unknown)}; the notebooks take: {', '.join(known)}")
        kernel = kernel_name or kernel_for_this_interpreter()
    except PipelineError as exc:
        summary["error"] = str(exc)
        summary["usage_error"] = True
        log(f"workbench run: {exc}")
        return summary

    base = {"root": os.getcwd(), "legacy": str(legacy_path), "target": str(target_path), "out": str(layout.out)}
    layout.notebooks_dir.mkdir(parents=True, exist_ok=True)
    show_progress = sys.stderr.isatty() if progress is None else bool(progress)
    started = time.perf_counter()
    failed = None
    # Two overlaps keep the run short without changing what each stage sees: the next
    # stage's kernel boots while the current stage runs (a fresh kernel per notebook, as
    # papermill would start), and each finished stage is exported while the next one runs.
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-export")
    exports = []
    kernel_log = (layout.notebooks_dir / "kernels.log").open("w", encoding="utf-8")
    next_kernel = _start_kernel(kernel, source_dir, kernel_log)
    try:
        for n, (stem, title, path) in enumerate(inputs):
            params = {k: v for k, v in {**base, **extra}.items() if k in declared[stem]}
            stage = {"stage": stem, "title": title, "ok": False, "seconds": None,
                     "notebook": str(layout.stage_notebook(stem).relative_to(layout.out)),
                     "html": str(layout.stage_html(stem).relative_to(layout.out)), "error": None}
            stages.append(stage)
            if failed:
                stage["error"] = "not run: an earlier stage failed"
                continue
            t0 = time.perf_counter()
            current, next_kernel = next_kernel, (_start_kernel(kernel, source_dir, kernel_log)
                                                  if n + 1 < len(inputs) else None)
            try:
                pm.execute_notebook(str(path), str(layout.stage_notebook(stem)), parameters=params,
                                    kernel_name=kernel, progress_bar=show_progress, cwd=str(source_dir),
                                    log_output=False, start_timeout=120, km=current)
                stage["ok"] = True
            except Exception as exc:  # noqa: BLE001 - any failure stops the run with its message
                stage["error"] = failed = _stage_error(stem, exc)
            finally:
                background.submit(_stop_kernel, current)
            stage["seconds"] = round(time.perf_counter() - t0, 2)
            log(f"  {stem:<14} {stage['seconds']:6.1f} s  {'ok' if stage['ok'] else 'FAILED'}")
            if layout.stage_notebook(stem).is_file():  # a failed stage's partial notebook is exported too
                exports.append(background.submit(export_html, layout.stage_notebook(stem),
                                                 layout.stage_html(stem), code=False, title=f"{stem}: {title}"))
            if failed:
                log(f"workbench run: {failed}")
    finally:  # also on Ctrl-C: no kernel outlives the run
        if next_kernel is not None:
            background.submit(_stop_kernel, next_kernel)
        background.shutdown(wait=True)
        kernel_log.close()

    t0 = time.perf_counter()
    for job in exports:
        job.result()  # an export error is a bug in the workbench: let it surface
    summary["ok"] = failed is None
    summary["error"] = failed
    summary.update(build_index(layout, stages=stages, ok=summary["ok"], error=failed,
                               legacy=legacy_path, target=target_path))
    # "ok" is about the run (every stage ran); whether the migrated app passed its checks is
    # "verified", shown on the summary page: a legacy app can have problems no codemod fixes.
    verification = summary.get("verification")
    summary["verified"] = None if verification is None else bool(verification.get("ok"))
    if summary["verified"] is False:
        log("workbench run: the migrated app did not pass every verification check (see index.html)")
    summary["report_seconds"] = round(time.perf_counter() - t0, 2)  # what the exports added at the end
    summary["seconds"] = round(time.perf_counter() - started, 2)
    layout.summary_json.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    log(f"  {'reports':<14} {summary['report_seconds']:6.1f} s")
    log(f"  {'total':<14} {summary['seconds']:6.1f} s  {'ok' if summary['ok'] else 'FAILED'}  -> {layout.index_html}")
    return summary
