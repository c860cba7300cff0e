"""Adapters for external scanners (bandit, semgrep): run the tool as a subprocess with JSON output,
and parse that JSON into :class:`~audit.model.Finding` objects on the contract's categories.

Each tool module exposes ``available()``, ``version()``, ``run(src, files=None, jobs=1,
timeout=600) -> dict`` (the raw JSON; raises :class:`ToolError`) and ``parse(raw, src) ->
list[Finding]``. ``parse`` is pure: the tests feed it recorded JSON. ``run`` may also take
``slots`` (an :class:`audit.executor.CoreSlots`): the map then hands out its cores, and the
adapter runs each of its processes while it holds one.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

__all__ = ["ToolError", "find_executable", "relative_path", "RelativePaths", "SourceLines"]


class ToolError(RuntimeError):
    """A scanner is missing, failed, timed out or wrote something that is not its JSON report."""


def find_executable(name: str) -> str | None:
    """The tool installed next to this Python (the venv's bin), else the one on PATH."""
    here = Path(sys.executable).parent / name
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which(name)


class ToolTimedOut(ToolError):
    """The tool ran past its time limit."""


def run_for_json(name: str, cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[dict, int]:
    """Run one scanner command and read the JSON report it prints: (report, exit status).
    Raises ToolTimedOut, or ToolError when it cannot start or prints no JSON report."""
    import json
    import subprocess

    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    except subprocess.TimeoutExpired:
        raise ToolTimedOut(f"{name} timed out after {timeout:.0f}s") from None
    except OSError as exc:
        raise ToolError(f"{name} could not start: {exc}") from None
    try:
        return json.loads(proc.stdout), proc.returncode
    except json.JSONDecodeError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ToolError(f"{name} failed (exit {proc.returncode}): {' '.join(tail)[:500]}") from None


def relative_path(path: str, src: Path) -> str:
    """``path`` (absolute, or relative to the working directory or to src) relative to src, forward slashes."""
    return RelativePaths(src)(path)


class RelativePaths:
    """:func:`relative_path` for the many results of one report: src is resolved once, and
    each reported path once (a report names the same file many times, and resolving walks
    the file system)."""

    def __init__(self, src: Path) -> None:
        self.src = Path(src)
        self.src_resolved = self.src.resolve()
        self._known: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        known = self._known.get(path)
        if known is None:
            known = self._known[path] = self._relative(Path(path))
        return known

    def _relative(self, p: Path) -> str:
        candidates = [p] if p.is_absolute() else [Path.cwd() / p, self.src / p]
        for candidate in candidates:
            try:
                return candidate.resolve().relative_to(self.src_resolved).as_posix()
            except (ValueError, OSError):
                continue
        return p.as_posix()


class SourceLines:
    """Reads flagged lines from the audited files (each file read once), for snippets and filters."""

    def __init__(self, src: Path) -> None:
        self.src = src
        self._cache: dict[str, list[str]] = {}

    def lines(self, rel: str) -> list[str]:
        if rel not in self._cache:
            try:
                text = (self.src / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._cache[rel] = text.splitlines()
        return self._cache[rel]

    def line(self, rel: str, number: int) -> str:
        lines = self.lines(rel)
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""

    def enclosing_def(self, rel: str, number: int) -> str:
        """The nearest ``def`` line above ``number`` (how a function names what it handles)."""
        lines = self.lines(rel)
        for i in range(min(number, len(lines)) - 1, -1, -1):
            text = lines[i].lstrip()
            if text.startswith(("def ", "async def ")):
                return text
        return ""


@lru_cache(maxsize=None)
def tool_version(executable: str, *args: str) -> str | None:
    """First line of ``<tool> --version`` (cached; None when it cannot be run).

    A tool installed next to this Python is a package of this environment: its version is read
    from the package metadata instead (``semgrep --version`` takes several seconds to start)."""
    import subprocess
    from importlib import metadata

    name = Path(executable).name
    if Path(executable).parent == Path(sys.executable).parent:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass

    try:
        proc = subprocess.run([executable, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = (proc.stdout or proc.stderr).strip().splitlines()
    return out[0].strip() if out else None
