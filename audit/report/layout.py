"""Where each stage of a run writes its results inside the run's output folder.

The notebooks hand results to each other only through these files (never through
kernel state), so every stage can be re-run on its own and the summary can be
rebuilt from disk, even after a partial run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunLayout", "STAGES", "resolve"]

# The four notebooks, in pipeline order: (file stem, title).
STAGES = (
    ("01_map", "Map"),
    ("02_breakdown", "Breakdown"),
    ("03_mitigate", "Mitigate"),
    ("04_deploy", "Deploy"),
)


def resolve(root: str | Path, path: str | Path | None) -> Path | None:
    """``path`` made absolute against ``root`` (the repository root) unless it already is."""
    if path is None or str(path) == "":
        return None
    p = Path(path).expanduser()
    return p if p.is_absolute() else (Path(root).expanduser() / p).resolve()


@dataclass(frozen=True)
class RunLayout:
    """The files of one run under ``out``."""

    out: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))

    @property
    def map_dir(self) -> Path:  # the legacy app's map: routes.csv, findings.csv, findings.sarif, summary.json
        return self.out / "map"

    @property
    def plan_json(self) -> Path:
        return self.out / "plan.json"

    @property
    def mitigate_json(self) -> Path:  # what the mitigate stage applied, batch by batch
        return self.out / "mitigate.json"

    @property
    def target_map_dir(self) -> Path:  # the migrated app's map
        return self.out / "target_map"

    @property
    def verify_dir(self) -> Path:
        return self.out / "verify"

    @property
    def verify_json(self) -> Path:
        return self.out / "verify" / "verify.json"

    @property
    def legacy_verify_dir(self) -> Path:  # the legacy app, probed the same way, for the side-by-side view
        return self.out / "verify_legacy"

    @property
    def legacy_verify_json(self) -> Path:
        return self.out / "verify_legacy" / "verify.json"

    @property
    def notebooks_dir(self) -> Path:  # the executed notebooks, with code, for engineers
        return self.out / "notebooks"

    @property
    def summary_json(self) -> Path:  # the run's summary (headline figures, stage times, status)
        return self.out / "summary.json"

    @property
    def index_html(self) -> Path:
        return self.out / "index.html"

    def stage_html(self, stem: str) -> Path:
        return self.out / f"{stem}.html"

    def stage_notebook(self, stem: str) -> Path:
        return self.notebooks_dir / f"{stem}.ipynb"
