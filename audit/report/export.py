"""Executed notebooks to self-contained HTML, and the check that a page fetches nothing.

The stage reports use JupyterLab's HTML template minus its CDN scripts (require.js,
MathJax, Mermaid, widget managers; see ``assets/offline.html.j2``), with the code cells
and prompts left out, so that a stakeholder reads narrative, tables and charts only.
Charts are PNG outputs, which nbconvert embeds as base64 ``data:`` URIs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

__all__ = ["ASSETS", "export_html", "external_resources"]

ASSETS = Path(__file__).with_name("assets")


def export_html(notebook: "str | Path | nbformat.NotebookNode", html_path: str | Path, *,
                code: bool = False, title: str | None = None) -> Path:
    """Write ``notebook`` as one HTML file that opens offline; without ``code``, no code cells."""
    # Imported here: nbformat pulls in jsonschema, which takes seconds to import, and the
    # notebooks import this package without ever exporting anything.
    import nbformat
    from nbconvert import HTMLExporter

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(str(notebook), as_version=4)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(ASSETS)])
    exporter.template_file = "offline.html.j2"
    exporter.embed_images = True  # images referenced from markdown become data: URIs too
    exporter.exclude_input = not code
    exporter.exclude_input_prompt = not code
    exporter.exclude_output_prompt = not code
    body, _ = exporter.from_notebook_node(nb)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


_LOADING_ATTRS = {"src", "href", "srcset", "data", "poster", "action", "formaction", "background"}
_LOADING_TAGS = {"script", "link", "img", "iframe", "frame", "source", "audio", "video", "embed", "object",
                 "track", "input", "image", "use", "form", "body", "table", "td"}
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])\s*((?:[a-z][a-z0-9+.-]*:)?//[^'\")\s]+)", re.IGNORECASE)


class _ResourceParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            if tag in _LOADING_TAGS and name in _LOADING_ATTRS:
                candidates = [c.strip().split(" ")[0] for c in value.split(",")] if name == "srcset" else [value]
                self.found.extend(c for c in candidates if _REMOTE.match(c))
            if name == "style":
                self.found.extend(_CSS_REMOTE.findall(value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            without_comments = re.sub(r"/\*.*?\*/", "", data, flags=re.DOTALL)
            self.found.extend(_CSS_REMOTE.findall(without_comments))


def external_resources(html_text: str) -> list[str]:
    """Every URL outside the file that the page would load by itself (scripts, styles, images,
    frames, CSS ``url()``/``@import``); links a reader may click (``<a href>``) do not count."""
    parser = _ResourceParser()
    parser.feed(html_text)
    parser.close()
    return parser.found
