"""The map: routes and findings of a codebase, read only.

Stages (:func:`run_map`): discover the files -> per-file facts (parallel, ``ast``) ->
route inventory (central, cross-module) -> per-file rules (parallel) while bandit and
semgrep run as subprocesses -> merge duplicates -> suppression comments -> attribute
findings to routes -> outputs. Per-file results are cached by content hash, so a
re-map after a one-file change re-analyses that file only.

:func:`load_map` reads an output folder back; :func:`gate` implements ``--fail-on`` /
``--baseline``.
"""

from __future__ import annotations

import ast
import functools
import gc
import hashlib
import importlib
import inspect
import json
import os
import pkgutil
import re
import sys
import time
import warnings
import zlib
from collections import Counter, OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import __version__
from .cache import NullCache, code_hash, default_cache_dir, open_cache
from .config import Config, ConfigError, load_config
from .discover import Discovery, discover, looks_like_python2, module_names, read_source
from .executor import CoreSlots, InProcessExecutor, default_jobs, make_executor
from .inventory import build_inventory, gather_file_facts
from .inventory.facts import FileFacts
from .model import FINDING_COLUMNS, ROUTE_COLUMNS, Category, FileSkip, Finding, Route, Severity, make_fingerprint
from .rules import ProjectFacts, Rule, RuleContext
from .rules._syntax import nodes, release

__all__ = ["MapInputError", "MapResult", "gate", "load_map", "run_map"]

FORMATS = {"all": ("csv", "sarif", "json"), "csv": ("csv",), "sarif": ("sarif",), "json": ("json",)}
_SUPPRESS = re.compile(r"#\s*workbench:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)
_PKG = Path(__file__).parent


_IN_PROCESS_MAX = 4  # files; fewer than this are analysed without the process pool
_PROJECT_RULE_FIELDS = ("error_shapes", "upload_size_limit_set", "password_rule_models", "request_fed_params",
                        "request_returning")


class MapInputError(ValueError):
    """SRC cannot be mapped (missing, not a folder, unreadable): the CLI exits 2."""


# ------------------------------------------------------------------ result

@dataclass
class MapResult:
    """What ``audit.map`` returns: the inventory and the findings, as objects and DataFrames."""

    src: Path
    route_list: list[Route]
    finding_list: list[Finding]
    summary: dict[str, Any]
    skipped: list[FileSkip] = field(default_factory=list)
    out: Path | None = None

    @property
    def routes(self):
        import pandas as pd

        return pd.DataFrame([r.to_row() for r in self.route_list], columns=ROUTE_COLUMNS)

    @property
    def findings(self):
        import pandas as pd

        return pd.DataFrame([f.to_row() for f in self.finding_list], columns=FINDING_COLUMNS)

    @property
    def active_findings(self) -> list[Finding]:
        """The findings that are not suppressed."""
        return [f for f in self.finding_list if not f.suppressed]

    def to_csv(self, directory: str | Path) -> tuple[Path, Path]:
        from .outputs.findings_csv import write_findings_csv
        from .outputs.routes_csv import write_routes_csv

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        return write_routes_csv(self.route_list, d / "routes.csv"), write_findings_csv(self.finding_list, d / "findings.csv")

    def to_sarif(self, path: str | Path | None = None) -> dict:
        from .outputs.sarif import build_sarif

        tools = {name: info for name, info in self.summary.get("tools", {}).items()}
        log = build_sarif(self.finding_list, tools, _rule_docs())
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # compact: json's C encoder does not indent, and indenting a big log took 10x longer
            Path(path).write_text(json.dumps(log, separators=(",", ":")) + "\n", encoding="utf-8")
        return log

    def write(self, directory: str | Path, formats: str = "all") -> Path:
        """Write the chosen outputs (routes.csv, findings.csv, findings.sarif, summary.json)."""
        from .outputs.summary import write_summary

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        chosen = FORMATS.get(formats, FORMATS["all"])
        if "csv" in chosen:
            self.to_csv(d)
        if "sarif" in chosen:
            self.to_sarif(d / "findings.sarif")
        if "json" in chosen:
            write_summary(self.summary, d / "summary.json")
        self.out = d
        return d

    def describe(self) -> str:
        s = self.summary
        lines = [
            f"Mapped {s.get('src', self.src)}: {s.get('files', 0)} files, {s.get('lines', 0)} lines, "
            f"{len(self.route_list)} routes, {len(self.active_findings)} findings"
            f" ({s.get('suppressed', 0)} suppressed) in {s.get('wall_time_s', 0):.1f}s",
        ]
        by_cat = s.get("by_category", {})
        if by_cat:
            lines.append("  " + ", ".join(f"{k}: {v}" for k, v in sorted(by_cat.items(), key=lambda kv: -kv[1])))
        unanalysed = [k for k in self.skipped if k.reason not in ("empty", "encoding", "ignored", "symlink")]
        if unanalysed:
            reasons = Counter(k.reason for k in unanalysed)
            lines.append("  not analysed: " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())))
        for name, info in s.get("tools", {}).items():
            if info.get("status") != "ok":
                lines.append(f"  {name}: {info.get('status')} {info.get('detail', '')}".rstrip())
        if s.get("rule_errors"):
            lines.append(f"  {len(s['rule_errors'])} rule error(s): see summary.json")
        if self.out:
            lines.append(f"  outputs in {self.out}")
        return "\n".join(lines)


# ------------------------------------------------------------------ workers (module level: picklable)

_RULES: list[Rule] | None = None
_RULE_LOAD_ERRORS: list[dict[str, str]] = []


def _load_rules() -> tuple[list[type[Rule]], list[dict[str, str]]]:
    """Every rule class; a rule module that fails to import is reported, not fatal."""
    from . import rules as rules_pkg

    try:
        return list(rules_pkg.all_rules()), []
    except Exception:  # one broken module: import them one by one to keep the others
        found, errors = {}, []
        for info in pkgutil.iter_modules(rules_pkg.__path__):
            if info.name.startswith("_"):
                continue
            name = f"{rules_pkg.__name__}.{info.name}"
            try:
                module = importlib.import_module(name)
            except Exception as exc:
                errors.append({"rule": name, "file": "", "error": f"import failed: {exc!r}"})
                continue
            for obj in vars(module).values():
                if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == name \
                        and getattr(obj, "id", None):
                    found.setdefault(obj.id, obj)
        return [found[k] for k in sorted(found)], errors


def _rule_docs() -> dict[str, dict[str, str]]:
    try:
        classes, _ = _load_rules()
    except Exception:
        return {}
    docs = {}
    for cls in classes:
        first = (cls.doc().splitlines() or [""])[0]
        docs[cls.id] = {"name": getattr(cls, "name", ""), "description": first}
    return docs


def _parse(text: str, rel: str) -> tuple[ast.Module | None, FileSkip | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is the project's business
            return ast.parse(text, filename=rel), None
    except SyntaxError as exc:
        if looks_like_python2(text):
            return None, FileSkip(rel, "python2", f"Python 2 syntax (line {exc.lineno}): not analysed")
        return None, FileSkip(rel, "syntax-error", f"line {exc.lineno}: {exc.msg}")
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, FileSkip(rel, "syntax-error", f"cannot parse: {type(exc).__name__}: {exc}")


# Parsed trees kept between the facts stage and the rules stage in the process that parsed
# them (the sharded executor sends a file's rules to the worker that parsed it), with their
# node index (audit.rules._syntax). Bounded by source lines so a huge tree cannot exhaust
# memory: past the bound the oldest are dropped and parsed again for the rules.
_TREES: "OrderedDict[tuple, tuple[str, ast.Module]]" = OrderedDict()
_TREE_LINES = [0]
_TREE_LINE_LIMIT = 300_000  # about 500 MB of trees in one process


def _tree_key(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (path, st.st_mtime_ns, st.st_size)


def _keep_tree(path: str, text: str, tree: ast.Module) -> bool:
    key = _tree_key(path)
    if key is None:
        return False
    lines = text.count("\n") + 1
    _TREES[key] = (text, tree)
    _TREE_LINES[0] += lines
    while _TREE_LINES[0] > _TREE_LINE_LIMIT and _TREES:
        _, (old_text, old_tree) = _TREES.popitem(last=False)
        _TREE_LINES[0] -= old_text.count("\n") + 1
        release(old_tree)
    return key in _TREES


def _take_tree(path: str) -> tuple[str, ast.Module] | None:
    key = _tree_key(path)
    hit = _TREES.pop(key, None) if key else None
    if hit is not None:
        _TREE_LINES[0] -= hit[0].count("\n") + 1
    return hit


def facts_chunk(items: list[tuple[str, str, str]], with_rules: bool = True
                ) -> list[tuple[str, FileFacts | None, list[FileSkip], int]]:
    """Worker: read, decode, parse and gather the facts of some files (and, for the rules stage,
    what the rules need to know about each module; the parsed tree is kept for that stage)."""
    out = []
    for rel, path, module in items:
        skips: list[FileSkip] = []
        st = read_source(Path(path), rel)
        if st.skip:
            skips.append(st.skip)
        if st.text is None:
            out.append((rel, None, skips, 0))
            continue
        lines = st.text.count("\n") + (0 if st.text.endswith("\n") or not st.text else 1)
        tree, skip = _parse(st.text, rel)
        if tree is None:
            skips.append(skip)
            out.append((rel, None, skips, lines))
            continue
        kept = with_rules and _keep_tree(path, st.text, tree)
        if with_rules:
            nodes(tree)  # the shared node index, built now: the facts below read functions from it
        try:
            facts = gather_file_facts(tree, rel, module, st.text)
        except RecursionError:
            skips.append(FileSkip(rel, "too-deep", "nesting too deep for the analysis; routes not gathered"))
            facts = FileFacts(rel=rel, module=module, is_package=rel.endswith("__init__.py"), lines=lines)
        if with_rules:
            facts.rule_facts = _rule_facts(tree, st.text, module, rel)
        if not kept:
            release(tree)
        out.append((rel, facts, skips, lines))
    return out


def _rule_facts(tree: ast.Module, text: str, module: str, rel: str) -> dict[str, Any]:
    """What the rules need to know about every module (ProjectFacts fields), computed with the
    rules' own helpers while the tree is at hand; a helper that is missing or fails is skipped
    (the rule then judges within its file)."""
    out: dict[str, Any] = {}
    gatherers = (
        ("error_shapes", "audit.rules.divergent_error_shape", "error_shape_counts", lambda f: f(tree)),
        ("password_rule_models", "audit.rules.missing_password_strength_check", "models_with_password_rules",
         lambda f: f(tree)),
        ("request_fed_params", "audit.rules._request_data", "request_fed_parameters",
         lambda f: f(tree, module, rel.endswith("__init__.py"))),
        ("request_returning", "audit.rules._request_data", "request_returning_functions",
         lambda f: f(tree, module)),
    )
    for key, module_name, func_name, call in gatherers:
        try:
            func = getattr(importlib.import_module(module_name), func_name)
            out[key] = call(func)
        except Exception:  # a rule module being edited or broken must not stop the map
            continue
    try:
        sets_upload_limit = importlib.import_module("audit.rules.unrestricted_upload").sets_upload_limit
        out["upload_size_limit"] = sets_upload_limit(text)
    except Exception:
        pass
    return out


def rules_chunk(items: list[tuple[str, str, str, list[Route]]], project: ProjectFacts,
                disabled: frozenset[str]) -> list[tuple[str, list[Finding], list[dict[str, str]]]]:
    """Worker: run every enabled rule on some files."""
    global _RULES, _RULE_LOAD_ERRORS
    if _RULES is None:
        classes, _RULE_LOAD_ERRORS = _load_rules()
        _RULES = [cls() for cls in classes]
    active = [r for r in _RULES if not ({r.id, getattr(r, "name", ""), r.category.value} & disabled)]
    out = []
    for rel, path, module, routes in items:
        findings: list[Finding] = []
        errors: list[dict[str, str]] = []
        kept = _take_tree(path)
        if kept is not None:
            text, tree = kept
        else:
            text = read_source(Path(path), rel).text
            if text is None:
                out.append((rel, findings, errors))
                continue
            tree, _ = _parse(text, rel)
        if tree is None:
            out.append((rel, findings, errors))
            continue
        ctx = RuleContext(file=rel, module=module, source=text, tree=tree, routes=routes, project=project)
        for rule in active:
            try:
                findings.extend(rule.check(ctx) or ())
            except Exception as exc:  # a broken rule is reported in summary.json, never fatal
                errors.append({"rule": rule.id, "file": rel, "error": f"{type(exc).__name__}: {exc}"})
        release(tree)
        out.append((rel, findings, errors))
    return out


# ------------------------------------------------------------------ the map

def _without_cyclic_gc(func: Callable) -> Callable:
    """Run ``func`` with the cyclic garbage collector off: its full passes would walk every node
    of the parsed trees again and again (a third of the parse time on a large tree), and the
    analysis makes little cyclic garbage (trees and their indexes are released explicitly)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


@_without_cyclic_gc
def run_map(
    src: str | Path,
    *,
    out: str | Path | None = None,
    config: str | Path | Config | None = None,
    jobs: int | None = None,
    bandit: bool = True,
    semgrep: bool = True,
    cache: bool = True,
    progress: bool | None = None,
    formats: str = "all",
    cache_dir: str | Path | None = None,
    rules: bool = True,
) -> MapResult:
    """Map ``src`` (read only): see the module docstring for the stages. ``rules=False`` gives the
    route inventory alone (no rule runs, no findings of ours): what the migration needs."""
    started = time.perf_counter()
    src = Path(src)
    if not src.exists():
        raise MapInputError(f"{src}: no such directory")
    if not src.is_dir():
        raise MapInputError(f"{src}: not a directory")
    if not os.access(src, os.R_OK | os.X_OK):
        raise MapInputError(f"{src}: not readable")
    cfg = config if isinstance(config, Config) else load_config(config)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    out_path = Path(out) if out is not None else None
    timings: dict[str, float] = {}

    t = time.perf_counter()
    found = discover(src, cfg, exclude_dirs=tuple(p for p in [out_path] if p is not None and p.exists()))
    timings["discover_s"] = time.perf_counter() - t
    src_name = src.resolve().name if (src / "__init__.py").exists() else ""
    modules = module_names([f.rel for f in found.python], src_name)

    store = open_cache(Path(cache_dir) if cache_dir else default_cache_dir(src, out_path)) if cache else NullCache()
    hashes = {f.rel: _file_hash(f.path) for f in [*found.python, *found.scripts]}

    # The external tools run in threads (each a subprocess) while our own analysis runs, on
    # the files whose results are not cached (tool results are per file: bandit and our
    # semgrep rules look at one file at a time).
    tool_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="workbench-tool")
    tool_futures: dict[str, Future] = {}
    tool_info: dict[str, dict[str, Any]] = {}
    tool_plan: dict[str, tuple[dict[str, str], list[str], list[Finding]]] = {}
    py_files = [f.rel for f in found.python]
    all_files = py_files + [f.rel for f in found.scripts]
    # semgrep's parallel workers burn CPU waiting for each other when the cores are already
    # busy: beside bandit (and our analysis) it runs on half the jobs. On 2 cores that took its
    # CPU seconds from 12.2 to 7.4 and the whole map from 21.5 s to 19.2 s.
    tool_jobs = {"bandit": jobs, "semgrep": max(1, jobs // 2) if bandit else jobs}
    for name, wanted, files in (("bandit", bandit, py_files), ("semgrep", semgrep, all_files)):
        if not wanted:
            tool_info[name] = {"status": "skipped", "detail": f"--no-{name}"}
            continue
        version_key = _tool_cache_version(name)
        keys = {rel: f"tool:{name}:{version_key}:{hashes[rel]}:{rel}" for rel in files}
        hits = store.get_many(list(keys.values()))
        cached_findings = [f for rel in files if keys[rel] in hits for f in hits[keys[rel]]]
        todo_files = [rel for rel in files if keys[rel] not in hits]
        tool_plan[name] = (keys, todo_files, cached_findings)

    show = sys.stderr.isatty() if progress is None else progress
    # While bandit and semgrep scan many files our analysis gets half the jobs (on 2 cores: one,
    # in this process, sparing the workers' start-up and the pickling of their results; measured
    # 10% faster for the whole map), and the tools' processes the other half, until our analysis
    # is done (CoreSlots: no more processes than cores, none sharing a core by turns).
    busy_tools = sum(1 for plan in tool_plan.values() if len(plan[1]) > _IN_PROCESS_MAX)
    own_jobs = max(1, jobs // 2) if busy_tools else jobs
    slots = CoreSlots(jobs - own_jobs)
    for name in tool_plan:
        tool_futures[name] = tool_pool.submit(_run_tool, name, src, tool_plan[name][1], tool_jobs[name], slots)
    executor = make_executor(own_jobs)
    worker_cpu: dict[str, float] = {}
    try:
        # -------- stage 1: facts
        t = time.perf_counter()
        facts_version = code_hash([_PKG / "discover.py", *(_PKG / "inventory").glob("*.py"), _PKG / "mapping.py",
                                   *(_PKG / "rules").glob("*.py")], __version__)
        facts_kind = "facts" if rules else "facts-norules"  # (facts without what the rules need)
        keys = {f.rel: f"{facts_kind}:{facts_version}:{hashes[f.rel]}:{modules[f.rel]}:{f.rel}" for f in found.python}
        cached = store.get_many(list(keys.values()))
        results: dict[str, tuple] = {}
        todo = []
        for f in found.python:
            hit = cached.get(keys[f.rel])
            if hit is not None:
                results[f.rel] = hit
            else:
                todo.append((f.rel, str(f.path), modules[f.rel]))
        facts_misses = len(todo)
        for batch in _run_chunks(executor, facts_chunk, todo, own_jobs, show, "facts", rules, cpu=worker_cpu):
            for rel, facts, skips, lines in batch:
                results[rel] = (rel, facts, skips, lines)
        store.put_many({keys[item[0]]: results[item[0]] for item in todo})
        timings["facts_s"] = time.perf_counter() - t

        skipped = list(found.skipped)
        file_facts: list[FileFacts] = []
        total_lines = 0
        for f in found.python:
            rel, facts, skips, lines = results[f.rel]
            skipped.extend(skips)
            total_lines += lines
            if facts is not None:
                file_facts.append(facts)

        # -------- stage 2: inventory
        t = time.perf_counter()
        try:
            inventory = build_inventory(file_facts, cfg, src_name)
        except Exception as exc:  # never lose the whole map to one unexpected construct
            inventory_error = f"{type(exc).__name__}: {exc}"
            inventory = build_inventory([], cfg, src_name)
        else:
            inventory_error = ""
        routes = inventory.routes
        timings["inventory_s"] = time.perf_counter() - t

        # -------- stage 3: rules
        t = time.perf_counter()
        routes_by_file: dict[str, list[Route]] = {}
        for r in routes:
            routes_by_file.setdefault(r.file, []).append(r)
        rules_version = code_hash([*(_PKG / "rules").glob("*.py"), _PKG / "model.py"], __version__ + repr(sorted(cfg.disable)))
        pf = inventory.project_facts
        base_ctx = _hash_json([sorted(pf.packages), sorted(pf.modules), sorted(pf.auth_guards), pf.security_headers_set,
                               pf.public_patterns, pf.sensitive_patterns, pf.src_name,
                               [repr(getattr(pf, name, None)) for name in _PROJECT_RULE_FIELDS]])
        rule_keys = {}
        project_modules = set(pf.modules)
        caching = not isinstance(store, NullCache)
        for ff in file_facts if rules else ():
            if not caching:  # (the key's context hash costs a JSON dump per file: only with a cache)
                rule_keys[ff.rel] = f"rules:{ff.rel}"
                continue
            imported = sorted(_imported_modules(ff.imports.values(), project_modules))
            ctx_hash = _hash_json([base_ctx, [r.to_row() for r in routes_by_file.get(ff.rel, [])],
                                   [[m, sorted(pf.module_names.get(m, ()))] for m in imported]])
            rule_keys[ff.rel] = f"rules:{rules_version}:{hashes[ff.rel]}:{ctx_hash}"
        cached = store.get_many(list(rule_keys.values()))
        own: list[Finding] = []
        rule_errors: list[dict[str, str]] = []
        todo = []
        fresh: dict[str, Any] = {}
        for ff in file_facts if rules else ():
            hit = cached.get(rule_keys[ff.rel])
            if hit is not None:
                own.extend(hit[0])
                rule_errors.extend(hit[1])
            else:
                path = str(src / ff.rel)
                todo.append((ff.rel, path, ff.module, routes_by_file.get(ff.rel, [])))
        rules_misses = len(todo)
        for batch in _run_chunks(executor, rules_chunk, todo, own_jobs, show, "rules", pf, cfg.disable,
                                 cpu=worker_cpu):
            for rel, findings, errors in batch:
                own.extend(findings)
                rule_errors.extend(errors)
                fresh[rule_keys[rel]] = (findings, errors)
        store.put_many(fresh)
        _, load_errors = _load_rules()
        rule_errors = load_errors + rule_errors
        timings["rules_s"] = time.perf_counter() - t
    finally:
        slots.set_capacity(jobs)  # our analysis is done (or failed): every core to the tools
        executor.shutdown(wait=True, cancel_futures=True)
        for _, kept_tree in _TREES.values():  # (the trees kept in this process by a one-job map)
            release(kept_tree)
        _TREES.clear()
        _TREE_LINES[0] = 0
    for stage, seconds in worker_cpu.items():
        timings[f"{stage}_cpu_s"] = seconds
        _TREES.clear()  # trees kept in this process (jobs=1) are not needed after the rules stage
        _TREE_LINES[0] = 0

    analysed = {ff.rel for ff in file_facts} | {f.rel for f in found.scripts}
    python_files = len(file_facts)
    lines_of = _LineReader(src)
    # While the tools finish (the usual case on a cold map: bandit is the longest part), let go of
    # the analysis's objects (freeing them takes a while: better now than after the tools) and
    # read the lines the merge will quote.
    del results, file_facts, inventory, cached, pf
    if any(not future.done() for future in tool_futures.values()):
        quoted = {f.file for f in own} | {rel for _, todo_files, cached_findings in tool_plan.values()
                                           for rel in [*todo_files, *(f.file for f in cached_findings)]}
        for rel in sorted(quoted & analysed):
            lines_of.lines(rel)

    # -------- tools
    t = time.perf_counter()
    tool_findings: list[Finding] = []
    for name, future in tool_futures.items():
        status, findings = future.result()
        keys, todo_files, cached_findings = tool_plan[name]
        status["files_run"] = len(todo_files)
        status["files_cached"] = len(keys) - len(todo_files)
        tool_info[name] = status
        tool_findings.extend(cached_findings)
        tool_findings.extend(findings)
        if status.get("status") == "ok":  # a failed run is not remembered as "no findings"
            per_file: dict[str, list[Finding]] = {rel: [] for rel in todo_files}
            for f in findings:
                if f.file in per_file:
                    per_file[f.file].append(f)
            store.put_many({keys[rel]: items for rel, items in per_file.items()})
    tool_pool.shutdown(wait=True)
    store.close()
    timings["tools_wait_s"] = time.perf_counter() - t

    # -------- merge, suppress, attribute
    findings = _merge([f for f in own + tool_findings if f.file in analysed or not f.file], lines_of)
    _suppress(findings, lines_of)
    _attribute(findings, routes)
    _assign_fingerprints(findings)

    wall = time.perf_counter() - started
    active = [f for f in findings if not f.suppressed]
    summary = {
        "src": str(src),
        "tool_version": __version__,
        "files": python_files + len(found.scripts),
        "python_files": python_files,
        "script_files": len(found.scripts),
        "lines": total_lines,
        "routes": len(routes),
        "findings": len(active),
        "suppressed": len(findings) - len(active),
        "by_category": dict(sorted(Counter(f.category.value for f in active).items())),
        "by_severity": {s.value: sum(1 for f in active if f.severity == s) for s in Severity},
        "by_source": dict(sorted(Counter(src_ for f in active for src_ in f.source).items())),
        "skipped": [{"file": k.file, "reason": k.reason, "detail": k.detail,
                     "analysed": k.reason in ("empty", "encoding")} for k in skipped],
        "skipped_by_reason": dict(sorted(Counter(k.reason for k in skipped).items())),
        "tools": tool_info,
        "rule_errors": rule_errors,
        "inventory_error": inventory_error,
        "jobs": jobs,
        "analysis_jobs": own_jobs,  # (half of them while bandit and semgrep scan the tree)
        "cache": {"enabled": bool(cache), "hits": store.hits, "misses": store.misses,
                  "facts_analysed": facts_misses, "rules_analysed": rules_misses,
                  "path": str(store.path) if store.path else None, "errors": store.errors[:5]},
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "wall_time_s": round(wall, 3),
    }
    result = MapResult(src=src, route_list=routes, finding_list=findings, summary=summary, skipped=skipped)
    if out_path is not None:
        result.write(out_path, formats)
    return result


def _file_hash(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()[:32]
    except OSError:
        return "unreadable"


def _hash_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _run_chunks(executor, func: Callable, items: list, jobs: int, show: bool, label: str, *extra: Any,
                cpu: dict[str, float] | None = None) -> Iterable[list]:
    """Submit ``items`` (tuples whose first element is the file) in chunks: few enough to keep
    IPC low, enough to balance the cores and move the progress bar. A :class:`ShardedExecutor`
    gets each file on the same worker in every stage (see :func:`_shard`). The workers' CPU
    seconds are added to ``cpu[label]``."""
    if not items:
        return
    if len(items) <= _IN_PROCESS_MAX:
        # A warm re-map with a handful of changed files: starting worker processes would cost
        # more than the work itself.
        executor, jobs = InProcessExecutor(), 1
    if jobs == 1 and label == "rules":
        items = items[::-1]  # the trees parsed last are still in memory: use them first
    shards = getattr(executor, "shards", 1) if jobs > 1 else 1
    per_shard = 1 if jobs == 1 else 4
    chunks: list[tuple[int, list]] = []
    for shard in range(shards):
        mine = [item for item in items if _shard(item[0], shards) == shard] if shards > 1 else items
        n = min(len(mine), per_shard) if jobs > 1 else 1
        chunks += [(shard, mine[i::n]) for i in range(n)]  # interleaved: big and small files spread out
    chunks = [c for c in chunks if c[1]]
    submit_to = getattr(executor, "submit_to", None)
    try:
        futures = [submit_to(shard, _timed_chunk, func, chunk, *extra) if submit_to and shards > 1
                   else executor.submit(_timed_chunk, func, chunk, *extra) for shard, chunk in chunks]
    except BrokenProcessPool:
        futures = [InProcessExecutor().submit(_timed_chunk, func, chunk, *extra) for _, chunk in chunks]
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc=label, unit="file", file=sys.stderr, leave=False)
    try:
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            try:
                seconds, batch = future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory, a start method that cannot work here):
                # redo that work in this process rather than lose the map.
                lost = chunks[futures.index(future)][1]
                seconds, batch = _timed_chunk(func, lost, *extra)
            if cpu is not None:
                cpu[label] = cpu.get(label, 0.0) + seconds
            if bar is not None:
                bar.update(len(batch))
            yield batch
    finally:
        if bar is not None:
            bar.close()


def _imported_modules(targets: Iterable[str], modules: set[str]) -> set[str]:
    """The project modules that import targets name: ``pkg.mod.func`` reaches ``pkg`` and ``pkg.mod``."""
    found = set()
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if prefix in modules:
                found.add(prefix)
    return found


def _shard(rel: str, shards: int) -> int:
    """The worker a file goes to: stable across the stages of one map (and across runs)."""
    return zlib.crc32(rel.encode()) % shards


def _timed_chunk(func: Callable, chunk: list, *extra: Any) -> tuple[float, list]:
    """Run one chunk in a worker and return the CPU seconds it took with its result."""
    started = time.process_time()
    # The cyclic garbage collector would walk every live node of the kept trees again at each
    # of its full passes (a third of the parse time on a large tree); the analysis makes little
    # cyclic garbage, collected when the chunk is done.
    enabled = gc.isenabled()
    gc.disable()
    try:
        batch = func(chunk, *extra)
    finally:
        if enabled:
            gc.enable()
    return time.process_time() - started, batch


def _tool_cache_version(name: str) -> str:
    """What a cached tool result depends on besides the file: the tool's installed version,
    our adapter and (for semgrep) our rule files."""
    from importlib import metadata

    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        installed = "?"
    paths = [_PKG / "adapters" / f"{name}.py", _PKG / "adapters" / "__init__.py"]
    if name == "semgrep":
        paths += sorted((_PKG / "semgrep_rules").rglob("*.y*ml"))
    return code_hash(paths, f"{name}:{installed}")


def _run_tool(name: str, src: Path, files: list[str], jobs: int,
              slots: CoreSlots | None = None) -> tuple[dict[str, Any], list[Finding]]:
    """Run one external tool through its adapter; any failure becomes a status, never an exception."""
    started = time.perf_counter()
    try:
        adapter = importlib.import_module(f"audit.adapters.{name}")
    except Exception as exc:
        return {"status": "error", "detail": f"adapter not importable: {exc}"}, []
    try:
        if not adapter.available():
            return {"status": "missing", "detail": f"{name} is not installed"}, []
        version = adapter.version()
        if not files:
            return {"status": "ok", "version": version, "detail": "nothing to run (no files, or all cached)",
                    "findings": 0, "time_s": 0.0}, []
        # (``slots`` is optional in an adapter's interface: one without it runs unscheduled)
        takes_slots = slots is not None and "slots" in inspect.signature(adapter.run).parameters
        raw = adapter.run(src, files=files, jobs=jobs, slots=slots) if takes_slots else \
            adapter.run(src, files=files, jobs=jobs)
        findings = adapter.parse(raw, src)
        info = {"status": "ok", "version": version, "findings": len(findings),
                "time_s": round(time.perf_counter() - started, 3), "jobs": jobs}
        if raw.get("engine"):
            info["engine"] = raw["engine"]  # (semgrep: which front end ran)
        return info, findings
    except Exception as exc:  # ToolError or anything else: reported in summary.json
        return {"status": "error", "detail": f"{type(exc).__name__}: {exc}",
                "time_s": round(time.perf_counter() - started, 3)}, []


class _LineReader:
    """Source lines of the files findings point at, read once each."""

    def __init__(self, src: Path):
        self.src = src
        self._cache: dict[str, list[str]] = {}

    def line(self, rel: str, line: int) -> str:
        lines = self.lines(rel)
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def lines(self, rel: str) -> list[str]:
        if rel not in self._cache:
            path = self.src / rel
            text = None
            if rel.endswith((".py", ".pyw")):
                text = read_source(path, rel).text
            if text is None:
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = ""
            self._cache[rel] = text.splitlines()
        return self._cache[rel]


def _merge(findings: list[Finding], lines: _LineReader) -> list[Finding]:
    """One finding per (file, line, category): sources and tool ids united, highest severity kept,
    the workbench's own rule as the primary when it is among them."""
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.file, f.line, f.category), []).append(f)
    merged = []
    for (file, line, category), group in groups.items():
        group.sort(key=lambda f: (f.source[:1] != ("workbench",), -f.severity.rank, f.rule_id))
        primary = group[0]
        sources = tuple(dict.fromkeys(s for f in group for s in f.source))
        tool_ids = tuple(dict.fromkeys(t for f in group for t in f.tool_ids))
        severity = max((f.severity for f in group), key=lambda s: s.rank)
        confidence = max((f.confidence for f in group), key=lambda s: s.rank)
        snippet = lines.line(file, line).strip() or primary.snippet
        if len(group) == 1 and snippet == primary.snippet and sources == primary.source \
                and tool_ids == primary.tool_ids and (primary.cwe or None) == primary.cwe \
                and (primary.fixed_by or None) == primary.fixed_by:
            merged.append(primary)  # (alone at its place and unchanged: no copy)
            continue
        merged.append(primary.with_(source=sources, tool_ids=tool_ids, severity=severity, confidence=confidence,
                                    snippet=snippet, cwe=primary.cwe or next((f.cwe for f in group if f.cwe), None),
                                    fixed_by=primary.fixed_by or next((f.fixed_by for f in group if f.fixed_by), None)))
    merged.sort(key=lambda f: (f.file, f.line, f.category.value, f.rule_id))
    return merged


def _suppress(findings: list[Finding], lines: _LineReader) -> None:
    """``# workbench: ignore`` (everything on the line) or ``# workbench: ignore[WB101, debug-logging]``."""
    names = {cls.id: getattr(cls, "name", "") for cls in _load_rules()[0]}
    for f in findings:
        m = _SUPPRESS.search(lines.line(f.file, f.line))
        if not m:
            continue
        if m.group(1) is None:
            f.suppressed = True
            continue
        wanted = {w.strip().lower() for w in m.group(1).split(",") if w.strip()}
        ids = {t.lower() for t in f.tool_ids} | {f.rule_id.lower(), f.category.value, names.get(f.rule_id, "").lower()}
        if wanted & ids:
            f.suppressed = True


def _attribute(findings: list[Finding], routes: list[Route]) -> None:
    """Name the route of findings inside a handler, and list the categories of each handler."""
    by_file: dict[str, list[Route]] = {}
    for r in routes:
        by_file.setdefault(r.file, []).append(r)
    cats: dict[int, set[str]] = {}
    for f in findings:
        inside = [r for r in by_file.get(f.file, []) if r.contains(f.file, f.line)]
        if inside and not f.route:
            f.route = inside[0].key
        if not f.suppressed:
            for r in inside:
                cats.setdefault(id(r), set()).add(f.category.value)
    for r in routes:
        r.categories = tuple(sorted(cats.get(id(r), ())))


def _assign_fingerprints(findings: list[Finding]) -> None:
    """Fingerprints from category, file and line text (stable across unrelated edits); a repeat
    of the same text in one file gets an occurrence number so each stays unique."""
    seen: Counter = Counter()
    for f in findings:
        base = make_fingerprint(f.category, f.file, f.snippet, f.line)
        seen[base] += 1
        n = seen[base]
        f.fingerprint = base if n == 1 else hashlib.sha256(f"{base}:{n}".encode()).hexdigest()[:32]


# ------------------------------------------------------------------ reading back, gating

def load_map(directory: str | Path) -> MapResult:
    """Read a map output folder (routes.csv, findings.csv, summary.json) back into a MapResult."""
    import csv

    d = Path(directory)
    if not (d / "routes.csv").exists() and not (d / "findings.csv").exists():
        raise MapInputError(f"{d}: not a map output folder (no routes.csv / findings.csv)")
    summary = json.loads((d / "summary.json").read_text(encoding="utf-8")) if (d / "summary.json").exists() else {}
    routes: list[Route] = []
    if (d / "routes.csv").exists():
        with open(d / "routes.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                routes.append(Route(
                    method=row["method"], path=row["path"], file=row["file"], line=int(row["line"]),
                    handler=row["handler"], framework=row["framework"],
                    auth=row["auth"] == "true", validated=row["validated"] == "true",
                    rate_limited=row["rate_limited"] == "true", public=row["public"] == "true",
                    categories=tuple(c for c in row.get("categories", "").split(";") if c),
                    module=row.get("module", ""), data_access=row.get("data_access", "none") or "none",
                    sensitive=row.get("sensitive") == "true",
                    end_line=int(row["end_line"]) if row.get("end_line") else None,
                    reads=tuple(x for x in row.get("reads", "").split(";") if x),
                    guards=tuple(x for x in row.get("guards", "").split(";") if x),
                ))
    findings: list[Finding] = []
    if (d / "findings.csv").exists():
        with open(d / "findings.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                findings.append(Finding(
                    rule_id=row["rule_id"], category=Category(row["category"]), severity=Severity(row["severity"]),
                    confidence=Severity(row["confidence"]), file=row["file"], line=int(row["line"]),
                    end_line=int(row["end_line"]) if row.get("end_line") else None, route=row.get("route", ""),
                    message=row.get("message", ""), source=tuple(s for s in row.get("source", "").split(";") if s),
                    fingerprint=row.get("fingerprint", ""), cwe=int(row["cwe"]) if row.get("cwe") else None,
                    snippet=row.get("snippet", ""), suppressed=row.get("suppressed") == "true",
                    tool_ids=tuple(s for s in row.get("tool_ids", "").split(";") if s),
                    fixed_by=row.get("fixed_by") or None,
                ))
    skipped = [FileSkip(s["file"], s["reason"], s.get("detail", "")) for s in summary.get("skipped", [])]
    return MapResult(src=Path(summary.get("src", d)), route_list=routes, finding_list=findings,
                     summary=summary, skipped=skipped, out=d)


def gate(result: MapResult, fail_on: str, baseline: str | Path | None = None) -> int:
    """How many unsuppressed findings at or above ``fail_on`` are not in the ``baseline`` SARIF
    (matched by partialFingerprints)."""
    threshold = Severity(fail_on).rank
    known: set[str] = set()
    if baseline is not None:
        try:
            log = json.loads(Path(baseline).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MapInputError(f"{baseline}: cannot read the baseline SARIF: {exc}") from None
        for run in log.get("runs", []) if isinstance(log, dict) else []:
            for res in run.get("results", []) or []:
                known.update((res.get("partialFingerprints") or {}).values())
    return sum(1 for f in result.finding_list
               if not f.suppressed and f.severity.rank >= threshold and f.fingerprint not in known)
