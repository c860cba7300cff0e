"""audit.report.export: stage reports without code, self-contained, escaped."""

from __future__ import annotations

import base64

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from audit.report import charts, views
from audit.report.export import export_html, external_resources

EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


def _executed_notebook():
    chart = charts.horizontal_bars(["a", EVIL], [1, 2], "t")
    table = views.table(pd.DataFrame({"file": [f"{EVIL}.py"], "message": [EVIL_IMG]}))
    return new_notebook(cells=[
        new_markdown_cell("# Stage title\n\nA narrative for the reader."),
        new_code_cell("CODE_MARKER = views.table(frame)", execution_count=1, outputs=[
            new_output("display_data", {"text/html": str(table), "text/plain": repr(table)}),
        ]),
        new_code_cell("chart_marker()", execution_count=2, outputs=[
            new_output("display_data", {"image/png": base64.b64encode(chart.png()).decode(), "text/plain": repr(chart)}),
        ]),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_stage_report_has_no_code_and_keeps_outputs(tmp_path):
    path = export_html(_executed_notebook(), tmp_path / "stage.html", title="01_map: Map")
    html = path.read_text()
    assert "CODE_MARKER" not in html and "chart_marker" not in html
    assert "A narrative for the reader." in html
    assert "data:image/png;base64," in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html


def test_engineer_export_keeps_code(tmp_path):
    html = export_html(_executed_notebook(), tmp_path / "with_code.html", code=True).read_text()
    assert "CODE_MARKER" in html


def test_stage_report_is_self_contained(tmp_path):
    html = export_html(_executed_notebook(), tmp_path / "stage.html").read_text()
    assert external_resources(html) == []
    assert "<script" not in html.lower()  # no require.js, MathJax or anything else


def test_notebook_file_input(tmp_path):
    nb_path = tmp_path / "nb.ipynb"
    nbformat.write(_executed_notebook(), str(nb_path))
    assert "Stage title" in export_html(nb_path, tmp_path / "x.html").read_text()


def test_external_resources_finds_what_a_browser_would_fetch():
    page = """<html><head>
    <script src="https://cdn.example/require.js"></script>
    <link rel="stylesheet" href="//cdn.example/x.css">
    <style>/* see https://example.org in a comment */ body { background: url('https://img.example/bg.png'); }
    @import "http://cdn.example/more.css";</style></head>
    <body><img src="data:image/png;base64,AAAA"><img srcset="a.png 1x, https://img.example/b.png 2x">
    <a href="https://example.org/docs">a link, not fetched</a>
    <div style="background-image: url(http://img.example/c.png)"></div>
    <iframe src="file.html"></iframe></body></html>"""
    found = external_resources(page)
    assert sorted(found) == sorted([
        "https://cdn.example/require.js", "//cdn.example/x.css", "https://img.example/bg.png",
        "http://cdn.example/more.css", "https://img.example/b.png", "http://img.example/c.png",
    ])
