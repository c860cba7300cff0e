"""semgrep: run the workbench's own rules (``audit/semgrep_rules/``, Python and JavaScript/TypeScript)
offline, and map each result onto a category through the rule's ``metadata.category``.

The registry is never contacted: the config is a local folder, metrics and the version check are
off, and HOME/XDG folders point at a writable scratch folder when the real ones are not writable.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import Category, Finding, Severity
from . import SourceLines, ToolError, ToolTimedOut, find_executable, RelativePaths, run_for_json, tool_version

if TYPE_CHECKING:
    from ..executor import CoreSlots

__all__ = ["RULES_DIR", "available", "parse", "run", "version"]

RULES_DIR = Path(__file__).resolve().parent.parent / "semgrep_rules"
_SEVERITY = {"ERROR": Severity.HIGH, "HIGH": Severity.HIGH, "CRITICAL": Severity.HIGH, "WARNING": Severity.MEDIUM,
             "MEDIUM": Severity.MEDIUM, "INFO": Severity.LOW, "LOW": Severity.LOW, "INVENTORY": Severity.LOW,
             "EXPERIMENT": Severity.LOW}
_CATEGORIES = {c.value: c for c in Category}
_CWE = re.compile(r"CWE-(\d+)", re.I)
_CHUNK = 5000  # target files per semgrep process (its start-up costs seconds; it parallelises itself)
_RULE_TIMEOUT = 30  # seconds per rule and file before semgrep gives up on that pair


# semgrep ships two command-line front ends over the same engine (semgrep-core): the OCaml one
# ("osemgrep", chosen with --experimental) starts in a fraction of a second, the Python one takes
# about 6-9 s per run before it scans anything (and twice the CPU on a 100,000-line tree), which
# would dominate a warm re-map of one file. Both give the same results with our rules (measured on
# the benchmark tree: 383 identical findings). The OCaml front end is tried first; if it fails
# (an older semgrep without it, a flag it does not know), the Python one is used for the rest of
# the run. WORKBENCH_SEMGREP_ENGINE=osemgrep|pysemgrep forces one.
_ENGINES = ("osemgrep", "pysemgrep")
_ENGINE_FLAGS = {"osemgrep": ["--experimental"], "pysemgrep": []}


def _engines() -> list[str]:
    forced = os.environ.get("WORKBENCH_SEMGREP_ENGINE")
    if forced in _ENGINES:
        return [forced]
    return list(_ENGINES)


def _scan(cmd: list[str], src: Path, env: dict[str, str], timeout: float) -> dict:
    """One semgrep run: its JSON report, or ToolError."""
    report, status = run_for_json("semgrep", cmd, src, env, timeout)
    # Exit 1 only means findings with --error; 2+ with a JSON report lists errors (bad rule, bad file).
    fatal = [e for e in report.get("errors", []) if str(e.get("level", "")).lower() == "error"
             and not e.get("path")]
    if status >= 2 and fatal:
        raise ToolError(f"semgrep failed: {fatal[0].get('message', '')[:500]}")
    return report


def available() -> bool:
    return find_executable("semgrep") is not None


def version() -> str | None:
    exe = find_executable("semgrep")
    if exe is None:
        return None
    line = tool_version(exe, "--version", "--disable-version-check")
    match = re.search(r"\d+(\.\d+)+", line or "")
    return match.group(0) if match else line


def _environment(scratch: str) -> dict[str, str]:
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off",
           "SEMGREP_IN_DOCKER": "0", "PYTHONWARNINGS": "ignore"}
    home = Path(env.get("HOME") or scratch)
    if not (home.is_dir() and os.access(home, os.W_OK)):
        env["HOME"] = scratch
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        current = env.get(var)
        if not current or not os.access(current, os.W_OK):
            env[var] = scratch
    env["SEMGREP_SETTINGS_FILE"] = str(Path(scratch) / "settings.yml")
    env["SEMGREP_VERSION_CACHE_PATH"] = str(Path(scratch) / "semgrep_version")
    env["SEMGREP_LOG_FILE"] = str(Path(scratch) / "semgrep.log")
    return env


def run(src: Path, files: list[str] | None = None, jobs: int = 1, timeout: float = 600,
        config: Path | None = None, slots: "CoreSlots | None" = None) -> dict:
    """semgrep's JSON report of our rules over ``files`` (relative to src) or the whole of ``src``.
    With ``slots`` (the map's), each run waits for ``jobs`` cores.

    Raises ToolError when semgrep is missing, times out or writes no JSON report.
    """
    exe = find_executable("semgrep")
    if exe is None:
        raise ToolError("semgrep is not installed (pip install semgrep)")
    src = Path(src).resolve()
    if not src.is_dir():
        raise ToolError(f"{src} is not a directory")
    config = Path(config or RULES_DIR)
    if files is None:
        chunks = [["."]]
    elif not files:
        return {"results": [], "errors": []}
    else:
        chunks = [files[i:i + _CHUNK] for i in range(0, len(files), _CHUNK)]
    merged: dict = {"results": [], "errors": [], "version": None, "engine": None}
    engines = _engines()
    with tempfile.TemporaryDirectory(prefix="wb-semgrep-") as scratch:
        env = _environment(scratch)
        for chunk in chunks:
            args = ["scan", "--config", str(config), "--json", "--metrics=off", "--disable-version-check",
                    "--quiet", "--no-git-ignore", "--oss-only", "--jobs", str(max(1, jobs)),
                    # Paths are judged relative to SRC, not to an enclosing git repository (whose
                    # tests/ folder would otherwise hide a SRC that lives under it).
                    "--project-root", ".",
                    "--timeout", str(_RULE_TIMEOUT), "--max-target-bytes", "2000000", *chunk]
            report: dict = {}
            for engine in list(engines):
                try:
                    cmd = [exe, *args[:1], *_ENGINE_FLAGS[engine], *args[1:]]
                    if slots is None:
                        report = _scan(cmd, src, env, timeout)
                    else:
                        with slots.hold(jobs):
                            report = _scan(cmd, src, env, timeout)
                    break
                except ToolTimedOut:
                    raise  # (the other front end would take as long)
                except ToolError:
                    if engine == engines[-1]:
                        raise
                    engines.remove(engine)  # (the next chunk goes straight to the other front end)
            merged["results"].extend(report.get("results", []))
            merged["errors"].extend(report.get("errors", []))
            merged["version"] = report.get("version")
            merged["engine"] = engine
    return merged


def parse(raw: dict, src: Path) -> list[Finding]:
    """semgrep's JSON report as findings; the category comes from the rule's ``metadata.category``."""
    src = Path(src)
    lines, relative = SourceLines(src), RelativePaths(src)
    findings = []
    for result in raw.get("results", []) or []:
        try:
            check_id = str(result["check_id"])
            rel = relative(str(result["path"]))
            line = int(result["start"]["line"])
        except (KeyError, TypeError, ValueError):
            continue
        extra = result.get("extra") or {}
        meta = extra.get("metadata") or {}
        end = (result.get("end") or {}).get("line")
        findings.append(Finding(
            rule_id=rule_id(check_id),
            category=_CATEGORIES.get(str(meta.get("category", "")).lower(), Category.OTHER),
            severity=_SEVERITY.get(str(extra.get("severity", "")).upper(), Severity.MEDIUM),
            confidence=_SEVERITY.get(str(meta.get("confidence", "")).upper(), Severity.MEDIUM),
            file=rel,
            line=line,
            end_line=int(end) if isinstance(end, int) and end > line else None,
            message=str(extra.get("message", "")).strip().splitlines()[0] if extra.get("message") else check_id,
            source=("semgrep",),
            cwe=_cwe(meta.get("cwe")),
            snippet=lines.line(rel, line),
            fixed_by=meta.get("fixed_by") or None,
        ))
    return findings


def rule_id(check_id: str) -> str:
    """Our rule's own id: semgrep prefixes local rule ids with the config folder's dotted path."""
    marker = "semgrep_rules."
    if marker in check_id:
        return check_id.rsplit(".", 1)[-1]
    return check_id


def _cwe(value: object) -> int | None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        match = _CWE.search(str(item or ""))
        if match:
            return int(match.group(1))
        if isinstance(item, int):
            return item
    return None
