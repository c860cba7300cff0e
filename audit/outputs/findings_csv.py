"""findings.csv: one row per finding (suppressed ones included, flagged), contract columns first."""

from __future__ import annotations

import csv
from pathlib import Path

from ..model import FINDING_COLUMNS, Finding

__all__ = ["write_findings_csv"]


def write_findings_csv(findings: list[Finding], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FINDING_COLUMNS)
        writer.writeheader()
        for finding in findings:
            writer.writerow(finding.to_row())
    return path
