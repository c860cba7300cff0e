"""audit.verify: the factory is found, every route is probed in a subprocess, and the
verdicts hold the answers against what the map says."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit.cli import main as workbench
from audit.probe import fill_path
from audit.verify import (VERIFIED_COLUMNS, FactoryError, compare, find_factory, route_key, run_verify,
                          token_scheme_problems)

FIXTURES = Path(__file__).parent / "fixtures"
STRICT_AUTH = ("routes", "auth", "errors")  # without the hardening checks (headers, envelope)


def expected(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name / "EXPECTED.yml").read_text())


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


NOTES_APP = '''
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/notes")
def notes():
    return jsonify(["anyone can read this"])
'''

# The same app done right: bearer JWT check, error envelope, security headers.
SECURED_APP = '''
import os
import time

import jwt
from flask import Flask, g, jsonify, request

app = Flask(__name__)
SECRET = os.environ["JWT_SECRET"]


def deny():
    return jsonify(success=False, error={"code": "unauthorized", "message": "a valid token is required"}), 401


@app.before_request
def authenticate():
    g.started = time.perf_counter()
    if request.path == "/health":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        g.user = jwt.decode(token, SECRET, algorithms=["HS256"])["sub"]
    except jwt.PyJWTError:
        return deny()
    return None


@app.after_request
def harden(response):
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Strict-Transport-Security"] = "max-age=31536000"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.get('started', time.perf_counter())) * 1000:.1f}"
    return response


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/notes/<int:note_id>")
def note(note_id):
    return {"id": note_id, "owner": g.user}
'''


# --- finding the factory -------------------------------------------------------------


@pytest.mark.parametrize("name", ["flask_methodview", "flask_login_app", "fastapi_app"])
def test_factory_of_each_fixture_is_found(name):
    assert find_factory(FIXTURES / name) == expected(name)["factory"]


def test_the_app_with_routes_beats_a_bare_worker_app(tmp_path):
    app = write(tmp_path / "site", {
        "__init__.py": "from flask import Flask\nfrom .views import bp\n\n"
                       "def create_app():\n    app = Flask(__name__)\n    app.register_blueprint(bp)\n    return app\n",
        "views.py": "from flask import Blueprint\nbp = Blueprint('v', __name__)\n",
        "jobs.py": "from flask import Flask\n\ndef build_worker():\n    worker = Flask(__name__)\n    return worker\n",
    })
    assert find_factory(app) == "site:create_app"


def test_no_app_and_several_apps_ask_for_factory(tmp_path):
    empty = write(tmp_path / "empty", {"lib.py": "X = 1\n"})
    with pytest.raises(FactoryError, match="--factory"):
        find_factory(empty)
    two = write(tmp_path / "two", {"a.py": NOTES_APP, "b.py": NOTES_APP.replace("app", "site")})
    with pytest.raises(FactoryError, match=r"a:app, b:site"):
        find_factory(two)


def test_cli_exit_2_without_a_single_factory(tmp_path, capsys):
    two = write(tmp_path / "two", {"a.py": NOTES_APP, "b.py": NOTES_APP.replace("app", "site")})
    assert workbench(["verify", str(two), "--out", str(tmp_path / "out")]) == 2
    assert "--factory" in capsys.readouterr().err
    assert workbench(["verify", str(two), "--factory", "not a factory", "--out", str(tmp_path / "out")]) == 2


# --- pure parts ----------------------------------------------------------------------


def test_route_keys_ignore_converters():
    assert route_key("get", "/items/<int:item_id>") == route_key("GET", "/items/{item_id}")
    assert route_key("GET", "/f/<path:p>") == ("GET", "/f/{p}")


def test_path_parameters_get_sample_values():
    assert fill_path("/items/<int:item_id>/files/<path:name>", {}) == "/items/1/files/sample/file.txt"
    assert fill_path("/projects/{project_id}/tasks", {"project_id": "int"}) == "/projects/1/tasks"
    assert fill_path("/u/<username>", {}) == "/u/sample"


def _answer(status, **extra):
    base = {"status": status, "envelope": False, "csp": False, "hsts": False, "nosniff": False,
            "response_time": False, "leak": False}
    return base | extra


def test_compare_verdicts():
    mapped = [
        {"method": "GET", "path": "/a", "auth": True, "public": False},
        {"method": "GET", "path": "/b", "auth": False, "public": True},
        {"method": "GET", "path": "/gone", "auth": False, "public": True},
        {"method": "GET", "path": "/open", "auth": False, "public": False},
        {"method": "GET", "path": "/trusting", "auth": True, "public": False},
    ]
    probed = [
        {"method": "GET", "path": "/a", "none": _answer(401), "valid": _answer(200), "forged": _answer(401)},
        {"method": "GET", "path": "/b", "none": _answer(200), "valid": _answer(200), "forged": _answer(200)},
        {"method": "GET", "path": "/new", "none": _answer(401), "valid": _answer(200), "forged": _answer(401)},
        {"method": "GET", "path": "/open", "none": _answer(200), "valid": _answer(200), "forged": _answer(200)},
        {"method": "GET", "path": "/trusting", "none": _answer(401), "valid": _answer(200),
         "forged": _answer(500, leak=True)},
    ]
    rows = {r["path"]: r for r in compare(mapped, probed, STRICT_AUTH)}
    assert rows["/a"]["verdict"] == "ok" and rows["/b"]["verdict"] == "ok"
    assert rows["/gone"]["reason"] == "in the map but not served"
    assert rows["/new"]["reason"] == "served but not in the map"
    assert "answers 200 without credentials" in rows["/open"]["reason"]
    assert "forged token" in rows["/trusting"]["reason"] and "exception text" in rows["/trusting"]["reason"]
    crash = compare([{"method": "POST", "path": "/c", "auth": False, "public": True}],
                    [{"method": "POST", "path": "/c", "none": _answer(500), "valid": _answer(503),
                      "forged": _answer(400)}], STRICT_AUTH)
    assert crash[0]["reason"] == "crashes (500) without credentials"  # 503 is an answer, 500 a crash
    hardened = {r["path"]: r for r in compare(mapped, probed)}
    assert "no CSP/HSTS/nosniff/response-time header" in hardened["/a"]["reason"]
    assert "error envelope" in hardened["/a"]["reason"]


def test_token_scheme_is_judged_on_the_protected_routes():
    mapped = [{"method": "GET", "path": "/a", "auth": True}, {"method": "GET", "path": "/b", "auth": True},
              {"method": "GET", "path": "/open", "auth": False}]
    refused = [{"method": "GET", "path": p, "valid": _answer(401)} for p in ("/a", "/b")]
    refused.append({"method": "GET", "path": "/open", "valid": _answer(200)})
    assert [p.kind for p in token_scheme_problems(mapped, refused)] == ["token-scheme"]
    refused[1]["valid"] = _answer(404)  # one protected route let the token through
    assert token_scheme_problems(mapped, refused) == []


# --- end to end, in a subprocess -------------------------------------------------------


def test_missing_auth_is_found_by_probing(tmp_path):
    app = write(tmp_path / "notes", {"app.py": NOTES_APP})
    mapped = {"routes": [{"method": "GET", "path": "/health", "auth": False, "public": True},
                         {"method": "GET", "path": "/notes", "auth": False, "public": False}]}
    result = run_verify(app, expected=mapped, out=tmp_path / "out", checks=STRICT_AUTH)
    assert result.factory == "app:app" and result.framework == "flask"
    rows = result.routes.set_index("path")
    assert rows.loc["/health", "verdict"] == "ok"
    assert rows.loc["/notes", "verdict"] == "fail" and rows.loc["/notes", "status_no_token"] == 200
    assert not result.ok
    written = pd.read_csv(tmp_path / "out" / "routes_verified.csv")
    assert list(written.columns) == VERIFIED_COLUMNS and len(written) == 2
    assert "app" not in sys.modules or "notes" not in str(getattr(sys.modules["app"], "__file__", ""))


def test_a_secured_app_passes_every_check(tmp_path):
    app = write(tmp_path / "secured", {"app.py": SECURED_APP})
    mapped = {"routes": [{"method": "GET", "path": "/health", "auth": False, "public": True},
                         {"method": "GET", "path": "/notes/<int:note_id>", "auth": True, "public": False}]}
    result = run_verify(app, expected=mapped, env={"JWT_SECRET": "s" * 40})
    assert result.ok, result.describe()
    row = result.routes.set_index("path").loc["/notes/<int:note_id>"]
    assert (row.status_no_token, row.status_valid_token, row.status_forged_token) == (401, 200, 401)
    assert row.envelope and row.csp and row.hsts and row.nosniff and row.response_time


def test_an_app_that_does_not_build(tmp_path):
    app = write(tmp_path / "crash", {"app.py": "from flask import Flask\nimport missing_module\napp = Flask(__name__)\n"})
    result = run_verify(app, expected={"routes": []})
    assert not result.ok and "missing_module" in result.error
    assert [p.kind for p in result.integrity.problems] == ["import-error"]
    assert "could not be built" in result.describe()


def test_flask_methodview_fixture_against_its_expected_file(tmp_path):
    result = run_verify(FIXTURES / "flask_methodview", expected=expected("flask_methodview"), out=tmp_path,
                        checks=STRICT_AUTH)
    rows = result.routes.set_index(["method", "path"])
    assert rows["mapped"].all() and rows["served"].all(), "EXPECTED.yml and the real app differ"
    for route in expected("flask_methodview")["routes"]:
        row = rows.loc[(route["method"], route["path"])]
        if route["auth"]:
            assert row.status_no_token == 401 and row.status_forged_token == 401, route
    failing = dict(zip(result.failing["path"], result.failing["reason"]))
    # the three unguarded integration routes, and register, which crashes on an empty body
    assert set(failing) == {"/integrations/export", "/integrations/preview", "/integrations/webhooks/relay",
                            "/account/register"}
    assert "without credentials (it is not public)" in failing["/integrations/preview"]
    assert failing["/account/register"].startswith("crashes (500) without credentials")
    # its API keys are not the contract's JWTs: said once, for the whole app
    assert [p.kind for p in result.warnings] == ["token-scheme"]
    # its two lazy broken imports (EXPECTED.yml's broken-import flaws) are integrity's, beside the verdict
    assert sorted((p.kind, p.file, p.line) for p in result.integrity.problems) == [
        ("broken-import", "admin/views.py", 23), ("broken-import", "integrations.py", 34)]


def test_fastapi_fixture_forged_tokens_are_caught(tmp_path):
    result = run_verify(FIXTURES / "fastapi_app", expected=expected("fastapi_app"), checks=STRICT_AUTH)
    assert result.framework == "fastapi"
    rows = result.routes.set_index(["method", "path"])
    assert rows["mapped"].all() and rows["served"].all()
    listing = rows.loc[("GET", "/api/projects/")]
    assert (listing.status_no_token, listing.status_valid_token, listing.status_forged_token) == (401, 200, 401)
    trusting = rows.loc[("GET", "/api/files/{name}")]  # decodes tokens without checking the signature
    assert trusting.status_forged_token not in (401, 403) and "forged token" in trusting.reason
    assert "token-scheme" not in [p.kind for p in result.warnings]  # it speaks the contract's JWT


def test_default_expectation_comes_from_the_map(tmp_path):
    """With no expected map, verify maps the app itself (own rules) and compares."""
    result = run_verify(FIXTURES / "flask_login_app", out=tmp_path, checks=STRICT_AUTH)
    assert len(result.routes) >= len(expected("flask_login_app")["routes"])
    assert result.routes["served"].sum() == len(expected("flask_login_app")["routes"])
    me = result.routes.set_index(["method", "path"]).loc[("GET", "/me")]
    assert me.status_no_token == 200 and me.verdict == "fail"
