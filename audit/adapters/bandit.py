"""bandit: run it over the Python files, map its test ids onto the contract's categories.

Only results that really fit a category are mapped; the rest are ``other``. Some ids need a
look at the flagged line: B303/B324 (md5/sha1) are ``weak-password`` only when the line or its
function is about passwords (an md5 etag is not), and B105/B106/B107 (hard-coded password
strings) are ``hardcoded-secret`` only when the name is secret-like by the same test the
workbench's WB301 uses (``token_type = "bearer"`` is not a secret).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import Category, Finding, Severity
from ..rules._secret_names import is_secret_name
from . import SourceLines, ToolError, find_executable, RelativePaths, run_for_json, tool_version

if TYPE_CHECKING:
    from ..executor import CoreSlots

__all__ = ["BANDIT_CATEGORIES", "available", "parse", "run", "version"]

# bandit test id -> category (ids not listed map to `other`).
BANDIT_CATEGORIES: dict[str, Category] = {
    # Injection: code evaluation, unsafe deserialisation, shells, SQL built by string formatting.
    "B102": Category.INJECTION,  # exec_used
    "B301": Category.INJECTION,  # pickle
    "B302": Category.INJECTION,  # marshal
    "B307": Category.INJECTION,  # eval
    "B506": Category.INJECTION,  # yaml_load
    "B601": Category.INJECTION,  # paramiko_calls
    "B602": Category.INJECTION,  # subprocess_popen_with_shell_equals_true
    "B604": Category.INJECTION,  # any_other_function_with_shell_equals_true
    "B605": Category.INJECTION,  # start_process_with_a_shell
    # B608 (hardcoded_sql_expressions) is left `other`: it fires on every SQL-looking formatted string,
    # column lists built from a schema's field names included; WB220 follows the request data instead.
    "B609": Category.INJECTION,  # linux_commands_wildcard_injection
    "B610": Category.INJECTION,  # django_extra_used
    "B611": Category.INJECTION,  # django_rawsql_used
    # Insecure configuration: debug mode, TLS verification off, old TLS versions.
    "B201": Category.INSECURE_CONFIG,  # flask_debug_true
    "B323": Category.INSECURE_CONFIG,  # unverified_context
    "B501": Category.INSECURE_CONFIG,  # request_with_no_cert_validation
    "B502": Category.INSECURE_CONFIG,  # ssl_with_bad_version
    "B503": Category.INSECURE_CONFIG,  # ssl_with_bad_defaults
    "B504": Category.INSECURE_CONFIG,  # ssl_with_no_version
    "B507": Category.INSECURE_CONFIG,  # ssh_no_host_key_verification
}
# Ids whose category depends on the flagged line.
PASSWORD_HASH_IDS = frozenset({"B303", "B324"})
HARDCODED_PASSWORD_IDS = frozenset({"B105", "B106", "B107"})

_PASSWORD_WORD = re.compile(r"pass(word)?|passwd|pwd", re.I)
# A name that receives a string literal on the line (what bandit's B105-B107 flag): `NAME = "..."`,
# `NAME="..."` (keyword or default), `"NAME": "..."`, `["NAME"] = "..."`, `NAME == "..."`.
_ASSIGNED_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[\"']?\]?\s*(?:==|!=|=|:)\s*(?:[a-zA-Z]{0,2})[\"']")
_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}
_FIXED_BY = {Category.HARDCODED_SECRET: "require_secrets", Category.WEAK_PASSWORD: "harden_passwords",
             Category.INSECURE_CONFIG: None, Category.INJECTION: None}
# Folders bandit should never walk when given SRC itself.
EXCLUDED_DIRS = ("node_modules", ".venv", "venv", "site-packages", ".git", "__pycache__", ".tox", "build", "dist")
_CHUNK = 400  # files per bandit process: keeps command lines short and lets --jobs run several at once


def available() -> bool:
    return find_executable("bandit") is not None


def version() -> str | None:
    exe = find_executable("bandit")
    if exe is None:
        return None
    line = tool_version(exe, "--version")
    match = re.search(r"\d+(\.\d+)+", line or "")
    return match.group(0) if match else line


def run(src: Path, files: list[str] | None = None, jobs: int = 1, timeout: float = 600,
        slots: "CoreSlots | None" = None) -> dict:
    """bandit's JSON report for ``files`` (paths relative to src) or the whole of ``src``.

    Several bandit processes run side by side when ``jobs`` > 1 (bandit itself is single-threaded);
    their reports are merged. With ``slots`` (the map's, shared with semgrep and its own
    analysis) each process waits for a free core. Raises ToolError when bandit is missing or fails.
    """
    exe = find_executable("bandit")
    if exe is None:
        raise ToolError("bandit is not installed (pip install bandit)")
    src = Path(src).resolve()
    if not src.is_dir():
        raise ToolError(f"{src} is not a directory")
    if files is None:
        targets = [[str(src)]]
    elif not files:
        return {"results": [], "errors": [], "metrics": {}}
    else:
        paths = [str(src / f) for f in files]
        # Equal shares, a multiple of jobs of them, none over _CHUNK files: 520 files on 2 jobs
        # are two runs of 260 (not 400 + 120, which leaves a core idle for most of the run).
        workers = max(1, min(jobs, len(paths)))
        count = workers * -(-len(paths) // (workers * _CHUNK))
        targets = _balanced(paths, count)
    excludes = ",".join(f"*/{d}/*" for d in EXCLUDED_DIRS)

    def one(chunk: list[str]) -> dict:
        cmd = [exe, "-f", "json", "-q", "-x", excludes]
        cmd += ["-r", *chunk] if files is None else chunk
        # Exit status 1 means "issues found"; anything else is a failure.
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        if slots is None:
            report, status = run_for_json("bandit", cmd, src, env, timeout)
        else:
            with slots.hold():
                report, status = run_for_json("bandit", cmd, src, env, timeout)
        if status not in (0, 1):
            raise ToolError(f"bandit failed (exit {status})")
        return report

    threads = len(targets) if slots is not None else max(1, min(jobs, len(targets)))  # (slots decide who runs)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        reports = list(pool.map(one, targets))
    merged: dict = {"results": [], "errors": [], "metrics": {}}
    for report in reports:
        merged["results"].extend(report.get("results", []))
        merged["errors"].extend(report.get("errors", []))
        merged["generated_at"] = report.get("generated_at", "")
    return merged


def _balanced(paths: list[str], count: int) -> list[list[str]]:
    """``paths`` in ``count`` shares of about the same size in bytes (bandit's time grows with a
    file's size), none with more than its share of files: the largest file first, each to the
    share with the fewest bytes so far that still has room. Each share in path order."""
    if count <= 1:
        return [list(paths)]

    def size(path: str) -> int:
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    room = -(-len(paths) // count)
    shares: list[list[str]] = [[] for _ in range(count)]
    totals = [0] * count
    for nbytes, path in sorted(((size(p), p) for p in paths), key=lambda sp: (-sp[0], sp[1])):
        share = min((i for i in range(count) if len(shares[i]) < room), key=lambda i: (totals[i], i))
        shares[share].append(path)
        totals[share] += nbytes
    return [sorted(share) for share in shares if share]


def parse(raw: dict, src: Path) -> list[Finding]:
    """bandit's JSON report as findings: paths relative to src, categories mapped, snippet = the flagged line."""
    src = Path(src)
    lines, relative = SourceLines(src), RelativePaths(src)
    findings = []
    for result in raw.get("results", []) or []:
        try:
            test_id = str(result["test_id"])
            rel = relative(str(result["filename"]))
            line = int(result["line_number"])
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entry says nothing we can place
        snippet = lines.line(rel, line)
        category = categorise(test_id, snippet, lines.enclosing_def(rel, line))
        cwe = result.get("issue_cwe") or {}
        line_range = result.get("line_range") or [line]
        findings.append(Finding(
            rule_id=test_id,
            category=category,
            severity=_SEVERITY.get(str(result.get("issue_severity", "")).upper(), Severity.MEDIUM),
            confidence=_SEVERITY.get(str(result.get("issue_confidence", "")).upper(), Severity.MEDIUM),
            file=rel,
            line=line,
            end_line=max(line_range) if line_range and max(line_range) > line else None,
            message=f"{result.get('issue_text', '').strip()} ({result.get('test_name', test_id)})",
            source=("bandit",),
            cwe=cwe.get("id") if isinstance(cwe, dict) else None,
            snippet=snippet,
            fixed_by=_FIXED_BY.get(category),
        ))
    return findings


def categorise(test_id: str, line: str, enclosing_def: str = "") -> Category:
    """The category of one bandit result, looking at the flagged line where the id alone is ambiguous."""
    if test_id in PASSWORD_HASH_IDS:
        about_passwords = _PASSWORD_WORD.search(line) or _PASSWORD_WORD.search(enclosing_def)
        return Category.WEAK_PASSWORD if about_passwords else Category.OTHER
    if test_id in HARDCODED_PASSWORD_IDS:
        names = _ASSIGNED_NAME.findall(line)
        return Category.HARDCODED_SECRET if any(is_secret_name(n) for n in names) else Category.OTHER
    return BANDIT_CATEGORIES.get(test_id, Category.OTHER)
