"""audit.report.tables: counts, coverage and before/after from synthetic maps."""

from __future__ import annotations

from audit.model import Category
from audit.report import tables


def test_by_category_counts_and_plain_labels(before_map):
    frame = tables.by_category(before_map).set_index("category")
    assert frame.loc["missing-auth", "total"] == 3 and frame.loc["missing-auth", "high"] == 3
    assert frame.loc["missing-auth", "what it means"] == Category.MISSING_AUTH.plain_label
    assert frame["total"].sum() == len(before_map.finding_list)
    assert len(tables.by_category(before_map, "high")) == 2  # missing-auth, hardcoded-secret


def test_coverage_counts_private_sensitive_and_all(before_map, after_map):
    assert tables.coverage(before_map) == {
        "authenticated": {"covered": 0, "of": 3},
        "validated": {"covered": 2, "of": 4},
        "rate_limited": {"covered": 0, "of": 1},
    }
    after = tables.compare_coverage(before_map, after_map).set_index("measure")
    assert after.loc["authenticated", "after"] == 3 and after.loc["rate_limited", "after"] == 1


def test_compare_categories_before_after(before_map, after_map):
    frame = tables.compare_categories(before_map, after_map).set_index("category")
    assert frame.loc["missing-auth", "before"] == 3 and frame.loc["missing-auth", "after"] == 0
    assert frame.loc["debug-logging", "after"] == 1 and frame.loc["debug-logging", "removed"] == 0
    assert "ssrf" not in frame.index  # absent before and after


def test_data_access_and_by_module(before_map):
    access = tables.data_access(before_map).set_index("file")
    assert access.loc["routes/posts.py", "storage"] == 1 and access.loc["routes/posts.py", "direct"] == 1
    assert access.loc["routes/posts.py", "direct routes"] == "POST /api/posts/"
    modules = tables.by_module(before_map)
    assert modules.iloc[0]["file"] == "routes/posts.py" and modules.iloc[0]["total"] == 3


def test_migration_notes_read_any_nesting():
    report = {"files": {
        "routes/a.py": {"codemods": ["add-auth"], "left_for_human": [{"what": "injection", "line": 4, "reason": "raw SQL"}]},
        "routes/b.py": {"skipped": "syntax error"},
    }, "notes": []}
    notes = tables.migration_notes(report)
    assert notes.to_dict("records") == [
        {"file": "routes/a.py", "note": "injection (line 4): raw SQL"},
        {"file": "routes/b.py", "note": "syntax error"},
    ]
    assert tables.migration_notes({}).empty
