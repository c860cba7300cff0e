"""The migration on two differently written Flask apps (H6's fixtures): a package of
MethodViews with session/API-key guards, and a flat module-level app with no auth system.
After ``migrate``, every non-public route answers 401 in the error envelope without a valid
bearer token (and passes the token's identity through with one), and every response
carries the security headers."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest

from audit.config import Config
from audit.migrate import run_migration

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from fixtures.app_loader import imported_app  # noqa: E402

SECRET = "fixture-secret-0123456789abcdef-0123456789"
FIXTURES = {"flask_methodview": "flask_methodview:create_app", "flask_login_app": "app:app"}
HEADERS = ("Content-Security-Policy", "Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy")


def _migrated(name, tmp_path):
    target = tmp_path / name
    report = run_migration(ROOT / "tests" / "fixtures" / name, target, jobs=1, progress=False).report
    assert json.loads((target / "MIGRATION.json").read_text()) == report
    env = {variable: SECRET for variable in report["required_env"]}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", UPLOAD_DIR=str(tmp_path / "uploads"))
    return imported_app(target, FIXTURES[name], config={"TESTING": True}, env=env)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_migrated_fixture_protects_every_route(name, tmp_path):
    with _migrated(name, tmp_path) as app:
        client = app.test_client()
        failures = []
        config = Config()
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint == "static":
                continue
            path = rule.build({arg: "1" for arg in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = client.open(path, method=method, json={})
                missing = [h for h in HEADERS if h not in resp.headers]
                if missing:
                    failures.append(f"{method} {path}: missing headers {missing}")
                if config.is_public(rule.rule):
                    continue
                body = resp.get_json(silent=True) or {}
                if resp.status_code != 401 or body.get("success") is not False:
                    failures.append(f"{method} {path}: {resp.status_code} without a token")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_migrated_fixture_accepts_a_valid_token(name, tmp_path):
    with _migrated(name, tmp_path) as app:
        client = app.test_client()
        config = Config()
        now = datetime.now(timezone.utc)
        token = jwt.encode({"sub": "1", "exp": now + timedelta(minutes=5)}, SECRET, algorithm="HS256")
        protected = [r for r in app.url_map.iter_rules() if r.endpoint != "static" and not config.is_public(r.rule)
                     and "GET" in r.methods and not r.arguments]
        assert protected
        failures = [f"GET {rule.rule}: 401 with a valid token" for rule in protected
                    if client.get(rule.rule, headers={"Authorization": f"Bearer {token}"}).status_code == 401]
    assert not failures, "\n".join(failures)
