"""The reports' charts: matplotlib figures rendered to PNG, shown inline in notebooks and
embedded as ``data:`` URIs in HTML (no JavaScript, nothing fetched).

Figures are built with ``matplotlib.figure.Figure`` directly, not through pyplot, so
no global figure state leaks between charts and no GUI backend is ever needed.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["Chart", "before_after", "coverage_bars", "horizontal_bars", "plan_bars"]

_BEFORE, _AFTER, _BAR = "#c0504d", "#4f81bd", "#4f81bd"


@dataclass
class Chart:
    """A rendered chart: shows itself as a PNG in Jupyter, and as an ``<img>`` data URI in HTML."""

    figure: Figure
    title: str

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"<chart: {self.title}>"

    def _repr_png_(self) -> bytes:  # IPython's display protocol: papermill records it as image/png
        return self.png()

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png()).decode("ascii")


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _empty(title: str, message: str) -> Chart:
    fig = Figure(figsize=(6, 1.2))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_title(title)
    return Chart(fig, title)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str = "") -> Chart:
    """One bar per label, the first label on top."""
    if not len(labels):
        return _empty(title, "nothing to show")
    fig = Figure(figsize=(7.5, 0.45 * len(labels) + 1.2))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, list(values), color=_BAR)
    ax.set_yticks(positions, [_shorten(str(label)) for label in labels])
    for y, v in zip(positions, values):
        ax.text(v, y, f" {v:g}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, title)


def before_after(frame: pd.DataFrame, title: str = "Findings before and after the migration",
                 label: str = "what it means") -> Chart:
    """Paired bars per row of a frame with ``before`` and ``after`` columns."""
    if frame.empty:
        return _empty(title, "no findings before or after")
    labels = [_shorten(str(v)) for v in frame[label]]
    fig = Figure(figsize=(8, 0.55 * len(labels) + 1.4))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    height = 0.38
    ax.barh([p + height / 2 for p in positions], frame["before"], height, label="before", color=_BEFORE)
    ax.barh([p - height / 2 for p in positions], frame["after"], height, label="after", color=_AFTER)
    ax.set_yticks(positions, labels)
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, title)


def coverage_bars(frame: pd.DataFrame, title: str = "Route coverage before and after") -> Chart:
    """Per measure of :func:`audit.report.tables.compare_coverage`: the covered share before and after."""
    if frame.empty:
        return _empty(title, "no routes")

    def share(covered: int, of: int) -> float:
        return 100.0 * covered / of if of else 100.0

    shares = pd.DataFrame({
        "what it means": frame["what it means"],
        "before": [share(c, o) for c, o in zip(frame["before"], frame["before_of"])],
        "after": [share(c, o) for c, o in zip(frame["after"], frame["after_of"])],
    })
    chart = before_after(shares, title)
    ax = chart.figure.axes[0]
    ax.set_xlim(0, 105)
    ax.set_xlabel("% of routes")
    return chart


def plan_bars(plan_frame: pd.DataFrame, title: str = "Findings removed and left per batch") -> Chart:
    """Per batch of a plan: findings its codemods remove and findings left for a human."""
    if plan_frame.empty:
        return _empty(title, "no batches")
    labels = [f"{b}: {_shorten(str(n), 36)}" for b, n in zip(plan_frame["batch"], plan_frame["name"])]
    fig = Figure(figsize=(8, 0.5 * len(labels) + 1.4))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, plan_frame["removes"], color=_AFTER, label="removed by codemods")
    ax.barh(positions, plan_frame["needs_a_human"], left=plan_frame["removes"], color=_BEFORE,
            label="needs a human")
    ax.set_yticks(positions, labels)
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, title)
