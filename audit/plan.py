"""Breakdown: the migration work of a map, grouped into batches that can be applied and
verified one after the other.

A batch is a set of *route modules* (the files that define route handlers), chosen by
risk: the riskiest modules go first, ``batch_size`` modules per batch. Files that define
no route but carry findings (configuration, the auth helper, the app factory, the storage
layer) form the *foundation* batch 0: every route batch depends on it, because that is
where the security setup, the secret handling and the auth guard live.

Risk is a number, not a verdict: each finding weighs its severity times how much its
category matters to an attacker (an auth bypass outweighs a debug print), and a route's
risk is the sum over the findings inside its handler. A module's risk adds the findings
outside any handler in that file.

Example::

    plan = audit.plan("reports/map", batch_size=3)
    plan.to_frame()             # one row per batch
    plan.to_json("reports/plan.json")
    load_plan("reports/plan.json").batches[1].files
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .model import Category, Finding, Route, Severity

__all__ = ["Batch", "BatchOutcome", "Mitigation", "Plan", "PlanError", "apply_plan", "load_plan", "make_plan", "read_map", "risk_by_module", "risk_by_route"]

FOUNDATION = "foundation"

# How much a finding's severity counts (low 1, medium 3, high 9: one high outweighs a pile of lows).
_SEVERITY_WEIGHT = {Severity.LOW: 1.0, Severity.MEDIUM: 3.0, Severity.HIGH: 9.0}

# How much a category matters to an attacker, relative to 1.0. Categories that hand out
# access or run attacker input weigh most; noise-level ones least. Unlisted: 1.0.
_CATEGORY_WEIGHT = {
    Category.AUTH_BYPASS: 2.0,
    Category.MISSING_AUTH: 2.0,
    Category.INJECTION: 2.0,
    Category.WS_UNAUTHORIZED: 1.5,
    Category.SSRF: 1.5,
    Category.HARDCODED_SECRET: 1.5,
    Category.UNRESTRICTED_UPLOAD: 1.5,
    Category.WEAK_PASSWORD: 1.25,
    Category.DEBUG_LOGGING: 0.5,
    Category.BROKEN_IMPORT: 0.5,
    Category.OTHER: 0.5,
}


class PlanError(ValueError):
    """The input cannot be planned (not a map result, unreadable plan file, bad parameter)."""


def finding_weight(finding: Finding) -> float:
    """The risk one finding contributes: severity weight times category weight."""
    return _SEVERITY_WEIGHT[finding.severity] * _CATEGORY_WEIGHT.get(finding.category, 1.0)


@dataclass(frozen=True)
class Batch:
    """One unit of migration work.

    ``modules`` are the route modules it covers (empty for the foundation batch),
    ``files`` every file it rewrites, ``routes`` the routes those modules serve
    (``"POST /api/messages"``), ``findings`` the number of findings it removes per
    category (those with a codemod), ``manual`` those that still need a human per
    category, ``codemods`` the codemods it needs, ``depends_on`` the batches that
    must be applied first.
    """

    id: int
    name: str
    modules: tuple[str, ...]
    files: tuple[str, ...]
    routes: tuple[str, ...]
    findings: dict[str, int]
    codemods: tuple[str, ...]
    manual: dict[str, int] = field(default_factory=dict)
    risk: float = 0.0
    depends_on: tuple[int, ...] = ()

    @property
    def removed(self) -> int:
        """How many findings the batch's codemods remove."""
        return sum(self.findings.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("modules", "files", "routes", "codemods", "depends_on"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Batch":
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            modules=tuple(data.get("modules", ())),
            files=tuple(data.get("files", ())),
            routes=tuple(data.get("routes", ())),
            findings={str(k): int(v) for k, v in data.get("findings", {}).items()},
            codemods=tuple(data.get("codemods", ())),
            manual={str(k): int(v) for k, v in data.get("manual", {}).items()},
            risk=float(data.get("risk", 0.0)),
            depends_on=tuple(int(d) for d in data.get("depends_on", ())),
        )


@dataclass(frozen=True)
class Plan:
    """The batches of a migration, foundation first, then route modules by falling risk."""

    batches: tuple[Batch, ...]
    batch_size: int
    min_severity: str
    src: str = ""

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)

    def batch(self, batch_id: int) -> Batch:
        for b in self.batches:
            if b.id == batch_id:
                return b
        raise PlanError(f"no batch {batch_id} in the plan (batches: {[b.id for b in self.batches]})")

    def files_through(self, batch_id: int) -> list[str]:
        """Every file rewritten by the batches up to and including ``batch_id`` (in plan order)."""
        files: list[str] = []
        for b in self.batches:
            files.extend(f for f in b.files if f not in files)
            if b.id == batch_id:
                return files
        raise PlanError(f"no batch {batch_id} in the plan")

    @property
    def codemods(self) -> list[str]:
        return sorted({c for b in self.batches for c in b.codemods})

    def to_frame(self) -> pd.DataFrame:
        """One row per batch: what it covers, what it removes, what it needs."""
        rows = []
        for b in self.batches:
            rows.append({
                "batch": b.id,
                "name": b.name,
                "risk": round(b.risk, 1),
                "modules": ", ".join(b.modules),
                "files": len(b.files),
                "routes": len(b.routes),
                "removes": b.removed,
                "removes_by_category": ", ".join(f"{k} {v}" for k, v in sorted(b.findings.items())),
                "codemods": ", ".join(b.codemods),
                "needs_a_human": sum(b.manual.values()),
                "depends_on": ", ".join(str(d) for d in b.depends_on),
            })
        columns = ["batch", "name", "risk", "modules", "files", "routes", "removes",
                   "removes_by_category", "codemods", "needs_a_human", "depends_on"]
        return pd.DataFrame(rows, columns=columns)

    def routes_frame(self) -> pd.DataFrame:
        """One row per (batch, route): which batch secures which route."""
        rows = [{"batch": b.id, "route": r, "module": next((m for m in b.modules if m), "")}
                for b in self.batches for r in b.routes]
        return pd.DataFrame(rows, columns=["batch", "route", "module"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "src": self.src,
            "batch_size": self.batch_size,
            "min_severity": self.min_severity,
            "batches": [b.to_dict() for b in self.batches],
        }

    def to_json(self, path: str | Path) -> Path:
        """Write the plan as JSON (read back with :func:`load_plan`); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        return path

    def describe(self) -> str:
        lines = [f"{len(self.batches)} batch(es), {self.batch_size} route module(s) per batch:"]
        for b in self.batches:
            lines.append(f"  {b.id}: {b.name} - {len(b.routes)} route(s), removes {b.removed}, "
                         f"{sum(b.manual.values())} for a human")
        return "\n".join(lines)


def load_plan(path: str | Path) -> Plan:
    """Read a plan written by :meth:`Plan.to_json`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Plan(
            batches=tuple(Batch.from_dict(b) for b in data["batches"]),
            batch_size=int(data["batch_size"]),
            min_severity=str(data["min_severity"]),
            src=str(data.get("src", "")),
        )
    except FileNotFoundError:
        raise PlanError(f"{path}: no such plan file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanError(f"{path}: not a plan file: {exc}") from None


def make_plan(map_result_or_dir: Any, batch_size: int = 4, min_severity: str = "low") -> Plan:
    """Group a map's routes and findings into batches.

    ``map_result_or_dir`` is a map result (anything with ``route_list`` and
    ``finding_list``) or a map output folder. ``batch_size`` is the number of route
    modules per batch; findings below ``min_severity`` and suppressed findings are
    left out of the plan.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise PlanError(f"batch_size must be a positive integer, not {batch_size!r}")
    try:
        threshold = Severity(str(min_severity).lower())
    except ValueError:
        raise PlanError(f"min_severity must be one of low, medium, high, not {min_severity!r}") from None

    routes, findings, src = read_map(map_result_or_dir)
    findings = [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]

    route_modules = sorted({r.file for r in routes})
    module_risk = _module_risk(routes, findings)
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f)

    batches: list[Batch] = []
    foundation_files = sorted(f for f in by_file if f not in set(route_modules))
    if foundation_files:
        batches.append(_batch(0, FOUNDATION, (), foundation_files, [], by_file, sum(
            finding_weight(f) for name in foundation_files for f in by_file[name])))

    # Riskiest first; ties broken by name so that the plan is deterministic.
    ordered = sorted(route_modules, key=lambda m: (-module_risk.get(m, 0.0), m))
    depends = (0,) if foundation_files else ()
    for start in range(0, len(ordered), batch_size):
        chunk = ordered[start:start + batch_size]
        chunk_routes = [r.key for r in routes if r.file in chunk]
        batch_id = len(batches) if foundation_files else len(batches) + 1
        batches.append(_batch(batch_id, ", ".join(chunk), tuple(chunk), chunk, chunk_routes, by_file,
                              sum(module_risk.get(m, 0.0) for m in chunk), depends))
    return Plan(batches=tuple(batches), batch_size=batch_size, min_severity=threshold.value, src=src)


def _batch(batch_id: int, name: str, modules: tuple[str, ...], files: Iterable[str], routes: list[str],
           by_file: dict[str, list[Finding]], risk: float, depends_on: tuple[int, ...] = ()) -> Batch:
    files = list(files)
    fixed: Counter[str] = Counter()
    manual: Counter[str] = Counter()
    codemods: set[str] = set()
    for name_ in files:
        for f in by_file.get(name_, ()):
            if f.fixed_by:
                fixed[f.category.value] += 1
                codemods.add(f.fixed_by)
            else:
                manual[f.category.value] += 1
    return Batch(id=batch_id, name=name, modules=modules, files=tuple(files), routes=tuple(routes),
                 findings=dict(sorted(fixed.items())), codemods=tuple(sorted(codemods)),
                 manual=dict(sorted(manual.items())), risk=round(risk, 2), depends_on=depends_on)


def _route_of(finding: Finding, routes: list[Route], by_key: dict[str, list[Route]]) -> list[Route]:
    """The routes a finding belongs to: by its ``route`` key, else by its position in a handler."""
    if finding.route and finding.route in by_key:
        return by_key[finding.route]
    return [r for r in routes if r.contains(finding.file, finding.line)]


def _module_risk(routes: list[Route], findings: list[Finding]) -> dict[str, float]:
    risk: dict[str, float] = {r.file: 0.0 for r in routes}
    for f in findings:
        if f.file in risk:
            risk[f.file] += finding_weight(f)
    return risk


def risk_by_route(map_result_or_dir: Any, min_severity: str = "low") -> pd.DataFrame:
    """One row per route, riskiest first: its flags, its findings per category and its risk."""
    routes, findings, _ = read_map(map_result_or_dir)
    threshold = Severity(str(min_severity).lower())
    findings = [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]
    by_key: dict[str, list[Route]] = {}
    for r in routes:
        by_key.setdefault(r.key, []).append(r)
    score: Counter[str] = Counter()
    cats: dict[str, Counter[str]] = {r.key: Counter() for r in routes}
    for f in findings:
        for r in _route_of(f, routes, by_key):
            score[r.key] += finding_weight(f)
            cats[r.key][f.category.value] += 1
    rows = [{
        "route": r.key,
        "file": r.file,
        "line": r.line,
        "handler": r.handler,
        "auth": r.auth,
        "validated": r.validated,
        "rate_limited": r.rate_limited,
        "public": r.public,
        "findings": sum(cats[r.key].values()),
        "categories": ", ".join(f"{k} {v}" for k, v in sorted(cats[r.key].items())),
        "risk": round(score[r.key], 1),
    } for r in routes]
    columns = ["route", "file", "line", "handler", "auth", "validated", "rate_limited", "public",
               "findings", "categories", "risk"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["risk", "route"], ascending=[False, True], kind="stable").reset_index(drop=True)


def risk_by_module(map_result_or_dir: Any, min_severity: str = "low") -> pd.DataFrame:
    """One row per file with findings or routes, riskiest first."""
    routes, findings, _ = read_map(map_result_or_dir)
    threshold = Severity(str(min_severity).lower())
    findings = [f for f in findings if not f.suppressed and f.severity.rank >= threshold.rank]
    files = sorted({r.file for r in routes} | {f.file for f in findings})
    route_count = Counter(r.file for r in routes)
    risk = Counter()
    count = Counter()
    for f in findings:
        risk[f.file] += finding_weight(f)
        count[f.file] += 1
    frame = pd.DataFrame([{
        "module": name,
        "kind": "routes" if route_count[name] else FOUNDATION,
        "routes": route_count[name],
        "findings": count[name],
        "risk": round(risk[name], 1),
    } for name in files], columns=["module", "kind", "routes", "findings", "risk"])
    return frame.sort_values(["risk", "module"], ascending=[False, True], kind="stable").reset_index(drop=True)


def read_map(source: Any) -> tuple[list[Route], list[Finding], str]:
    """Routes, findings and SRC of a map result or a map output folder."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_dir():
            raise PlanError(f"{path}: not a map output folder")
        from .mapping import load_map  # the map's own reader, so the CSV format lives in one place

        source = load_map(path)
    try:
        routes = list(source.route_list)
        findings = list(source.finding_list)
    except AttributeError:
        raise PlanError(f"cannot plan from {type(source).__name__}: expected a map result "
                        "(route_list, finding_list) or a map output folder") from None
    return routes, findings, str(getattr(source, "src", "") or "")


# --- Applying a plan ------------------------------------------------------------------

@dataclass(frozen=True)
class BatchOutcome:
    """What applying one batch did: the files it rewrote and their diff."""

    batch: int
    name: str
    files: tuple[str, ...]
    files_changed: tuple[str, ...]
    diff: str
    seconds: float | None  # None when one migration applied several batches at once


@dataclass
class Mitigation:
    """The result of :func:`apply_plan`: one outcome per batch applied, and the final
    migration report (``MIGRATION.json`` of the target)."""

    target: str
    outcomes: list[BatchOutcome]
    report: dict[str, Any]
    by_batch: bool

    @property
    def diff(self) -> str:
        return "".join(o.diff for o in self.outcomes)

    def left_for_human(self) -> pd.DataFrame:
        """What the migration report says it left for a person, per file, with the reason."""
        from .report.tables import migration_notes

        return migration_notes(self.report)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "batch": o.batch, "name": o.name, "files": len(o.files), "files_changed": len(o.files_changed),
            "changed": ", ".join(o.files_changed),
            "seconds": None if o.seconds is None else round(o.seconds, 2),
        } for o in self.outcomes], columns=["batch", "name", "files", "files_changed", "changed", "seconds"])

    def to_json(self, path: str | Path) -> Path:
        """Record what was applied (without the diffs, which the target's MIGRATION.json explains)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "target": self.target,
            "by_batch": self.by_batch,
            "batches": [{"batch": o.batch, "name": o.name, "files": list(o.files),
                         "files_changed": list(o.files_changed),
                         "seconds": None if o.seconds is None else round(o.seconds, 3)}
                        for o in self.outcomes],
            "migration_report": str(Path(self.target) / "MIGRATION.json"),
        }
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path


def _selected(plan: Plan, batches: Any) -> list[Batch]:
    if batches in (None, "all"):
        return list(plan.batches)
    ids = [batches] if isinstance(batches, int) else list(batches)
    chosen = {plan.batch(int(i)).id for i in ids}
    # A route batch needs what it depends on (the foundation): add it rather than fail later.
    for i in list(chosen):
        chosen.update(plan.batch(i).depends_on)
    return [b for b in plan.batches if b.id in chosen]


def apply_plan(plan: Plan, src: str | Path, target: str | Path, *, batches: Any = "all", by_batch: bool = False,
               only: Iterable[str] | str | None = None, skip: Iterable[str] | str | None = None,
               jobs: int | None = None, config: str | Path | None = None, progress: bool | None = None,
               migrate: Any = None) -> Mitigation:
    """Run the codemods over ``src`` into ``target`` for the selected batches.

    ``batches`` is ``"all"``, a batch id or a list of ids (the batches they depend on are
    added). With ``by_batch``, the batches are applied one after the other: step *k*
    migrates the files of every batch so far, so that the target after step *k* is
    exactly "batches 0..k applied", ready to be verified on its own (one migration per
    batch: slower). Without it, one migration applies them all and its diff is split per
    batch. Either way, when every batch is selected the (last) migration covers the whole
    tree, so the result equals ``workbench migrate``'s. Modules the migration adds (the
    security setup, generated schemas) are shown with the first batch.
    ``migrate`` replaces ``audit.migrate`` (for tests).
    """
    from .report.views import split_diff  # the diff splitter lives with the views that show it

    if migrate is None:
        from .api import migrate
    chosen = _selected(plan, batches)
    everything = len(chosen) == len(plan.batches)
    # Codemod lists may arrive as "a,b" from a command line parameter.
    only = [o.strip() for o in only.split(",") if o.strip()] if isinstance(only, str) else only
    skip = [s.strip() for s in skip.split(",") if s.strip()] if isinstance(skip, str) else skip

    def run(files: list[str] | None) -> tuple[Any, float]:
        started = time.perf_counter()
        result = migrate(src, target, only=only, skip=skip, files=files, jobs=jobs, config=config,
                         progress=progress)
        return result, time.perf_counter() - started

    outcomes: list[BatchOutcome] = []
    result = None
    if by_batch and chosen:
        shown: set[str] = set()
        for n, batch in enumerate(chosen):
            files = sorted({f for b in chosen[: n + 1] for f in b.files})
            last = n == len(chosen) - 1
            result, seconds = run(None if last and everything else files)
            pieces = [p for p in split_diff(result.diff) if p.file not in shown]
            shown.update(p.file for p in pieces)
            outcomes.append(_outcome(batch, pieces, seconds))
    else:
        files = None if everything else sorted({f for b in chosen for f in b.files})
        result, seconds = run(files)
        pieces = split_diff(result.diff)
        owner = {f: b.id for b in chosen for f in b.files}
        first = chosen[0].id if chosen else -1
        for batch in chosen:
            mine = [p for p in pieces if owner.get(p.file, first) == batch.id]
            outcomes.append(_outcome(batch, mine, None))
        if not chosen:
            outcomes.append(BatchOutcome(-1, "whole tree", (), tuple(p.file for p in pieces),
                                         "".join(p.text for p in pieces), seconds))
        elif outcomes:
            outcomes[0] = replace(outcomes[0], seconds=seconds)  # one migration did all the work
    return Mitigation(target=str(target), outcomes=outcomes, report=dict(getattr(result, "report", {}) or {}),
                      by_batch=bool(by_batch and chosen))


def _outcome(batch: Batch, pieces: list, seconds: float | None) -> BatchOutcome:
    return BatchOutcome(batch=batch.id, name=batch.name, files=batch.files,
                        files_changed=tuple(sorted(p.file for p in pieces)),
                        diff="".join(p.text for p in pieces), seconds=seconds)
