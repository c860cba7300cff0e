"""The security promises of CONTRACT.md section 4, as plain check functions.

Each ``check_*(aut, monkeypatch)`` takes an app under test (tests/legacy/app_harness.py:
a fresh app over its own seeded database) and raises AssertionError, saying what is
wrong, when the app breaks the promise. The same checks pass on target_app and fail on
legacy_app (tests/security/test_security.py runs both ways).
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from werkzeug.routing import Rule

from app_harness import JWT_SECRET, LUCIA, STRONG_PASSWORD  # noqa: F401  (tests/legacy on sys.path)
from audit.config import Config

ROOT = Path(__file__).resolve().parents[2]
SECURITY_HEADERS = ("Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options",
                    "Referrer-Policy")
LEAK_MARKERS = ("Traceback", "sqlalchemy", "sqlite3", "Error:", "Exception", "File \"", "line ")


def token(sub="2", secret=JWT_SECRET, minutes=15, algorithm="HS256", **extra):
    now = datetime.now(timezone.utc)
    return jwt.encode({"sub": sub, "iat": now, "exp": now + timedelta(minutes=minutes), **extra}, secret,
                      algorithm=algorithm)


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


def _alg_none_token():
    return jwt.encode({"sub": "2", "exp": datetime.now(timezone.utc) + timedelta(minutes=5)}, None, algorithm="none")


def _envelope(resp, status, code=None):
    body = resp.get_json(silent=True)
    problems = []
    if resp.status_code != status:
        problems.append(f"status {resp.status_code}, wanted {status}")
    if not (isinstance(body, dict) and body.get("success") is False and isinstance(body.get("error"), dict)
            and isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str)):
        problems.append(f"not the error envelope: {resp.get_data(as_text=True)[:200]}")
    elif code and body["error"]["code"] != code:
        problems.append(f"code {body['error']['code']!r}, wanted {code!r}")
    return problems


def _protected_requests(app):
    config = Config()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or config.is_public(rule.rule):
            continue
        path = _fill(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def _fill(rule: Rule) -> str:
    values = {arg: "1" for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1] if hasattr(rule, "build") else rule.rule


def check_every_protected_route_needs_a_valid_token(aut, monkeypatch):
    aut.app.config["RATELIMIT_ENABLED"] = False
    wrong = {
        "missing": {},
        "forged": bearer(token(secret="not-the-secret-0123456789abcdef")),
        "expired": bearer(token(minutes=-5)),
        "alg none": bearer(_alg_none_token()),
        "garbage": bearer("not.a.jwt"),
    }
    failures = []
    for method, path in _protected_requests(aut.app):
        for label, headers in wrong.items():
            resp = aut.client.open(path, method=method, headers=headers, json={})
            problems = _envelope(resp, 401)
            if problems:
                failures.append(f"{method} {path} ({label} token): {'; '.join(problems)}")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"


def check_bad_bodies_give_400_with_details(aut, monkeypatch):
    resp = aut.client.post("/api/groups/", json={"description": 5}, headers=bearer(token()))
    problems = _envelope(resp, 400, "validation_error")
    assert not problems, problems
    details = resp.get_json()["error"].get("details") or []
    fields = {d.get("field") for d in details}
    assert {"name", "description"} <= fields, details


def check_sensitive_routes_are_rate_limited(aut, monkeypatch):
    statuses = []
    for attempt in range(30):
        resp = aut.client.post("/api/auth/register", json={"username": f"u{attempt}"})
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert not _envelope(resp, 429, "rate_limited"), _envelope(resp, 429, "rate_limited")
            assert int(resp.headers.get("Retry-After", "0")) > 0, dict(resp.headers)
            return
    raise AssertionError(f"no 429 after 30 registrations: {statuses}")


def check_security_headers_on_every_response(aut, monkeypatch):
    probes = [("GET", "/api/health"), ("GET", "/api/version"), ("GET", "/nowhere"), ("GET", "/api/auth/me"),
              ("DELETE", "/api/health"), ("POST", "/api/auth/login")]
    failures = []
    for method, path in probes:
        resp = aut.client.open(path, method=method, json={})
        missing = [h for h in SECURITY_HEADERS if h not in resp.headers]
        if "X-Frame-Options" not in resp.headers and "frame-ancestors" not in resp.headers.get("Content-Security-Policy", ""):
            missing.append("X-Frame-Options")
        if "Server-Timing" not in resp.headers and "X-Response-Time" not in resp.headers:
            missing.append("Server-Timing/X-Response-Time")
        if resp.headers.get("X-Content-Type-Options", "nosniff") != "nosniff":
            missing.append("X-Content-Type-Options: nosniff")
        if missing:
            failures.append(f"{method} {path} ({resp.status_code}): missing {missing}")
    assert not failures, failures


SSRF_URLS = ["http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/",
             "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/",
             "http://[::ffff:127.0.0.1]/", "http://localhost:5000/", "http://intranet.example.test/",
             "file:///etc/passwd", "gopher://127.0.0.1:25/"]


def check_ssrf_attempts_rejected(aut, monkeypatch):
    fetched = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # a name that resolves to a private address
        if host == "intranet.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]
        return real_getaddrinfo(host, *args, **kwargs)

    def no_network(*args, **kwargs):
        fetched.append(args[1] if len(args) > 1 else args)
        raise AssertionError("outbound request attempted")

    import requests
    import urllib.request

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(requests.Session, "send", lambda self, req, **kw: no_network(self, req.url))
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, *a, **kw: no_network(None, url))
    aut.app.config["RATELIMIT_ENABLED"] = False
    failures = []
    for url in SSRF_URLS:
        before = len(fetched)
        for method, path, kwargs in (("POST", "/api/previews/", {"json": {"url": url}}),
                                     ("GET", "/api/previews/oembed", {"query_string": {"url": url}})):
            resp = aut.client.open(path, method=method, headers=bearer(token()), **kwargs)
            if len(fetched) > before or resp.status_code != 400:
                failures.append(f"{method} {path} {url}: status {resp.status_code}, fetched={len(fetched) > before}")
    assert not failures, failures


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


def check_bad_uploads_rejected(aut, monkeypatch):
    cases = {
        "wrong type": (io.BytesIO(b"<?php system($_GET['c']); ?>"), "shell.php", "application/x-php"),
        "double extension": (io.BytesIO(PNG), "photo.php.png", "image/png"),
        "type mismatch": (io.BytesIO(b"MZ..."), "photo.png", "application/x-msdownload"),
    }
    failures = []
    for label, file in cases.items():
        resp = aut.client.post("/api/uploads/", data={"file": file}, headers=bearer(token()),
                               content_type="multipart/form-data")
        if resp.status_code not in (400, 415) or _envelope(resp, resp.status_code):
            failures.append(f"{label}: {resp.status_code} {resp.get_data(as_text=True)[:120]}")
    big = (io.BytesIO(b"\0" * (6 * 1024 * 1024)), "big.png", "image/png")
    resp = aut.client.post("/api/uploads/", data={"file": big}, headers=bearer(token()), content_type="multipart/form-data")
    if resp.status_code != 413 or _envelope(resp, 413):
        failures.append(f"too large: {resp.status_code}")
    assert not failures, failures


def check_weak_passwords_rejected(aut, monkeypatch):
    aut.app.config["RATELIMIT_ENABLED"] = False
    failures = []
    for weak in ("short1!", "alllowercaseletters", "123456789012345"):
        resp = aut.client.post("/api/auth/register", json={"username": f"w{len(weak)}{weak[:3]}",
                                                            "email": f"{len(weak)}{weak[:3]}@example.org", "password": weak})
        if _envelope(resp, 400, "validation_error"):
            failures.append(f"register with {weak!r}: {resp.status_code}")
    resp = aut.client.post("/api/auth/change-password", headers=bearer(token()),
                           json={"old_password": STRONG_PASSWORD, "new_password": "weak"})
    if _envelope(resp, 400, "validation_error"):
        failures.append(f"change-password to 'weak': {resp.status_code}")
    assert not failures, failures


def check_no_mock_data(aut, monkeypatch):
    failures = []
    resp = aut.client.get("/api/posts/featured", headers=bearer(token()))
    if resp.status_code == 200:
        failures.append(f"/api/posts/featured invents posts: {resp.get_data(as_text=True)[:120]}")
    resp = aut.client.get("/api/search/suggestions?q=zzzz-nothing", headers=bearer(token()))
    if resp.status_code == 200 and resp.get_json():
        failures.append(f"/api/search/suggestions invents suggestions: {resp.get_json()}")
    assert not failures, failures


def check_no_exception_text_in_errors(aut, monkeypatch):
    aut.app.config["RATELIMIT_ENABLED"] = False
    probes = [
        ("PUT", "/api/profile/", {"json": {"display_name": ["not", "a", "string"]}}),
        ("DELETE", "/api/posts/999999", {}),
        ("POST", "/api/groups/", {"json": []}),
        ("POST", "/api/events/1/rsvp", {"data": "{not json", "content_type": "application/json"}),
    ]
    failures = []
    for method, path, kwargs in probes:
        resp = aut.client.open(path, method=method, headers=bearer(token()), **kwargs)
        text = resp.get_data(as_text=True)
        if resp.status_code < 400:
            failures.append(f"{method} {path}: {resp.status_code} (expected an error)")
        elif any(marker in text for marker in LEAK_MARKERS) or _envelope(resp, resp.status_code):
            failures.append(f"{method} {path}: {resp.status_code} {text[:160]}")
    assert not failures, failures


def check_refuses_to_start_without_jwt_secret(aut, monkeypatch):
    package = aut.spec.package
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    env["PYTHONPATH"] = str(ROOT)
    code = f"import {package}; {package}.create_app({{'TESTING': True, 'DATABASE_URL': 'sqlite://'}})"
    for value in (None, ""):
        if value is not None:
            env["JWT_SECRET"] = value
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        lines = [line for line in proc.stderr.splitlines() if line.strip() and "Warning" not in line]
        assert proc.returncode != 0, f"started with JWT_SECRET={value!r}"
        assert len(lines) == 1 and "JWT_SECRET" in lines[0], proc.stderr[-500:]


def check_chat_rooms_need_a_token_and_membership(aut, monkeypatch):
    """Socket.IO: no connection without a valid token; a user who is not a member of a group
    cannot join its room nor post to it, and hears nothing said there."""
    from app_harness import BearerAuth
    from journeys import find_group, sign_up

    ns = aut.spec.namespace
    anonymous = aut.socketio.test_client(aut.app, namespace=ns, flask_test_client=aut.client)
    forged = aut.socketio.test_client(aut.app, namespace=ns, flask_test_client=aut.client,
                                      auth={"token": token(secret="not-the-secret-0123456789abcdef")})
    assert not anonymous.is_connected(ns) and not forged.is_connected(ns), "a socket connected without a valid token"

    auth = BearerAuth()
    outsider = sign_up(aut)  # a fresh account: member of no group
    group = find_group(aut, bearer(token(str(outsider.id))), "Buenos Aires Milongueros")  # LUCIA's group
    lucia = aut.socket_client(auth, auth.token(aut, LUCIA))
    intruder = aut.socket_client(auth, auth.token(aut, outsider))
    try:
        assert lucia.is_connected(ns) and intruder.is_connected(ns)
        lucia.emit("join", {"group_id": group["id"]}, namespace=ns)
        refused = intruder.emit("join", {"group_id": group["id"]}, namespace=ns, callback=True)
        posted = intruder.emit("send_message", {"group_id": group["id"], "text": "let me in"}, namespace=ns,
                               callback=True)
        intruder.get_received(ns)
        lucia.get_received(ns)
        lucia.emit("send_message", {"group_id": group["id"], "text": "members only"}, namespace=ns)
        overheard = [e for e in intruder.get_received(ns) if e["name"] == "new_message"]
        problems = []
        if not (isinstance(refused, dict) and refused.get("error")):
            problems.append(f"join by a non-member answered {refused!r}")
        if not (isinstance(posted, dict) and posted.get("error")):
            problems.append(f"send_message by a non-member answered {posted!r}")
        if overheard:
            problems.append(f"a non-member received {overheard}")
        assert not problems, problems
    finally:
        lucia.disconnect(ns)
        intruder.disconnect(ns)


CHECKS = {name.removeprefix("check_"): fn for name, fn in sorted(globals().items()) if name.startswith("check_")}
