"""Auth is recognised by what a guard does, not by its name (CONTRACT.md, route flags)."""

from __future__ import annotations

import pytest

from url_maps import routes_by_key, write_tree

from audit.inventory import inventory_of

VIEWS = """
from flask import Flask, g
from .guards import {name}

app = Flask(__name__)

@app.route("/api/thing")
@{name}
def thing():
    return "x"
"""


def auth_of(tmp_path, guards: str, name: str) -> bool:
    src = write_tree(tmp_path / "app", {"__init__.py": VIEWS.format(name=name), "guards.py": guards})
    (route,) = inventory_of(src).routes
    return route.auth


def test_decorator_named_check_that_verifies_a_jwt_is_auth(tmp_path):
    guards = """
        import functools, os
        import jwt
        from flask import request, abort, g

        def check(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                header = request.headers.get("Authorization", "")
                try:
                    claims = jwt.decode(header.removeprefix("Bearer "), os.environ["JWT_SECRET"], algorithms=["HS256"])
                except jwt.InvalidTokenError:
                    abort(401)
                g.user_id = claims["sub"]
                return view(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "check") is True


def test_login_required_that_lets_missing_tokens_through_is_not_auth(tmp_path):
    guards = """
        import functools
        import jwt
        from flask import request, abort, g

        def login_required(f):
            @functools.wraps(f)
            def wrapper(*args, **kwargs):
                token = request.headers.get("Authorization")
                if not token:
                    return f(*args, **kwargs)  # anonymous callers pass
                try:
                    g.user = jwt.decode(token, "k", algorithms=["HS256"])
                except jwt.InvalidTokenError:
                    abort(401)
                return f(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "login_required") is False


def test_guard_that_swallows_invalid_tokens_is_not_auth(tmp_path):
    guards = """
        from functools import wraps
        import jwt
        from flask import request, g, jsonify

        def token_required(f):
            @wraps(f)
            def wrapper(*args, **kwargs):
                token = request.headers.get("Authorization", "").replace("Bearer ", "")
                if not token:
                    return jsonify(error="missing token"), 401
                try:
                    g.user_id = jwt.decode(token, "k", algorithms=["HS256"])["sub"]
                except Exception:
                    pass  # an invalid token still gets in
                return f(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "token_required") is False


def test_signature_verification_off_is_not_auth(tmp_path):
    guards = """
        from functools import wraps
        import jwt
        from flask import request, abort, g

        def auth_required(f):
            @wraps(f)
            def wrapper(*args, **kwargs):
                token = request.headers.get("Authorization")
                if token is None:
                    abort(401)
                g.claims = jwt.decode(token, options={"verify_signature": False})
                return f(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "auth_required") is False


def test_dev_switch_bypass_still_counts_as_auth(tmp_path):
    guards = """
        import os
        from functools import wraps
        import jwt
        from flask import request, abort, g, current_app

        def protect(f):
            @wraps(f)
            def wrapper(*args, **kwargs):
                if os.getenv("SKIP_AUTH") == "1" or current_app.debug:
                    g.user_id = 1
                    return f(*args, **kwargs)
                token = request.headers.get("Authorization", "")[7:]
                try:
                    g.user_id = jwt.decode(token, "k", algorithms=["HS256"])["sub"]
                except jwt.PyJWTError:
                    return {"error": "unauthorized"}, 401
                return f(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "protect") is True


def test_session_guard_and_helper_calls_are_followed(tmp_path):
    guards = """
        from functools import wraps
        from flask import session, abort

        def _current_user_id():
            return session.get("user_id")

        def members_only(f):
            @wraps(f)
            def wrapper(*args, **kwargs):
                if _current_user_id() is None:
                    abort(403)
                return f(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "members_only") is True


def test_decorator_that_never_refuses_is_not_auth(tmp_path):
    guards = """
        from functools import wraps
        from flask import g

        def with_user(f):
            @wraps(f)
            def wrapper(*args, **kwargs):
                g.user_id = 7  # hard-coded identity
                return f(*args, **kwargs)
            return wrapper
    """
    assert auth_of(tmp_path, guards, "with_user") is False


@pytest.mark.parametrize("imports, decorator", [
    ("from flask_login import login_required", "login_required"),
    ("from flask_jwt_extended import jwt_required", "jwt_required()"),
    ("from flask_httpauth import HTTPBasicAuth\nauth = HTTPBasicAuth()", "auth.login_required"),
])
def test_well_known_library_guards(tmp_path, imports, decorator):
    src = write_tree(tmp_path / "app", {"__init__.py": f"""
from flask import Flask
{imports}
app = Flask(__name__)

@app.route("/api/me")
@{decorator}
def me():
    return "x"
"""})
    (route,) = inventory_of(src).routes
    assert route.auth is True


def test_before_request_guards_cover_blueprint_and_app(tmp_path):
    src = write_tree(tmp_path / "app", {
        "__init__.py": """
            from flask import Flask, Blueprint, session, abort
            from .admin import admin

            def require_login():
                if "user_id" not in session:
                    abort(401)

            app = Flask(__name__)
            api = Blueprint("api", __name__, url_prefix="/api")
            api.before_request(require_login)

            @api.route("/notes")
            def notes():
                return "x"

            @app.route("/open")
            def open_page():
                return "x"

            app.register_blueprint(api)
            app.register_blueprint(admin)
        """,
        "admin.py": """
            from flask import Blueprint, request, abort
            import hmac, os
            admin = Blueprint("admin", __name__, url_prefix="/admin")

            @admin.before_request
            def api_key_only():
                key = request.headers.get("X-API-Key", "")
                if not hmac.compare_digest(key, os.environ["ADMIN_KEY"]):
                    abort(403)

            @admin.route("/stats")
            def stats():
                return "x"
        """,
    })
    routes = routes_by_key(src)
    assert routes[("GET", "/api/notes")].auth is True
    assert routes[("GET", "/admin/stats")].auth is True
    assert routes[("GET", "/open")].auth is False


def test_fastapi_dependency_that_accepts_missing_token_is_not_auth(tmp_path):
    src = write_tree(tmp_path / "app", {
        "__init__.py": "",
        "main.py": """
            import jwt
            from fastapi import Depends, FastAPI, HTTPException
            from fastapi.security import OAuth2PasswordBearer

            optional_scheme = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)

            def maybe_user(token: str | None = Depends(optional_scheme)):
                if token is None:
                    return None
                try:
                    return jwt.decode(token, "k", algorithms=["HS256"])["sub"]
                except jwt.PyJWTError:
                    raise HTTPException(status_code=401)

            app = FastAPI()

            @app.get("/items")
            def items(user=Depends(maybe_user)):
                return []
        """,
    })
    (route,) = inventory_of(src).routes
    assert route.auth is False
