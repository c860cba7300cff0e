"""summary.json: counts, files, skipped files with reasons, tools, timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["write_summary"]


def write_summary(summary: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(summary, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path
