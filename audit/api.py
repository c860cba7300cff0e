"""The workbench's public API: notebooks, the CLI and the end-to-end tests call these
functions and nothing else. Each is a thin entry point into the module that does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # imported lazily so that `import audit` stays cheap
    from .mapping import MapResult
    from .migrate import MigrationResult
    from .plan import Plan
    from .verify import VerifyResult
    from .integrity import IntegrityReport

__all__ = ["integrity", "map", "migrate", "plan", "run", "verify"]


def map(  # noqa: A001 - the contract's verb
    src: str | Path,
    *,
    out: str | Path | None = None,
    config: str | Path | None = None,
    jobs: int | None = None,
    bandit: bool = True,
    semgrep: bool = True,
    cache: bool = True,
    progress: bool | None = None,
    formats: str = "all",
) -> "MapResult":
    """Audit the codebase at ``src`` (read only) and return its routes and findings.

    With ``out``, also write routes.csv, findings.csv, findings.sarif and summary.json there.
    """
    from .mapping import run_map

    return run_map(src, out=out, config=config, jobs=jobs, bandit=bandit, semgrep=semgrep,
                   cache=cache, progress=progress, formats=formats)


def plan(map_result: "MapResult | str | Path", *, batch_size: int = 4, min_severity: str = "low") -> "Plan":
    """Group the work of a map (a result, or a map output folder) into independent batches."""
    from .plan import make_plan

    return make_plan(map_result, batch_size=batch_size, min_severity=min_severity)


def migrate(
    src: str | Path,
    target: str | Path | None = None,
    *,
    only: Iterable[str] | None = None,
    skip: Iterable[str] | None = None,
    files: Iterable[str] | None = None,
    dry_run: bool = False,
    jobs: int | None = None,
    config: str | Path | None = None,
    progress: bool | None = None,
) -> "MigrationResult":
    """Write a migrated copy of ``src`` to ``target`` (``src`` is never written).

    ``only``/``skip`` select codemods by name; ``files`` restricts the rewrite to
    some files (a batch); ``dry_run`` computes the diff and writes nothing.
    """
    from .migrate import run_migration

    return run_migration(src, target, only=only, skip=skip, files=files, dry_run=dry_run,
                         jobs=jobs, config=config, progress=progress)


def verify(
    app: str | Path,
    *,
    factory: str | None = None,
    out: str | Path | None = None,
    expected: "MapResult | str | Path | None" = None,
    env: dict[str, str] | None = None,
    config: str | Path | None = None,
    seed: str | None = None,
    timeout: float = 300,
    **options: Any,
) -> "VerifyResult":
    """Build the app at ``app`` in a subprocess, probe every route in-process, compare with the map.

    ``config``: workbench.toml (sensitive routes); ``seed``: ``module:function`` filling the
    probe's database (found by itself when omitted); ``timeout``: seconds for the subprocess;
    ``options``: the rest of :func:`audit.verify.run_verify` (legacy, checks, repeats...)."""
    from .verify import run_verify

    return run_verify(app, factory=factory, out=out, expected=expected, env=env, config=config, seed=seed,
                      timeout=timeout, **options)


def integrity(
    src: str | Path,
    *,
    legacy: str | Path | None = None,
    imports: bool = True,
    config: str | Path | None = None,
    factory: str | None = None,
) -> "IntegrityReport":
    """The pre-deploy gate: critical files present and non-empty, project-local imports
    resolve, every Python file compiles, docs name existing files (``.ok``, ``.problems``)."""
    from .integrity import check_integrity

    return check_integrity(src, legacy=legacy, imports=imports, config=config, factory=factory)


def run(
    legacy: str | Path,
    target: str | Path,
    reports: str | Path,
    *,
    parameters: dict[str, Any] | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """The whole Map -> Breakdown -> Mitigate -> Deploy pipeline through the notebooks."""
    from .pipeline import run_pipeline

    return run_pipeline(legacy, target, reports, parameters=parameters, progress=progress)
