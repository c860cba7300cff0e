"""What the user journeys run against: an app built from a spec, and a way to authenticate.

Both are parameters, so the same journeys prove that the legacy app works today and
that the migrated ``target_app`` still does what users rely on:

- :class:`AppSpec` names the package, its factory, seed function and Socket.IO object;
  :meth:`AppSpec.build` makes a fresh app over a temporary SQLite database.
- an auth strategy (:class:`LoginAuth`, :class:`BearerAuth`) turns a user into request
  headers and Socket.IO connect arguments.
"""
from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parents[2]

# Long enough for HS256 without PyJWT's short-key warning.
JWT_SECRET = "journeys-test-secret-0123456789abcdef"
STRONG_PASSWORD = "Correct-Horse-9-Battery"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password: str


# Seeded by the app's seed function (see legacy_app/EXPECTED.yml, seed_users).
LUCIA = User(2, "lucia.baila", STRONG_PASSWORD)
TOMAS = User(3, "tomas_ochos", STRONG_PASSWORD)


@dataclass(frozen=True)
class AppSpec:
    """How to build one app under test. ``env`` is applied before the factory runs."""

    package: str
    factory: str = "create_app"
    seed: str = "seed:seed_demo_data"
    socketio: str = "extensions:socketio"
    namespace: str = "/chat"
    env: dict = field(default_factory=lambda: {"JWT_SECRET": JWT_SECRET})
    unset_env: tuple = ("FLASK_ENV", "FLASK_DEBUG", "SKIP_AUTH", "DATABASE_URL")

    def build(self, tmp_path: Path, monkeypatch, db_dir: Path | None = None) -> "AppUnderTest":
        if str(ROOT) not in sys.path:
            monkeypatch.syspath_prepend(str(ROOT))
        for name in self.unset_env:
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        package = importlib.import_module(self.package)
        app = getattr(package, self.factory)(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{(db_dir or tmp_path) / 'journeys.db'}",
                "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            }
        )
        seed_module, seed_function = self.seed.split(":")
        with app.app_context():
            getattr(importlib.import_module(f"{self.package}.{seed_module}"), seed_function)()
        sio_module, sio_object = self.socketio.split(":")
        socketio = getattr(importlib.import_module(f"{self.package}.{sio_module}"), sio_object)
        return AppUnderTest(self, app, socketio)


@dataclass
class AppUnderTest:
    spec: AppSpec
    app: object
    socketio: object

    def __post_init__(self):
        self.client = self.app.test_client()

    def socket_client(self, auth_strategy, token: str):
        """A Socket.IO test client on the chat namespace, authenticated the strategy's way."""
        return self.socketio.test_client(
            self.app,
            namespace=self.spec.namespace,
            flask_test_client=self.client,
            **auth_strategy.socket_kwargs(token),
        )


class LoginAuth:
    """Get a token the way a user does: through the app's login route."""

    name = "login"
    socket_via = "auth"

    def token(self, aut: AppUnderTest, user: User) -> str:
        resp = aut.client.post("/api/auth/login", json={"username": user.username, "password": user.password})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["token"]

    def headers(self, aut: AppUnderTest, user: User) -> dict:
        return {"Authorization": f"Bearer {self.token(aut, user)}"}

    def socket_kwargs(self, token: str) -> dict:
        return {"auth": {"token": token}}


class BearerAuth(LoginAuth):
    """Mint the JWT directly (HS256, sub = user id, exp), as another service would;
    Socket.IO clients pass it in the query string."""

    name = "bearer"
    socket_via = "query"

    def token(self, aut: AppUnderTest, user: User) -> str:
        now = datetime.now(timezone.utc)
        payload = {"sub": str(user.id), "iat": now, "exp": now + timedelta(minutes=15)}
        return jwt.encode(payload, JWT_SECRET, algorithm="HS256")

    def socket_kwargs(self, token: str) -> dict:
        return {"query_string": f"token={token}"}


def _migration_env(package: str) -> dict:
    """JWT_SECRET, and a test value for every other variable the migrated package's
    MIGRATION.json requires at start-up (secrets whose code fallback was removed)."""
    report = ROOT / package / "MIGRATION.json"
    required = json.loads(report.read_text())["required_env"] if report.exists() else []
    return {"JWT_SECRET": JWT_SECRET, **{name: f"journeys-{name.lower()}-0123456789abcdef"
                                         for name in required if name != "JWT_SECRET"}}


AUTH_STRATEGIES = {strategy.name: strategy for strategy in (LoginAuth(), BearerAuth())}

APP_SPECS = {
    "legacy_app": AppSpec("legacy_app"),
    # the migrated app keeps the legacy layout and factory (CONTRACT.md section 4)
    "target_app": AppSpec("target_app", env=_migration_env("target_app")),
}
