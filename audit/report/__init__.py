"""Reports for the three audiences: tables and charts for notebooks (engineers), the
per-stage HTML exports and the ``index.html`` summary (stakeholders).

- :mod:`.tables`: DataFrames built from maps (inventory, findings, coverage, before/after).
- :mod:`.charts`: matplotlib charts shown inline in notebooks and embedded as PNG in HTML.
- :mod:`.views`: the escaped HTML fragments the notebooks display (tables, notes, diffs).
- :mod:`.export`: executed notebooks to self-contained HTML; the offline check.
- :mod:`.build`: the summary page from a run's files.
- :mod:`.layout`: where each stage writes inside the run's output folder.
"""
