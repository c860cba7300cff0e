"""audit.report.charts: PNG charts that render and embed."""

from __future__ import annotations

import base64

import pandas as pd

from audit.report import charts, tables


def _is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 500


def test_every_chart_renders_png(before_map, after_map):
    compared = tables.compare_categories(before_map, after_map)
    coverage = tables.compare_coverage(before_map, after_map)
    plan_frame = pd.DataFrame({"batch": [0, 1], "name": ["foundation", "routes/posts.py"],
                               "removes": [3, 4], "needs_a_human": [1, 0]})
    for chart in (charts.before_after(compared), charts.coverage_bars(coverage), charts.plan_bars(plan_frame),
                  charts.horizontal_bars(["a", "b"], [1, 2], "t")):
        assert _is_png(chart._repr_png_())
        uri = chart.data_uri()
        assert uri.startswith("data:image/png;base64,")
        assert _is_png(base64.b64decode(uri.split(",", 1)[1]))


def test_empty_inputs_still_give_a_chart():
    assert _is_png(charts.horizontal_bars([], [], "nothing").png())
    assert _is_png(charts.before_after(pd.DataFrame(columns=["what it means", "before", "after"])).png())
