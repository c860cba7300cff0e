"""The map's output formats, one small module with one function each (as bandit's formatters):
:func:`routes_csv.write_routes_csv`, :func:`findings_csv.write_findings_csv`,
:func:`sarif.build_sarif`, :func:`summary.write_summary`."""
