"""``workbench integrity SRC``: the gate before deploying. Does the app's code hang together?

Each check reports :class:`Problem` rows (``error`` fails the gate, ``warning`` does not):

* ``critical-file-missing`` / ``critical-file-empty``: a file of the critical-files registry
  is gone or empty. The registry is, together: the lines of ``.workbench-critical`` or
  ``CRITICAL_FILES`` in the app (paths or globs relative to it, ``#`` comments), the
  ``[integrity] critical_files`` list of ``workbench.toml`` (``--config``, else the app's
  own), and what is inferred: the module holding the app factory, the modules a migration
  added (``MIGRATION.json``'s ``added_modules``: the security setup and the schemas) and
  the entry points present (``__main__.py``, ``wsgi.py``, ``asgi.py``, ``app.py``,
  ``main.py``, ``manage.py``);
* ``broken-import``: a project-local import (relative, or of the app's own package or
  modules) names a module or a name that does not exist; read from the source, so imports
  inside functions count too;
* ``import-error``: a module of the app fails when imported (run in a subprocess, never in
  the workbench process: importing runs the app's code; skipped with ``imports=False``);
* ``syntax-error``: a Python file that does not compile;
* ``doc-missing-file``: a markdown/reST document inside the app names a file
  (``routes/x.py``) that does not exist;
* ``empty-module``: a module with no code at all (a warning; empty ``__init__.py`` files
  are normal and not listed);
* ``missing-file``: a file of the legacy tree that the target tree lacks (when both are given).

:func:`check_integrity` runs them all; ``verify`` runs the same checks and reports them
beside (not inside) its verdict.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

__all__ = ["REGISTRY_FILES", "IntegrityReport", "Problem", "app_modules", "check_integrity", "critical_files",
           "import_problems", "integrity_problems", "local_import_problems", "probe_command", "probe_env",
           "run_probe", "static_problems"]

REGISTRY_FILES = (".workbench-critical", "CRITICAL_FILES")
_ENTRY_POINTS = ("__main__.py", "wsgi.py", "asgi.py", "app.py", "main.py", "manage.py")

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

    kind: str  # critical-file-missing | critical-file-empty | broken-import | import-error | syntax-error | ...
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
            return (f"integrity: critical files present, imports resolve ({self.modules_checked} modules imported), "
                    "every file compiles, docs name existing files")
        errors = sum(p.severity == "error" for p in self.problems)
        lines = [f"integrity: {errors} error(s), {len(self.problems) - errors} warning(s)"]
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
        if doc.suffix.lower() not in (".md", ".markdown", ".rst"):
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
        if path.suffix != ".py":
            continue
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            # compile, not just parse: 'return' outside a function, bad nonlocal... fail here too
            tree = compile(source, str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
            compile(tree, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(Problem("syntax-error", path.relative_to(app_dir).as_posix(), str(exc.msg),
                                    line=exc.lineno))
            continue
        except ValueError as exc:  # source with NUL bytes
            problems.append(Problem("syntax-error", path.relative_to(app_dir).as_posix(), str(exc)))
            continue
        body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        if not body and path.name != "__init__.py":
            problems.append(Problem("empty-module", path.relative_to(app_dir).as_posix(),
                                    "the module has no code", severity="warning"))
    return problems


def _missing_files(legacy: Path, target: Path) -> list[Problem]:
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in _walk(root) if p.suffix not in _GENERATED}

    return [Problem("missing-file", rel, f"present in {legacy.name}, missing in {target.name}")
            for rel in sorted(files(legacy) - files(target))]


# --- the critical-files registry -------------------------------------------------------


def critical_files(app_dir: str | Path, config: str | Path | None = None, factory: str | None = None
                   ) -> dict[str, str]:
    """The registry: ``{pattern relative to the app: why it is critical}`` (see the module doc).

    ``config``: a workbench.toml (default: the app's own, if any); ``factory``:
    ``module:function`` (default: found by ``verify.find_factory``; none found is fine)."""
    app_dir = Path(app_dir).resolve()
    registry: dict[str, str] = {}
    for name in REGISTRY_FILES:
        listing = app_dir / name
        if listing.is_file():
            for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
                entry = line.split("#", 1)[0].strip()
                if entry:
                    registry.setdefault(entry.lstrip("./") if entry.startswith("./") else entry, f"listed in {name}")
    toml_path = Path(config) if config else app_dir / "workbench.toml"
    if toml_path.is_file():
        try:
            table = tomllib.loads(toml_path.read_text(encoding="utf-8")).get("integrity", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{toml_path}: cannot read [integrity]: {exc}") from None
        listed = table.get("critical_files", [])
        if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
            raise ValueError(f"{toml_path}: integrity.critical_files must be a list of strings")
        for entry in listed:
            registry.setdefault(entry, f"[integrity] critical_files of {toml_path.name}")
    migration = app_dir / "MIGRATION.json"
    if migration.is_file():
        try:
            added = json.loads(migration.read_text(encoding="utf-8")).get("added_modules") or {}
        except (OSError, ValueError):
            added = {}
        for rel in added:
            registry.setdefault(str(rel), "added by the migration (MIGRATION.json)")
    factory_file = _factory_file(app_dir, factory)
    if factory_file:
        registry.setdefault(factory_file, "holds the app factory")
    for name in _ENTRY_POINTS:
        if (app_dir / name).is_file():
            registry.setdefault(name, "an entry point")
    return registry


def _factory_file(app_dir: Path, factory: str | None) -> str | None:
    from .verify import FactoryError, _module_path, find_factory

    try:
        module = (factory or find_factory(app_dir)).partition(":")[0]
    except FactoryError:
        return None
    if (app_dir / "__init__.py").exists() and "." not in module:
        module = f"{app_dir.name}"  # the package itself
    elif (app_dir / "__init__.py").exists():
        module = f"{app_dir.name}.{module.split('.', 1)[1]}"
    path = _module_path(app_dir, module)
    return path.relative_to(app_dir).as_posix() if path.is_relative_to(app_dir) else None


def _critical_problems(app_dir: Path, registry: dict[str, str]) -> list[Problem]:
    problems = []
    for pattern, why in registry.items():
        if any(ch in pattern for ch in "*?["):
            matches = [p for p in _walk(app_dir) if fnmatch.fnmatch(p.relative_to(app_dir).as_posix(), pattern)]
            if not matches:
                problems.append(Problem("critical-file-missing", pattern, f"no file matches ({why})"))
            paths = matches
        else:
            path = app_dir / pattern
            if not path.exists():
                problems.append(Problem("critical-file-missing", pattern, f"critical file is missing ({why})"))
                continue
            paths = [path] if path.is_file() else []
        for path in paths:
            try:
                empty = not path.read_bytes().strip()
            except OSError as exc:
                problems.append(Problem("critical-file-missing", path.relative_to(app_dir).as_posix(),
                                        f"cannot be read: {exc.strerror}"))
                continue
            if empty:
                problems.append(Problem("critical-file-empty", path.relative_to(app_dir).as_posix(),
                                        f"critical file is empty ({why})"))
    return problems


# --- project-local imports, read from the source ------------------------------------------


def local_import_problems(app_dir: str | Path) -> list[Problem]:
    """Imports that should resolve inside the app (relative ones, and those of the app's own
    package or top-level modules) but name a module or a name that is not there."""
    app_dir = Path(app_dir).resolve()
    is_package = (app_dir / "__init__.py").exists()
    own_top = {app_dir.name} if is_package else {p.stem for p in app_dir.glob("*.py")} | {
        p.name for p in app_dir.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    root = app_dir.parent if is_package else app_dir
    problems = []
    for path in _walk(app_dir):
        if path.suffix != ".py":
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            continue  # reported as syntax-error
        rel = path.relative_to(app_dir).as_posix()
        package = path.parent  # the package a relative import starts from
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package
                    for _ in range(node.level - 1):
                        base = base.parent
                    if not base.is_relative_to(root):
                        continue
                    target = base.joinpath(*node.module.split(".")) if node.module else base
                    shown = "." * node.level + (node.module or "")
                elif node.module and node.module.split(".")[0] in own_top:
                    target, shown = root.joinpath(*node.module.split(".")), node.module
                else:
                    continue
                problems += _check_from(target, shown, node, rel)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in own_top:
                        target = root.joinpath(*alias.name.split("."))
                        if _source_of(target) is None:
                            problems.append(Problem("broken-import", rel, f"import {alias.name}: no such module",
                                                    line=node.lineno))
    return problems


def _source_of(target: Path) -> Path | None:
    if target.with_suffix(".py").is_file():
        return target.with_suffix(".py")
    if (target / "__init__.py").is_file():
        return target / "__init__.py"
    if target.is_dir():  # a namespace package
        return target
    return None


def _check_from(target: Path, shown: str, node: ast.ImportFrom, rel: str) -> list[Problem]:
    found = _source_of(target)
    if found is None:
        return [Problem("broken-import", rel, f"from {shown} import ...: no module {shown}", line=node.lineno)]
    names = _top_level_names(found) if found.is_file() else set()
    if names is None:  # star import or module __getattr__: anything may exist
        return []
    missing = [a.name for a in node.names if a.name != "*" and a.name not in names
               and _source_of(target / a.name) is None]
    return [Problem("broken-import", rel, f"from {shown} import {name}: {shown} has no {name}", line=node.lineno)
            for name in missing]


def _top_level_names(path: Path) -> set[str] | None:
    """Names a module defines at its top level (through if/try/with blocks); None when it
    may define any name (a star import, a module-level ``__getattr__``, ``globals()`` writes)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if node.name == "__getattr__":
                return None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With,
                               ast.AsyncWith)):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)) else \
                [i.optional_vars for i in node.items if i.optional_vars is not None]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if isinstance(node, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.While)) or \
                type(node).__name__ == "TryStar":
            for field_name in ("body", "orelse", "finalbody", "handlers"):
                pending += getattr(node, field_name, [])
        if isinstance(node, ast.ExceptHandler):
            pending += node.body
        if isinstance(node, ast.Expr) and "globals()" in ast.unparse(node):
            return None
    return names


def integrity_problems(app_dir: Path, data: dict | None = None, *, legacy: str | Path | None = None,
                       config: str | Path | None = None, factory: str | None = None) -> list[Problem]:
    """Every check on ``app_dir``; ``data`` is the probe subprocess's answer (its imports)."""
    app_dir = Path(app_dir).resolve()
    problems = _critical_problems(app_dir, critical_files(app_dir, config, factory))
    static = local_import_problems(app_dir)
    explained = {p.file for p in static}
    # A module whose import fails because of a broken import already listed: said once.
    runtime = [p for p in import_problems(app_dir, data or {})
               if not (p.file in explained and re.search(r"\b(ImportError|ModuleNotFoundError)\b", p.detail))]
    return problems + static + runtime + static_problems(app_dir, Path(legacy) if legacy else None)


def probe_command(app_dir: Path, result: Path, factory: str | None = None, modules: Iterable[str] = (),
                  secret: str = "", plan: Path | None = None, origin: Path | None = None) -> list[str]:
    """The command line of the probe subprocess (audit/probe.py)."""
    cmd = [sys.executable, "-m", "audit.probe", "--app", str(app_dir), "--result", str(result)]
    if origin:
        cmd += ["--origin", str(origin)]
    if plan:
        cmd += ["--plan", str(plan)]
    if factory:
        cmd += ["--factory", factory]
    if modules:
        cmd += ["--modules", ",".join(modules)]
    if secret:
        cmd += ["--secret", secret]
    return cmd


def probe_env(extra: dict[str, str] | None, workdir: Path, app_dir: Path | None = None) -> dict[str, str]:
    """The probe's environment: ours, a throwaway SQLite database, a JWT secret (and a random
    value for every other variable the app's MIGRATION.json lists under ``required_env``),
    ``audit`` importable."""
    env = dict(os.environ)
    env.setdefault("JWT_SECRET", "workbench-verify-" + os.urandom(16).hex())
    for name in _required_env(app_dir):
        env.setdefault(name, "workbench-verify-" + os.urandom(16).hex())
    env["DATABASE_URL"] = f"sqlite:///{workdir / 'verify.db'}"
    env["UPLOAD_DIR"] = str(workdir / "uploads")
    (workdir / "uploads").mkdir(exist_ok=True)
    env.update(extra or {})
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # do not leave __pycache__ in the audited tree
    return env


def _required_env(app_dir: Path | None) -> list[str]:
    """The variables a migrated app's MIGRATION.json says it needs at start-up."""
    if app_dir is None:
        return []
    try:
        report = json.loads((Path(app_dir) / "MIGRATION.json").read_text(encoding="utf-8"))
        return [str(name) for name in report.get("required_env", [])]
    except (OSError, ValueError, AttributeError, TypeError):
        return []  # not a migrated app, or an unreadable report: nothing more to provide


def run_probe(app_dir: Path, factory: str | None, modules: list[str], env: dict[str, str] | None,
              timeout: float, plan: dict[str, Any] | None = None) -> dict:
    """Run the probe subprocess and return its JSON result (``error`` set when it failed:
    the app crashed the interpreter, or did not finish within ``timeout`` seconds)."""
    with tempfile.TemporaryDirectory(prefix="workbench-verify-") as tmp:
        workdir = Path(tmp)
        full_env = probe_env(env, workdir, app_dir)
        result = workdir / "result.json"
        # The app runs from a copy: whatever it writes next to its code (uploads, a SQLite
        # file, caches) lands in the throwaway folder, never in the audited tree.
        original = Path(app_dir).resolve()
        app_dir = _copy_app(original, workdir / "app")
        plan_file = None
        if plan:
            plan_file = workdir / "plan.json"
            plan_file.write_text(json.dumps(plan))
        cmd = probe_command(app_dir, result, factory, modules, full_env["JWT_SECRET"], plan_file, original)
        # A session of its own: on a timeout the whole group goes, servers the app started included.
        process = subprocess.Popen(cmd, cwd=workdir, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            what = "building and probing" if factory else "importing its modules"
            return {"error": f"the app did not finish {what} within {timeout:g}s (it hangs, or is too slow); "
                             "the probe was stopped", "routes": [], "imports": []}
        if not result.exists():
            tail = " | ".join((stderr or stdout).strip().splitlines()[-5:]) or "no output"
            return {"error": f"the probe process ended (exit status {process.returncode}) without a result: {tail}",
                    "routes": [], "imports": []}
        # messages name the audited tree, not the throwaway copy
        text = result.read_text().replace(json.dumps(str(app_dir))[1:-1], json.dumps(str(original))[1:-1])
        data = json.loads(text)
        data["stderr"] = stderr[-4000:].replace(str(app_dir), str(original))
        return data


def _copy_app(app_dir: Path, into: Path) -> Path:
    import shutil

    copy = into / app_dir.name
    shutil.copytree(app_dir, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".workbench-cache",
        "*.pyc"))
    return copy


def _kill_group(process: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a pipe held open by something outside the group
        pass


def check_integrity(app_dir: str | Path, legacy: str | Path | None = None, env: dict[str, str] | None = None,
                    imports: bool = True, timeout: float = 300, *, config: str | Path | None = None,
                    factory: str | None = None) -> IntegrityReport:
    """Run every integrity check on the app at ``app_dir`` (imports in a subprocess unless
    ``imports`` is false: the static checks alone are fast enough for a pre-commit hook)."""
    app_dir = Path(app_dir).resolve()
    if not app_dir.is_dir():
        raise ValueError(f"{app_dir}: not a directory")
    modules = app_modules(app_dir) if imports else []
    data = run_probe(app_dir, None, modules, env, timeout) if modules else {}
    return IntegrityReport(integrity_problems(app_dir, data, legacy=legacy, config=config, factory=factory),
                           len(modules))


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
