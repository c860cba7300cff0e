"""Shared data of the adapter tests: a small annotated sample app and the tools' recorded JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "sample"


def recorded(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def annotations(root: Path) -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]]]:
    """(rule id, file, line) pairs from ``ruleid:`` and ``ok:`` comments: they speak about the next line."""
    want, unwanted = set(), set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".js", ".ts"):
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = re.search(r"(?:#|//)\s*(ruleid|ok):\s*([\w.-]+)", line)
            if match:
                (want if match.group(1) == "ruleid" else unwanted).add((match.group(2), rel, number + 1))
    return want, unwanted
