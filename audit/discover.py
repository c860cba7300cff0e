"""Which files of SRC the map reads, and why the others were skipped.

Walking SRC is read only and never follows a link out of it. :func:`discover`
returns the Python files to analyse (and the JavaScript/TypeScript files for
semgrep) plus a :class:`~audit.model.FileSkip` for everything left out on
purpose (dependency folders, ``.gitignore``'d paths, config excludes, symlinks
leading outside SRC or in a loop, files too large, unreadable files).
:func:`read_source` then decodes one file the way Python itself would (PEP 263
coding cookie, BOM) and says when a file is binary, not decodable, empty or
decoded only by a fallback encoding.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from .config import Config
from .model import FileSkip

__all__ = ["Discovery", "SourceFile", "SourceText", "discover", "module_names", "read_source", "looks_like_python2"]

PYTHON_SUFFIXES = (".py", ".pyw")
SCRIPT_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx")

# Folders that hold dependencies, virtualenvs, build output or VCS data: never the project's code.
IGNORED_DIRS = frozenset({
    "node_modules", ".venv", "venv", "site-packages", "dist-packages", ".git", ".hg", ".svn",
    "__pycache__", "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".eggs", ".ipynb_checkpoints", "bower_components",
})


@dataclass(frozen=True)
class SourceFile:
    """A file to analyse: ``rel`` is relative to SRC with forward slashes."""

    rel: str
    path: Path
    size: int


@dataclass
class Discovery:
    """The outcome of walking SRC."""

    src: Path
    python: list[SourceFile] = field(default_factory=list)
    scripts: list[SourceFile] = field(default_factory=list)  # JS/TS, for semgrep
    skipped: list[FileSkip] = field(default_factory=list)


@dataclass(frozen=True)
class SourceText:
    """A decoded Python file, or the reason it could not be decoded (``skip``)."""

    text: str | None
    encoding: str = "utf-8"
    skip: FileSkip | None = None  # set when text is None (not analysed) or as a note (analysed anyway)


class _IgnoreRules:
    """The ``.gitignore`` files met while walking, each applied below its own folder."""

    def __init__(self, src: Path, extra: tuple[str, ...]):
        self._specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        if extra:
            self._specs.append(("", pathspec.GitIgnoreSpec.from_lines(extra)))
        self.src = src

    def add_gitignore(self, rel_dir: str, path: Path) -> None:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return  # an unreadable .gitignore ignores nothing; the walk goes on
        self._specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))

    def matches(self, rel: str, is_dir: bool) -> bool:
        for base, spec in self._specs:
            if base and not rel.startswith(base + "/"):
                continue
            sub = rel[len(base) + 1:] if base else rel
            if spec.match_file(sub + "/" if is_dir else sub):
                return True
        return False


def discover(src: str | Path, config: Config | None = None, *, exclude_dirs: tuple[Path, ...] = ()) -> Discovery:
    """Walk ``src`` (never following links out of it) and sort its files.

    ``exclude_dirs`` are absolute folders inside SRC to leave out silently (the map's own
    output folder when the user put it inside SRC).
    """
    config = config or Config()
    root = Path(src)
    result = Discovery(src=root)
    real_root = root.resolve()
    ignore = _IgnoreRules(root, config.exclude)
    excluded = {p.resolve() for p in exclude_dirs}

    def on_error(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        result.skipped.append(FileSkip(_rel(root, where), "unreadable", exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(root, topdown=True, onerror=on_error, followlinks=False):
        here = Path(dirpath)
        rel_here = _rel(root, here)
        if ".gitignore" in filenames:
            ignore.add_gitignore("" if rel_here == "." else rel_here, here / ".gitignore")
        keep = []
        for name in sorted(dirnames):
            full = here / name
            rel = _rel(root, full)
            if full.resolve() in excluded:
                continue
            if name in IGNORED_DIRS or name.endswith(".egg-info"):
                result.skipped.append(FileSkip(rel + "/", "ignored", "dependency, build or VCS folder"))
            elif full.is_symlink():
                result.skipped.append(_symlink_skip(full, rel + "/", real_root))
            elif ignore.matches(rel, is_dir=True):
                result.skipped.append(FileSkip(rel + "/", "ignored", "matched .gitignore or config exclude"))
            else:
                keep.append(name)
        dirnames[:] = keep  # prune in place: os.walk only descends into what is kept
        for name in sorted(filenames):
            if not name.endswith(PYTHON_SUFFIXES + SCRIPT_SUFFIXES):
                continue
            full = here / name
            rel = _rel(root, full)
            if full.is_symlink():
                result.skipped.append(_symlink_skip(full, rel, real_root))
                continue
            if ignore.matches(rel, is_dir=False):
                result.skipped.append(FileSkip(rel, "ignored", "matched .gitignore or config exclude"))
                continue
            try:
                st = full.stat()
            except OSError as exc:
                result.skipped.append(FileSkip(rel, "unreadable", exc.strerror or str(exc)))
                continue
            if not os.access(full, os.R_OK):
                result.skipped.append(FileSkip(rel, "unreadable", "permission denied"))
                continue
            if st.st_size > config.max_file_bytes:
                result.skipped.append(FileSkip(rel, "too-large", f"{st.st_size} bytes > limit {config.max_file_bytes}"))
                continue
            item = SourceFile(rel, full, st.st_size)
            (result.python if name.endswith(PYTHON_SUFFIXES) else result.scripts).append(item)
    return result


def _rel(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/")


def _symlink_skip(link: Path, rel: str, real_root: Path) -> FileSkip:
    """Why a symlink is not followed: a loop, a target outside SRC, a dangling link, or a
    target inside SRC that the walk reaches under its own path anyway."""
    try:
        target = link.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports loops as RuntimeError
        return FileSkip(rel, "symlink-loop", "symbolic link loop")
    except OSError as exc:
        if "loop" in str(exc).lower() or getattr(exc, "errno", None) == 40:
            return FileSkip(rel, "symlink-loop", "symbolic link loop")
        return FileSkip(rel, "broken-symlink", "link target does not exist")
    if target != real_root and real_root not in target.parents:
        return FileSkip(rel, "outside-src", "link leads outside SRC; not followed")
    if link.parent.resolve() == target or target in link.parent.resolve().parents:
        return FileSkip(rel, "symlink-loop", "link points at one of its own parent folders")
    return FileSkip(rel, "symlink", f"link inside SRC to {os.path.relpath(target, real_root)}; analysed at its own path")


def module_names(python_rels: list[str], src_name: str) -> dict[str, str]:
    """The dotted module name of every Python file (``routes/posts.py`` -> ``legacy_app.routes.posts``
    when SRC is the package ``legacy_app``): the import root of a file is the folder above the
    longest chain of package folders (folders with ``__init__.py``) that holds it."""
    package_dirs = {rel.rpartition("/")[0] for rel in python_rels if rel.rsplit("/", 1)[-1] == "__init__.py"}
    names = {}
    for rel in python_rels:
        dirs = rel.split("/")[:-1]
        stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        start = len(dirs)
        while start > 0 and "/".join(dirs[:start]) in package_dirs:
            start -= 1
        parts = dirs[start:] + ([] if stem == "__init__" else [stem])
        if start == 0 and "" in package_dirs and src_name:
            parts = [src_name, *parts]
        names[rel] = ".".join(parts) or src_name or stem
    return names


_PY2_PATTERNS = re.compile(
    r"^\s*print\s+(?![\s(=]|$)[^\n]*$"  # print statement
    r"|^\s*except\s+[\w.]+\s*,\s*\w+\s*:"  # except X, e:
    r"|^\s*exec\s+[\"'\w]"  # exec statement
    r"|^\s*raise\s+[\w.]+\s*,\s*[^\n]+$"  # raise E, "msg"
    r"|\bur[\"']"  # ur"" literals
    r"|<>",
    re.MULTILINE,
)


def looks_like_python2(text: str) -> bool:
    """Whether a file that Python 3 cannot parse is written in Python 2."""
    return bool(_PY2_PATTERNS.search(text))


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


def read_source(path: Path, rel: str) -> SourceText:
    """Decode one Python file as the interpreter would: BOM or PEP 263 cookie first, else
    UTF-8; a file without cookie that is not UTF-8 is decoded as cp1252 (latin-1 as last
    resort) and analysed, with a note."""
    try:
        data = path.read_bytes()
    except PermissionError:
        return SourceText(None, skip=FileSkip(rel, "unreadable", "permission denied"))
    except OSError as exc:
        return SourceText(None, skip=FileSkip(rel, "unreadable", exc.strerror or str(exc)))
    if not data.strip():
        return SourceText("", skip=FileSkip(rel, "empty", "empty file; analysed"))
    if b"\x00" in data[:8192]:
        return SourceText(None, skip=FileSkip(rel, "binary", "contains NUL bytes"))
    try:
        declared, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "unknown encoding" in str(exc) or "encoding problem" in str(exc):  # the cookie names no codec
            return SourceText(None, skip=FileSkip(rel, "encoding", str(exc)))
        declared = "utf-8"  # no cookie and the first lines are not UTF-8: fall back below
    has_cookie = _COOKIE.search(b"\n".join(data.split(b"\n", 2)[:2])) is not None or data.startswith(b"\xef\xbb\xbf")
    try:
        return SourceText(data.decode(declared), encoding=declared,
                          skip=FileSkip(rel, "encoding", f"declared {declared} (coding cookie); analysed")
                          if declared not in ("utf-8", "utf-8-sig") else None)
    except UnicodeDecodeError as exc:
        if has_cookie:
            return SourceText(None, skip=FileSkip(rel, "encoding", f"not valid {declared} as declared: {exc.reason}"))
    for fallback in ("cp1252", "latin-1"):
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        return SourceText(text, encoding=fallback,
                          skip=FileSkip(rel, "encoding", f"not UTF-8 and no coding cookie; decoded as {fallback} and analysed"))
    return SourceText(None, skip=FileSkip(rel, "encoding", "undecodable"))  # unreachable: latin-1 decodes anything
