"""audit.report.views: everything from the audited code is escaped."""

from __future__ import annotations

import difflib

import pandas as pd

from audit.report import views

EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


def _unified(name_a, name_b, a, b):
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), f"a/{name_a}", f"b/{name_b}"))


def test_table_escapes_cells_and_headers():
    frame = pd.DataFrame({EVIL: [EVIL, EVIL_IMG]})
    html = str(views.table(frame))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_table_cuts_long_frames_and_says_so():
    html = str(views.table(pd.DataFrame({"n": range(10)}), max_rows=3))
    assert html.count("<td>") == 3
    assert "7 more row(s)" in html


def test_note_items_figures_escape():
    for fragment in (views.note(EVIL), views.items([EVIL_IMG]), views.figures([(EVIL, 3, EVIL_IMG)])):
        html = fragment._repr_html_()
        assert "<script>" not in html and "<img" not in html


def test_split_diff_one_piece_per_file():
    text = _unified("app.py", "app.py", "a = 1\nb = 2\n", "a = 1\nb = 3\nc = 4\n") + \
        _unified("my file.py", "my file.py", "x\n", "y\n")
    pieces = views.split_diff(text)
    assert [p.file for p in pieces] == ["app.py", "my file.py"]
    assert (pieces[0].added, pieces[0].removed) == (2, 1)
    assert (pieces[1].added, pieces[1].removed) == (1, 1)
    assert "".join(p.text for p in pieces) == text


def test_diff_escapes_file_names_and_lines_and_filters():
    text = _unified(f"{EVIL}.py", f"{EVIL}.py", "x = 1\n", f"x = '{EVIL_IMG}'\n") + _unified("b.py", "b.py", "1\n", "2\n")
    html = str(views.diff(text))
    assert "<script>" not in html and "<img" not in html
    assert html.count("<details") == 2
    assert str(views.diff(text, files=["b.py"])).count("<details") == 1
    assert "no changes" in str(views.diff(""))


def test_html_fragment_has_a_short_plain_repr():
    fragment = views.note("hello")
    assert repr(fragment).startswith("<") and "characters of HTML" in repr(fragment)
