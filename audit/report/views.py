"""What the notebooks display: tables, notes, headline figures and diffs as HTML fragments.

Everything that can come from the audited code (file names, messages, snippets, diff
lines) is escaped here, so a legacy string such as ``<script>alert(1)</script>`` shows
as text in JupyterLab and in the exported HTML. Notebooks never build HTML or
Markdown themselves: Markdown output would pass raw HTML through.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Iterable

import pandas as pd

__all__ = ["Html", "batch_diffs", "diff", "figures", "items", "note", "split_diff", "table"]


class Html:
    """An HTML fragment that Jupyter displays as HTML (``text/html``); ``str()`` gives the markup."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def __str__(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # the text/plain fallback stays short in the executed notebook
        return f"<{len(self.markup)} characters of HTML>"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def _repr_html_(self) -> str:
        return self.markup


def note(text: str, kind: str = "info") -> Html:
    """A short escaped paragraph; ``kind`` is info, ok, warning or error (a coloured left border)."""
    colour = {"info": "#4f81bd", "ok": "#3a7d44", "warning": "#c9a227", "error": "#c0504d"}.get(kind, "#4f81bd")
    return Html(f'<p style="border-left:4px solid {colour};padding:4px 10px;margin:6px 0;white-space:pre-wrap">'
                f"{html.escape(str(text))}</p>")


def items(lines: Iterable[str]) -> Html:
    """An escaped bullet list."""
    body = "".join(f"<li>{html.escape(str(line))}</li>" for line in lines)
    return Html(f"<ul>{body}</ul>" if body else "<p><em>none</em></p>")


def table(frame: pd.DataFrame, max_rows: int | None = 60, caption: str = "") -> Html:
    """A DataFrame as an escaped HTML table (no index), with a note when rows were cut."""
    shown = frame if max_rows is None or len(frame) <= max_rows else frame.head(max_rows)
    out = ""
    if caption:
        out += f"<p><strong>{html.escape(caption)}</strong></p>"
    if frame.empty:
        return Html(out + "<p><em>none</em></p>")
    out += shown.to_html(index=False, escape=True, border=0, classes="wb-table")
    if len(shown) < len(frame):
        out += f"<p><em>{len(frame) - len(shown)} more row(s) not shown: see the CSV files.</em></p>"
    return Html(out)


def figures(rows: Iterable[tuple[str, object, object]]) -> Html:
    """Headline figures ``label: before → after`` as an escaped list."""
    body = "".join(
        f'<li><span class="wb-label">{html.escape(str(label))}</span>: '
        f'<strong class="wb-before">{html.escape(str(before))}</strong> → '
        f'<strong class="wb-after">{html.escape(str(after))}</strong></li>'
        for label, before, after in rows)
    return Html(f'<ul class="wb-figures">{body}</ul>' if body else "<p><em>none</em></p>")


@dataclass(frozen=True)
class FileDiff:
    """The part of a unified diff that concerns one file."""

    file: str
    text: str

    @property
    def added(self) -> int:
        return sum(1 for line in self.text.splitlines() if line.startswith("+") and not line.startswith("+++"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.text.splitlines() if line.startswith("-") and not line.startswith("---"))


_PLUS = re.compile(r"^\+\+\+ (?:b/)?(?P<path>.+?)(?:\t.*)?\s*$")
_MINUS = re.compile(r"^--- (?:a/)?(?P<path>.+?)(?:\t.*)?\s*$")


def split_diff(text: str) -> list[FileDiff]:
    """Split a unified diff (several files) into one piece per file."""
    lines = (text or "").splitlines(keepends=True)
    starts = [i for i in range(len(lines) - 1) if lines[i].startswith("--- ") and lines[i + 1].startswith("+++ ")]
    pieces = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        # A "diff --git" or similar header line just before the next file belongs to it.
        while n + 1 < len(starts) and end > start + 2 and not lines[end - 1].startswith((" ", "+", "-", "@", "\\")):
            end -= 1
        plus = _PLUS.match(lines[start + 1])
        path = plus.group("path") if plus else ""
        if path in ("/dev/null", ""):
            minus = _MINUS.match(lines[start])
            path = minus.group("path") if minus else "?"
        pieces.append(FileDiff(path, "".join(lines[start:end])))
    return pieces


_LINE_STYLE = {"+": "background:#e6ffec", "-": "background:#ffebe9", "@": "color:#6f42c1"}


def diff(text: str, files: Iterable[str] | None = None, open_first: int = 0) -> Html:
    """A unified diff as one collapsible, escaped block per file (optionally only ``files``)."""
    wanted = set(files) if files is not None else None
    pieces = [p for p in split_diff(text) if wanted is None or p.file in wanted]
    if not pieces:
        return Html("<p><em>no changes</em></p>")
    blocks = []
    for n, piece in enumerate(pieces):
        body = "".join(
            f'<span style="{_LINE_STYLE.get(line[:1], "")}">{html.escape(line)}</span>'
            for line in piece.text.splitlines(keepends=True))
        opened = " open" if n < open_first else ""
        blocks.append(
            f"<details{opened}><summary><code>{html.escape(piece.file)}</code> "
            f"(+{piece.added} / -{piece.removed})</summary>"
            f'<pre style="font-size:12px;overflow-x:auto">{body}</pre></details>')
    return Html("".join(blocks))


def batch_diffs(outcomes: Iterable) -> Html:
    """Per applied batch (``audit.plan.BatchOutcome``): a heading and its per-file diffs."""
    parts = []
    for o in outcomes:
        title = f"Batch {o.batch}: {o.name}" if o.batch >= 0 else "All batches at once"
        timing = f" in {o.seconds:.1f} s" if o.seconds is not None else ""
        parts.append(f"<h4>{html.escape(title)}</h4>"
                     f"<p>{len(o.files_changed)} file(s) changed{timing}.</p>"
                     + str(diff(o.diff)))
    return Html("".join(parts) or "<p><em>nothing applied</em></p>")
