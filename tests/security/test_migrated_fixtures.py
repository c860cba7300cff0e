"""The migration on two differently written Flask apps (H6's fixtures): a package of
MethodViews with session/API-key guards, and a flat module-level app with no auth system
and flask-login ``current_user``.

Each is migrated once (into a temporary folder) and then held to what CONTRACT.md section 4
promises: the fixture's OWN user journeys (tests/fixtures/journeys) pass on the migrated
copy with bearer tokens; every non-public route answers 401 in the error envelope without
a valid token (missing, forged, expired, ``alg: none``, garbage); the security suite's
promises hold on the fixture's own routes (rate limits, validation, SSRF, uploads, weak
passwords, mock data, exception text, security headers, refusing to start without
``JWT_SECRET``); and ``workbench map`` on the result reports nothing in the categories the
codemods handle.
"""
from __future__ import annotations

import importlib
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest

from audit.codemods import all_codemods
from audit.config import Config
from audit.migrate import run_migration

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
from fixtures.app_loader import imported_app  # noqa: E402
from fixtures.journeys import NEW_STRONG_PASSWORD, STRONG_PASSWORD, BearerJWT  # noqa: E402
from fixtures.journeys.flask_methodview import PNG  # noqa: E402

SECRET = "fixture-secret-0123456789abcdef-0123456789"
FIXTURES = {"flask_methodview": "flask_methodview:create_app", "flask_login_app": "app:app"}
HEADERS = ("Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy")
LEAK_MARKERS = ("Traceback", "sqlite3", "Error:", "Exception", "File \"", "NoneType", "object is not")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """name -> (target folder, MIGRATION.json), each fixture migrated once per module."""
    done: dict[str, tuple[Path, dict]] = {}

    def _migrated(name: str) -> tuple[Path, dict]:
        if name not in done:
            target = tmp_path_factory.mktemp("migrated") / name
            report = run_migration(ROOT / "tests" / "fixtures" / name, target, jobs=1, progress=False).report
            assert json.loads((target / "MIGRATION.json").read_text()) == report
            done[name] = target, report
        return done[name]
    return _migrated


@pytest.fixture
def build(migrated, tmp_path):
    """A fresh app (own database and upload folder) built from the migrated copy of a fixture."""
    def _build(name: str, **config):
        target, report = migrated(name)
        env = {variable: SECRET for variable in report["required_env"]}
        (tmp_path / "uploads").mkdir(exist_ok=True)
        env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", UPLOAD_DIR=str(tmp_path / "uploads"))
        return imported_app(target, FIXTURES[name], config={"TESTING": True, **config}, env=env)
    return _build


def token(sub="1", secret=SECRET, minutes=5, algorithm="HS256"):
    now = datetime.now(timezone.utc)
    return jwt.encode({"sub": sub, "iat": now, "exp": now + timedelta(minutes=minutes)}, secret, algorithm=algorithm)


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


def _envelope_problems(resp, status, code=None):
    body = resp.get_json(silent=True)
    if resp.status_code != status:
        return [f"status {resp.status_code}, wanted {status}: {resp.get_data(as_text=True)[:160]}"]
    if not (isinstance(body, dict) and body.get("success") is False and isinstance(body.get("error"), dict)
            and isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str)):
        return [f"not the error envelope: {resp.get_data(as_text=True)[:160]}"]
    if code and body["error"]["code"] != code:
        return [f"code {body['error']['code']!r}, wanted {code!r}"]
    return []


# --- the fixtures' own journeys ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_journeys_pass_on_the_migrated_copy(name, build):
    journeys = importlib.import_module(f"fixtures.journeys.{name}")
    with build(name) as app:
        journeys.run_all(app.test_client(), BearerJWT(SECRET))


# --- authentication -------------------------------------------------------------------------


WRONG_TOKENS = {
    "missing": {},
    "forged": bearer(token(secret="not-the-secret-0123456789abcdef-0123")),
    "expired": bearer(token(minutes=-5)),
    "alg none": bearer(jwt.encode({"sub": "1", "exp": datetime.now(timezone.utc) + timedelta(minutes=5)}, None,
                                  algorithm="none")),
    "garbage": bearer("not.a.jwt"),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_non_public_route_needs_a_valid_token_and_headers_are_everywhere(name, build):
    with build(name, RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        failures = []
        config = Config()
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint == "static":
                continue
            path = rule.build({arg: "1" for arg in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for label, headers in WRONG_TOKENS.items():
                    resp = client.open(path, method=method, json={}, headers=headers)
                    missing = [h for h in HEADERS if h not in resp.headers]
                    if "Server-Timing" not in resp.headers and "X-Response-Time" not in resp.headers:
                        missing.append("Server-Timing/X-Response-Time")
                    if missing:
                        failures.append(f"{method} {path}: missing headers {missing}")
                    if not config.is_public(rule.rule):
                        failures += [f"{method} {path} ({label} token): {p}" for p in _envelope_problems(resp, 401)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_a_valid_token_passes_the_fixtures_own_guards(name, build):
    with build(name) as app:
        client = app.test_client()
        config = Config()
        protected = [r for r in app.url_map.iter_rules() if r.endpoint != "static" and not config.is_public(r.rule)
                     and "GET" in r.methods and not r.arguments]
        assert protected
        failures = [f"GET {rule.rule}: 401 with a valid token" for rule in protected
                    if client.get(rule.rule, headers=bearer(token())).status_code == 401]
    assert not failures, "\n".join(failures)


def test_methodview_admin_guard_still_checks_the_role(build):
    """The admin guard accepts the token's identity, but only an admin's (and its DEBUG switch is gone)."""
    with build("flask_methodview", DEBUG=True) as app:
        client = app.test_client()
        member = client.post("/account/register", json={"username": "mo", "email": "mo@example.com",
                                                        "password": STRONG_PASSWORD}).get_json()
        resp = client.get("/admin/users", headers=bearer(token(str(member["id"]))))
        assert not _envelope_problems(resp, 403), resp.get_data(as_text=True)
        assert not _envelope_problems(client.get("/admin/users"), 401)


def test_flask_login_current_user_is_the_token_identity(build):
    """The request loader no longer makes everyone the demo user: user 2's token is user 2."""
    with build("flask_login_app") as app:
        client = app.test_client()
        client.post("/register", json={"username": "rosa", "password": STRONG_PASSWORD})
        me = client.get("/me", headers=bearer(token("2")))
        assert me.status_code == 200 and me.get_json() == {"id": 2, "username": "rosa"}


# --- the security suite on the fixtures' own routes -------------------------------------------------

# (method, path, request keyword arguments) per fixture and concern
SENSITIVE = {"flask_methodview": ("POST", "/account/login", {"json": {"username": "x", "password": "y"}}),
             "flask_login_app": ("POST", "/register", {"json": {"username": "x"}})}
BAD_BODY = {"flask_methodview": ("POST", "/api/v1/items/", {"json": {"quantity": "many"}}, {"name", "price", "quantity"}),
            "flask_login_app": ("POST", "/notes", {"json": {"body": "no title"}}, {"title"})}
OUTBOUND = {"flask_methodview": [("GET", "/integrations/preview", lambda url: {"query_string": {"url": url}}),
                                 ("POST", "/integrations/webhooks/relay", lambda url: {"json": {"callback_url": url}})],
            "flask_login_app": [("POST", "/links/preview", lambda url: {"json": {"url": url}})]}
UPLOADS = {"flask_methodview": ("PUT", "/account/avatar", "avatar"),
           "flask_login_app": ("POST", "/notes/1/attachment", "file")}
MOCK_ROUTES = {"flask_methodview": ["/api/v1/inventory/stock", "/api/v1/reports/summary"],
               "flask_login_app": ["/notes", "/stats"]}
SSRF_URLS = ["http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://0x7f000001/",
             "http://2130706433/", "http://intranet.example.test/", "file:///etc/passwd"]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_sensitive_route_is_rate_limited(name, build):
    method, path, kwargs = SENSITIVE[name]
    with build(name) as app:
        client = app.test_client()
        statuses = []
        for _ in range(30):
            resp = client.open(path, method=method, **kwargs)
            statuses.append(resp.status_code)
            if resp.status_code == 429:
                assert not _envelope_problems(resp, 429, "rate_limited")
                assert int(resp.headers.get("Retry-After", "0")) > 0, dict(resp.headers)
                return
    raise AssertionError(f"{method} {path}: no 429 after 30 requests: {statuses}")


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_bad_body_gives_400_with_details(name, build):
    method, path, kwargs, fields = BAD_BODY[name]
    with build(name) as app:
        resp = app.test_client().open(path, method=method, headers=bearer(token()), **kwargs)
        assert not _envelope_problems(resp, 400, "validation_error")
        assert fields <= {d["field"] for d in resp.get_json()["error"]["details"]}, resp.get_json()


@pytest.mark.parametrize("name", sorted(FIXTURES))  # flask_login_app: the fetch is in another module
def test_outbound_urls_from_requests_are_guarded(name, build, monkeypatch):
    import requests
    import urllib.request

    fetched = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # a name that resolves to a private address
        if host == "intranet.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]
        return real_getaddrinfo(host, *args, **kwargs)

    def no_network(url):
        fetched.append(url)
        raise AssertionError("outbound request attempted")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(requests.Session, "send", lambda self, req, **kw: no_network(req.url))
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, *a, **kw: no_network(url))
    failures = []
    with build(name, RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        for method, path, request_for in OUTBOUND[name]:
            for url in SSRF_URLS:
                before = len(fetched)
                resp = client.open(path, method=method, headers=bearer(token()), **request_for(url))
                if len(fetched) > before or _envelope_problems(resp, 400):
                    failures.append(f"{method} {path} {url}: {resp.status_code}, fetched={len(fetched) > before}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_bad_uploads_are_rejected(name, build):
    method, path, field = UPLOADS[name]
    cases = {
        "wrong type": (b"<?php system($_GET['c']); ?>", "shell.php", "application/x-php"),
        "double extension": (PNG, "photo.php.png", "image/png"),
        "type mismatch": (b"MZ...", "photo.png", "application/x-msdownload"),
        "too large": (b"\0" * (6 * 1024 * 1024), "big.png", "image/png"),
    }
    failures = []
    with build(name, RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        if name == "flask_login_app":
            client.post("/notes", json={"title": "for the attachment"}, headers=bearer(token()))
        for label, (content, filename, mimetype) in cases.items():
            resp = client.open(path, method=method, data={field: (io.BytesIO(content), filename, mimetype)},
                               content_type="multipart/form-data", headers=bearer(token()))
            wanted = (413,) if label == "too large" else (400, 415)
            if resp.status_code not in wanted or _envelope_problems(resp, resp.status_code):
                failures.append(f"{label}: {resp.status_code} {resp.get_data(as_text=True)[:120]}")
    assert not failures, "\n".join(failures)


def test_weak_passwords_are_rejected_on_the_methodview_fixture(build):
    with build("flask_methodview", RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        for weak in ("short1!", "alllowercaseletters", "123456789012345"):
            resp = client.post("/account/register", json={"username": f"w{len(weak)}", "email": "w@example.com",
                                                          "password": weak})
            assert not _envelope_problems(resp, 400, "validation_error"), weak
        user = client.post("/account/register", json={"username": "pat", "email": "pat@example.com",
                                                       "password": STRONG_PASSWORD}).get_json()
        resp = client.put("/account/password", json={"current_password": STRONG_PASSWORD, "new_password": "weak"},
                          headers=bearer(token(str(user["id"]))))
        assert not _envelope_problems(resp, 400, "validation_error")
        ok = client.put("/account/password", json={"current_password": STRONG_PASSWORD,
                                                   "new_password": NEW_STRONG_PASSWORD},
                        headers=bearer(token(str(user["id"]))))
        assert ok.status_code == 200


def test_weak_passwords_are_rejected_on_the_flask_login_fixture(build, tmp_path):
    with build("flask_login_app", RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        for weak in ("short1!", "alllowercaseletters", "123456789012345"):
            resp = client.post("/register", json={"username": f"w{len(weak)}", "password": weak})
            assert not _envelope_problems(resp, 400, "validation_error"), weak
            resp = client.post("/password", json={"password": weak}, headers=bearer(token()))
            assert not _envelope_problems(resp, 400, "validation_error"), weak
        stored = client.post("/register", json={"username": "ines", "password": STRONG_PASSWORD})
        assert stored.status_code == 201
    with sqlite3.connect(tmp_path / "app.db") as conn:  # stored with a slow salted hash, not in plain text
        (password,) = conn.execute("SELECT password FROM users WHERE username = 'ines'").fetchone()
    assert password.startswith(("scrypt:", "pbkdf2:")), password


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_no_mock_data(name, build):
    with build(name) as app:
        client = app.test_client()
        failures = []
        for path in MOCK_ROUTES[name]:
            resp = client.get(path, headers=bearer(token()))
            if resp.status_code == 200 or _envelope_problems(resp, resp.status_code):
                failures.append(f"GET {path} on an empty database: {resp.status_code} {resp.get_data(as_text=True)[:120]}")
    assert not failures, "\n".join(failures)


def test_no_exception_text_in_errors(build):
    with build("flask_methodview", RATELIMIT_ENABLED=False) as app:
        client = app.test_client()
        probes = [("POST", "/api/v1/orders", {"json": {"item_id": 999999, "quantity": 1}}),
                  ("POST", "/api/v1/inventory/stock/1", {"data": "{not json", "content_type": "application/json"}),
                  ("GET", "/api/v1/items/999999", {})]
        failures = []
        for method, path, kwargs in probes:
            resp = client.open(path, method=method, headers=bearer(token()), **kwargs)
            text = resp.get_data(as_text=True)
            if resp.status_code < 400 or any(m in text for m in LEAK_MARKERS) or _envelope_problems(resp, resp.status_code):
                failures.append(f"{method} {path}: {resp.status_code} {text[:160]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_refuses_to_start_without_jwt_secret(name, migrated, tmp_path):
    target, report = migrated(name)
    module, _, attr = FIXTURES[name].partition(":")
    if (target / "__init__.py").exists():
        path_entry, code = target.parent, f"import {target.name} as m; m.{attr}()"
    else:
        path_entry, code = target, f"import {module}"
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    env.update({v: SECRET for v in report["required_env"] if v != "JWT_SECRET"},
               PYTHONPATH=str(path_entry), DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", UPLOAD_DIR=str(tmp_path))
    for value in (None, ""):
        if value is not None:
            env["JWT_SECRET"] = value
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                              cwd=tmp_path)
        lines = [line for line in proc.stderr.splitlines() if line.strip() and "Warning" not in line]
        assert proc.returncode != 0, f"started with JWT_SECRET={value!r}"
        assert len(lines) == 1 and "JWT_SECRET" in lines[0], proc.stderr[-500:]


# --- the map of the result ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_map_of_the_result_has_nothing_left_in_the_handled_categories(name, migrated):
    import audit

    target, _ = migrated(name)
    handled = {category for codemod in all_codemods() for category in codemod.FIXES}
    result = audit.map(target, bandit=False, semgrep=False, cache=False, jobs=1)
    left = [f for f in result.finding_list if not f.suppressed and f.category in handled]
    assert not left, "\n".join(f"{f.rule_id} {f.category.value} {f.file}:{f.line} {f.message}" for f in left)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_migrating_the_result_again_changes_nothing(name, migrated, tmp_path):
    target, _ = migrated(name)
    again = tmp_path / name
    result = run_migration(target, again, jobs=1, progress=False)
    changed = [f for f, entry in result.report["files"].items() if entry["codemods"] or entry["lines_added"]]
    assert not changed, changed
    for path in target.rglob("*.py"):
        assert (again / path.relative_to(target)).read_text() == path.read_text(), path
