"""Check imports and files: does the app's code hang together?

Five checks, each reported as :class:`Problem` rows:

* ``import-error``: a module of the app does not import (run in a subprocess, never in
  the workbench process: importing runs the app's code);
* ``doc-missing-file``: a markdown document inside the app names a file (``routes/x.py``)
  that does not exist;
* ``empty-module``: a module with no code at all (a warning; empty ``__init__.py`` files
  are normal and not listed);
* ``missing-file``: a file of the legacy tree that the target tree lacks (when both are given);
* ``syntax-error``: a module that does not even parse.

``verify`` runs these together with its route probes; :func:`check_integrity` runs them alone.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

__all__ = ["IntegrityReport", "Problem", "app_modules", "check_integrity", "import_problems", "probe_command",
           "probe_env", "run_probe", "static_problems"]

# Folders that are not the app's code (or not importable as part of it).
_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "site-packages", "__pycache__", ".mypy_cache",
              ".pytest_cache", ".workbench-cache", "tests", "test", "migrations", "alembic", "build", "dist"}
# Files never imported by the check: they run things when imported.
_SKIP_FILES = {"__main__.py", "setup.py", "conftest.py", "manage.py", "wsgi.py", "asgi.py"}
_GENERATED = {".pyc", ".pyo", ".db", ".sqlite", ".sqlite3", ".log"}
_DOC_PATH = re.compile(r"(?<![\w/.@-])((?:\.{0,2}/)?(?:[\w.-]+/)*[\w-][\w.-]*\.(?:py|md|ya?ml|json|toml|cfg|ini|html|sql|txt|js|ts|css))(?![\w/-])")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


@dataclass(frozen=True)
class Problem:
    """One integrity problem; ``severity`` is ``error`` (fails verify) or ``warning``."""

    kind: str  # import-error | doc-missing-file | empty-module | missing-file
    file: str  # relative to the app folder, forward slashes ("" when not about one file)
    detail: str
    severity: str = "error"
    line: int | None = None


@dataclass
class IntegrityReport:
    """The problems found, plus how many modules were imported."""

    problems: list[Problem]
    modules_checked: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def rows(self) -> list[dict]:
        return [asdict(p) for p in self.problems]

    def describe(self) -> str:
        if not self.problems:
            return f"integrity: {self.modules_checked} modules import, docs and files consistent"
        lines = [f"integrity: {len(self.problems)} problem(s)"]
        lines += [f"  {p.severity:7} {p.kind:16} {p.file}{':' + str(p.line) if p.line else ''}  {p.detail}"
                  for p in self.problems]
        return "\n".join(lines)


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            yield Path(dirpath, name)


def app_modules(app_dir: Path) -> list[str]:
    """Dotted names of the app's importable modules (a package app's are prefixed with its name)."""
    app_dir = Path(app_dir).resolve()
    is_package = (app_dir / "__init__.py").exists()
    names = []
    for path in _walk(app_dir):
        rel = path.relative_to(app_dir)
        if path.suffix != ".py" or path.name in _SKIP_FILES or path.name.startswith("test_") \
                or path.stem.endswith("_test"):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not all(p.isidentifier() for p in parts):
            continue  # "my-script.py" cannot be imported by name
        if is_package:
            parts = [app_dir.name, *parts]
        if parts:
            names.append(".".join(parts))
    return sorted(set(names))


def static_problems(app_dir: Path, legacy: Path | None = None) -> list[Problem]:
    """The checks that only read files: docs, empty modules, files missing against legacy."""
    app_dir = Path(app_dir).resolve()
    problems = _doc_problems(app_dir) + _empty_modules(app_dir)
    if legacy is not None:
        problems += _missing_files(Path(legacy).resolve(), app_dir)
    return problems


def _doc_problems(app_dir: Path) -> list[Problem]:
    problems = []
    for doc in _walk(app_dir):
        if doc.suffix.lower() not in (".md", ".markdown"):
            continue
        rel_doc = doc.relative_to(app_dir).as_posix()
        for number, text in enumerate(doc.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            text = _URL.sub(" ", text)
            for match in _DOC_PATH.finditer(text):
                named = match.group(1)
                if not _exists(named, doc.parent, app_dir):
                    problems.append(Problem("doc-missing-file", rel_doc, f"names {named}, which does not exist",
                                            line=number))
    return problems


def _exists(named: str, doc_dir: Path, app_dir: Path) -> bool:
    """A path in a doc may be relative to the doc, to the app, or to the app's parent
    (``legacy_app/routes/x.py``), possibly under the name of the tree it was copied from."""
    candidates = [doc_dir / named, app_dir / named, app_dir.parent / named]
    parts = Path(named).parts
    if len(parts) > 1:
        candidates.append(app_dir.joinpath(*parts[1:]))  # "legacy_app/x.py" inside a renamed copy
    return any(c.exists() for c in candidates)


def _empty_modules(app_dir: Path) -> list[Problem]:
    problems = []
    for path in _walk(app_dir):
        if path.suffix != ".py" or path.name == "__init__.py":
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError as exc:
            problems.append(Problem("syntax-error", path.relative_to(app_dir).as_posix(), str(exc.msg),
                                    line=exc.lineno))
            continue
        body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        if not body:
            problems.append(Problem("empty-module", path.relative_to(app_dir).as_posix(),
                                    "the module has no code", severity="warning"))
    return problems


def _missing_files(legacy: Path, target: Path) -> list[Problem]:
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in _walk(root) if p.suffix not in _GENERATED}

    return [Problem("missing-file", rel, f"present in {legacy.name}, missing in {target.name}")
            for rel in sorted(files(legacy) - files(target))]


def probe_command(app_dir: Path, result: Path, factory: str | None = None, modules: Iterable[str] = (),
                  secret: str = "") -> list[str]:
    """The command line of the probe subprocess (audit/probe.py)."""
    cmd = [sys.executable, "-m", "audit.probe", "--app", str(app_dir), "--result", str(result)]
    if factory:
        cmd += ["--factory", factory]
    if modules:
        cmd += ["--modules", ",".join(modules)]
    if secret:
        cmd += ["--secret", secret]
    return cmd


def probe_env(extra: dict[str, str] | None, workdir: Path) -> dict[str, str]:
    """The probe's environment: ours, a throwaway SQLite database, a JWT secret, ``audit`` importable."""
    env = dict(os.environ)
    env.setdefault("JWT_SECRET", "workbench-verify-" + os.urandom(16).hex())
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'verify.db'}"
    env["UPLOAD_DIR"] = str(workdir / "uploads")
    (workdir / "uploads").mkdir(exist_ok=True)
    env.update(extra or {})
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # do not leave __pycache__ in the audited tree
    return env


def run_probe(app_dir: Path, factory: str | None, modules: list[str], env: dict[str, str] | None,
              timeout: float) -> dict:
    """Run the probe subprocess and return its JSON result (``error`` set when it failed)."""
    with tempfile.TemporaryDirectory(prefix="workbench-verify-") as tmp:
        workdir = Path(tmp)
        full_env = probe_env(env, workdir)
        result = workdir / "result.json"
        cmd = probe_command(app_dir, result, factory, modules, full_env["JWT_SECRET"])
        try:
            done = subprocess.run(cmd, cwd=workdir, env=full_env, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return {"error": f"the app did not finish building and probing within {timeout:.0f}s",
                    "routes": [], "imports": []}
        if not result.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            return {"error": "probe failed: " + " | ".join(tail), "routes": [], "imports": []}
        data = json.loads(result.read_text())
        data["stderr"] = done.stderr[-4000:]
        return data


def check_integrity(app_dir: str | Path, legacy: str | Path | None = None, env: dict[str, str] | None = None,
                    imports: bool = True, timeout: float = 300) -> IntegrityReport:
    """Run every integrity check on the app at ``app_dir`` (imports in a subprocess)."""
    app_dir = Path(app_dir).resolve()
    if not app_dir.is_dir():
        raise ValueError(f"{app_dir}: not a directory")
    problems = static_problems(app_dir, Path(legacy) if legacy else None)
    modules = app_modules(app_dir) if imports else []
    if modules:
        data = run_probe(app_dir, None, modules, env, timeout)
        problems = import_problems(app_dir, data) + problems
    return IntegrityReport(problems, len(modules))


def import_problems(app_dir: Path, data: dict) -> list[Problem]:
    """Problems from the probe's ``imports`` list (and a probe that could not run at all)."""
    problems = []
    if data.get("error") and not data.get("imports") and not data.get("routes"):
        problems.append(Problem("import-error", "", data["error"]))
    is_package = (app_dir / "__init__.py").exists()
    for item in data.get("imports", []):
        if not item["ok"]:
            problems.append(Problem("import-error", _module_file(app_dir, item["module"], is_package),
                                    f"import {item['module']}: {item['error']}"))
    return problems


def _module_file(app_dir: Path, module: str, is_package: bool) -> str:
    parts = module.split(".")[1:] if is_package else module.split(".")
    as_file = Path(*parts).with_suffix(".py") if parts else Path("__init__.py")
    if (app_dir / as_file).exists():
        return as_file.as_posix()
    return (Path(*parts) / "__init__.py").as_posix() if parts else "__init__.py"
