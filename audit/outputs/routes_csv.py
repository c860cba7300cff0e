"""routes.csv: one row per (method, path), the contract's columns first."""

from __future__ import annotations

import csv
from pathlib import Path

from ..model import ROUTE_COLUMNS, Route

__all__ = ["write_routes_csv"]


def write_routes_csv(routes: list[Route], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=ROUTE_COLUMNS)
        writer.writeheader()
        for route in routes:
            writer.writerow(route.to_row())
    return path
