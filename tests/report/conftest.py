"""Synthetic map results for the report tests (built from audit.model, no engine needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from audit.model import Category, Finding, Route, Severity

EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="alert(2)">'


def _route(method, path, file, line, **flags):
    return Route(method=method, path=path, file=file, line=line, handler=f"h{line}", framework="flask",
                 end_line=line + 10, **flags)


def _finding(category, severity, file, line, message="", route="", fixed_by="a-codemod"):
    return Finding(rule_id="WB999", category=category, severity=severity, confidence=Severity.HIGH,
                   file=file, line=line, message=message or f"{category} here", route=route,
                   fixed_by=fixed_by, snippet=f"x = {line}")


@pytest.fixture
def before_map():
    routes = [
        _route("GET", "/api/posts/", "routes/posts.py", 10, data_access="storage"),
        _route("POST", "/api/posts/", "routes/posts.py", 30, validated=False, data_access="direct"),
        _route("POST", "/api/login", "routes/auth.py", 5, public=True, sensitive=True, validated=False),
        _route("GET", f"/api/{EVIL}", f"routes/{EVIL}.py", 3, data_access="direct"),
    ]
    findings = [
        _finding(Category.MISSING_AUTH, Severity.HIGH, "routes/posts.py", 10, route="GET /api/posts/"),
        _finding(Category.MISSING_AUTH, Severity.HIGH, "routes/posts.py", 30, route="POST /api/posts/"),
        _finding(Category.MISSING_AUTH, Severity.HIGH, f"routes/{EVIL}.py", 3),
        _finding(Category.UNVALIDATED_INPUT, Severity.MEDIUM, "routes/posts.py", 30, route="POST /api/posts/"),
        _finding(Category.MISSING_RATE_LIMIT, Severity.MEDIUM, "routes/auth.py", 5, route="POST /api/login"),
        _finding(Category.DEBUG_LOGGING, Severity.LOW, "config.py", 4, message=f"print of {EVIL_IMG}", fixed_by=None),
        _finding(Category.HARDCODED_SECRET, Severity.HIGH, "config.py", 2),
    ]
    return SimpleNamespace(route_list=routes, finding_list=findings, src="legacy_app")


@pytest.fixture
def after_map():
    routes = [
        _route("GET", "/api/posts/", "routes/posts.py", 11, auth=True, data_access="storage"),
        _route("POST", "/api/posts/", "routes/posts.py", 32, auth=True, data_access="direct"),
        _route("POST", "/api/login", "routes/auth.py", 6, public=True, sensitive=True, rate_limited=True),
        _route("GET", f"/api/{EVIL}", f"routes/{EVIL}.py", 4, auth=True, data_access="direct"),
    ]
    findings = [
        _finding(Category.DEBUG_LOGGING, Severity.LOW, "config.py", 4, message=f"print of {EVIL_IMG}", fixed_by=None),
    ]
    return SimpleNamespace(route_list=routes, finding_list=findings, src="target_app")
