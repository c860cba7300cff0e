"""Each fixture app's EXPECTED.yml tells the truth about the app, and its journeys pass on it.

The labels (categories, route flags) are judgement; what is checked here is
everything a machine can check: every flaw's snippet is on its line, every route
listed is served by the real app (and nothing else is), with the handler and
``def`` line given, and the fixture's user journeys run green against the fixture
itself with its own way of identifying callers.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

if str(Path(__file__).parent) not in sys.path:  # `fixtures` is tests/fixtures, also under --import-mode=importlib
    sys.path.append(str(Path(__file__).parent))

from audit.model import Category
from audit.probe import served_routes
from fixtures.app_loader import FIXTURES, expected, imported_app

ALL_FIXTURES = ["flask_methodview", "flask_login_app", "fastapi_app"]
FLAGS = ("auth", "validated", "rate_limited", "public")


@pytest.fixture
def app_env(tmp_path):
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/app.db", "UPLOAD_DIR": str(tmp_path / "uploads"),
            "JWT_SECRET": "fixture-test-secret-0123456789abcdef"}


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_expected_header(name):
    data = expected(name)
    assert data["app"] == name
    assert ":" in data["factory"]
    assert data["framework"] in ("flask", "fastapi")


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_flaws_are_on_their_lines(name):
    data = expected(name)
    categories = {c.value for c in Category} - {"other"}
    for flaw in data["flaws"]:
        assert flaw["category"] in categories, flaw
        lines = (FIXTURES / name / flaw["file"]).read_text().splitlines()
        assert 1 <= flaw["line"] <= len(lines), flaw
        assert flaw["snippet"] and flaw["snippet"] in lines[flaw["line"] - 1], flaw
    keys = [(f["category"], f["file"], f["line"]) for f in data["flaws"]]
    assert len(keys) == len(set(keys)), "a flaw is listed twice"


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_routes_are_what_the_app_serves(name, app_env):
    data = expected(name)
    with imported_app(FIXTURES / name, data["factory"], env=app_env) as app:
        live = served_routes(app, FIXTURES / name)
    served = {(r.method, r.path): (r.file, r.line, r.handler) for r in live}
    listed = {(r["method"], r["path"]): (r["file"], r["line"], r["handler"]) for r in data["routes"]}
    assert listed == served
    for route in data["routes"]:
        assert all(isinstance(route[flag], bool) for flag in FLAGS), route
        assert route["method"] not in ("HEAD", "OPTIONS")


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_route_flaws_sit_on_handler_lines(name):
    """missing-auth and unvalidated-input are located at a handler's def line (CONTRACT.md)."""
    data = expected(name)
    handler_lines = {(r["file"], r["line"]) for r in data["routes"]}
    for flaw in data["flaws"]:
        if flaw["category"] in ("missing-auth", "unvalidated-input"):
            assert (flaw["file"], flaw["line"]) in handler_lines, flaw
    # Each route flag is consistent with the flaws: a non-public route without auth is missing-auth.
    flaws = {(f["category"], f["file"], f["line"]) for f in data["flaws"]}
    for route in data["routes"]:
        where = (route["file"], route["line"])
        assert (not route["public"] and not route["auth"]) == (("missing-auth", *where) in flaws) or \
            _shared_handler(data, route), route
        if not route["validated"]:
            assert ("unvalidated-input", *where) in flaws, route


def _shared_handler(data, route):
    """A handler serving several methods carries one flaw for all of them."""
    return sum(1 for r in data["routes"] if (r["file"], r["line"]) == (route["file"], route["line"])) > 1


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_journeys_pass_on_the_fixture(name, app_env, tmp_path):
    data = expected(name)
    journeys = importlib.import_module(f"fixtures.journeys.{name}")
    Path(app_env["UPLOAD_DIR"]).mkdir()
    with imported_app(FIXTURES / name, data["factory"], env=app_env) as app:
        with _client(app) as client:
            journeys.run_all(client, journeys.NativeAuth())


def test_bearer_jwt_strategy_is_what_the_fastapi_fixture_accepts(app_env):
    """The fastapi fixture already speaks the contract's token scheme, so the strategy used
    for migrated apps must pass its journeys too (and proves the strategy's tokens are right)."""
    from fixtures.journeys import BearerJWT
    from fixtures.journeys import fastapi_app as journeys

    Path(app_env["UPLOAD_DIR"]).mkdir()
    with imported_app(FIXTURES / "fastapi_app", expected("fastapi_app")["factory"], env=app_env) as app:
        with _client(app) as client:
            journeys.run_all(client, BearerJWT(app_env["JWT_SECRET"]))
            forged = BearerJWT("another-secret-0123456789abcdef0123").headers(client, {"id": 1})
            assert client.get("/api/account/me", headers=forged).status_code == 401


def _client(app):
    if hasattr(app, "test_client"):
        app.config["TESTING"] = True
        return app.test_client()
    from fastapi.testclient import TestClient

    return TestClient(app)


def test_loader_forgets_the_app_modules(app_env):
    import sys

    data = expected("flask_login_app")
    app_dir = FIXTURES / "flask_login_app"
    with imported_app(app_dir, data["factory"], env=app_env):
        assert "app" in sys.modules and "previews" in sys.modules
    left = [name for name, mod in sys.modules.items()
            if str(app_dir) in str(getattr(mod, "__file__", None) or "")]
    assert left == []
