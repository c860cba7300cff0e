"""A content-hash cache of per-file results, so that re-mapping after a one-file change
re-analyses one file.

Keys combine the file's content hash with the version of the code that produced the
result (and, for rule findings, a hash of the file's context: its routes and the project
facts it sees), so a stale entry is never used. One SQLite file, written only by the
map's main process; never inside SRC.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Cache", "NullCache", "code_hash", "default_cache_dir", "open_cache"]


def default_cache_dir(src: Path, out: Path | None) -> Path:
    """``<out>/.cache`` when an output folder outside SRC is given, else ``~/.cache/workbench/<hash of SRC>``."""
    src = src.resolve()
    if out is not None:
        out = Path(out).resolve()
        if out != src and src not in out.parents:
            return out / ".cache"
    key = hashlib.sha256(str(src).encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "workbench" / key


def code_hash(paths: Iterable[Path], extra: str = "") -> str:
    """A hash of the given source files (the analysis code), so results of older code are ignored."""
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        try:
            h.update(p.name.encode())
            h.update(p.read_bytes())
        except OSError:
            continue
    return h.hexdigest()[:24]


class Cache:
    """Pickled values by string key in one SQLite file."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "results.sqlite3"
        # Several maps of one SRC may run at once (parallel tests, two terminals): wait for the
        # other writer instead of failing, and let readers proceed while one writes (WAL).
        self._db = sqlite3.connect(self.path, timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error:
            pass  # a file system without shared memory: the default journal still works
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB)")
        self.hits = self.misses = 0
        self.errors: list[str] = []

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i:i + 500]
            try:
                rows = self._db.execute(
                    f"SELECT key, value FROM results WHERE key IN ({','.join('?' * len(batch))})", batch).fetchall()
            except sqlite3.Error as exc:  # a broken or busy cache is a miss, never a failed map
                self.errors.append(str(exc))
                rows = []
            for key, blob in rows:
                try:
                    found[key] = pickle.loads(blob)
                except Exception:  # an entry written by incompatible code: treat as a miss
                    continue
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: dict[str, Any]) -> None:
        if not items:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)",
                                     [(k, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for k, v in items.items()])
        except sqlite3.Error as exc:
            self.errors.append(str(exc))

    def close(self) -> None:
        self._db.close()


class NullCache:
    """The cache when caching is off: never finds anything, stores nothing."""

    hits = misses = 0
    path = None
    errors: list[str] = []

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        self.misses += len(keys)
        return {}

    def put_many(self, items: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None


def open_cache(directory: Path) -> "Cache | NullCache":
    """The cache in ``directory``, or a NullCache (with the reason in ``errors``) when it
    cannot be created there (read-only home, full disk, corrupt file)."""
    try:
        return Cache(directory)
    except (OSError, sqlite3.Error) as exc:
        null = NullCache()
        null.errors = [f"cache disabled: {directory}: {exc}"]
        return null
