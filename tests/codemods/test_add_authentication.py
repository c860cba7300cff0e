import textwrap

from audit.codemods import AuthHelper
from audit.codemods.add_authentication import AddAuthenticationCommand as Command

ROUTES = '''
from flask import Blueprint
bp = Blueprint("x", __name__)

@bp.route("/api/items", methods=["GET"])
def items():
    return []

@bp.post("/api/auth/login")
def login():
    return {}
'''


def test_non_public_routes_get_require_auth(apply):
    out = apply(Command, ROUTES)
    assert '@bp.route("/api/items", methods=["GET"])\n@require_auth\ndef items' in out
    assert '@bp.post("/api/auth/login")\ndef login' in out  # public
    assert "from workbench_security import require_auth" in out


def test_project_helper_reused(apply):
    out = apply(Command, ROUTES, file="routes/items.py", module="routes.items", package_root=True,
                auth_helper=AuthHelper("auth", "token_required", "auth.py"))
    assert "@token_required\ndef items" in out
    assert "from ..auth import token_required" in out


def test_helper_bypass_branches_removed(apply):
    out = apply(Command, '''
        import os
        import jwt
        from functools import wraps
        from flask import g, request

        def token_required(fn):
            @wraps(fn)
            def wrapper(*args, **kwargs):
                token = request.headers.get("Authorization", "")[7:]
                if os.getenv("SKIP_AUTH"):
                    g.user_id = 1
                    return fn(*args, **kwargs)
                if not token:
                    return fn(*args, **kwargs)
                try:
                    payload = jwt.decode(token, "k", algorithms=["HS256", "none"], options={"verify_signature": False})
                except Exception:
                    pass
                return fn(*args, **kwargs)
            return wrapper
        ''')
    assert "SKIP_AUTH" not in out
    assert "if not token:\n            abort(401)" in out
    assert 'jwt.decode(token, "k", algorithms=["HS256"])' in out
    assert "except Exception:\n            abort(401)" in out
    assert "from flask import abort, g, request" in out


def test_unverified_decode_anywhere_is_verified(apply):
    out = apply(Command, 'import jwt\n\ndef refresh(token):\n    try:\n        return jwt.decode(token, options={"verify_signature": False})\n    except jwt.DecodeError:\n        return None\n')
    assert 'jwt.decode(token, current_app.config["JWT_SECRET"], algorithms=["HS256"])' in out
    assert "except jwt.PyJWTError" in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        from flask import Blueprint
        from workbench_security import require_auth
        bp = Blueprint("x", __name__)

        @bp.route("/api/items")
        @require_auth
        def items():
            return []
        ''')
    assert apply(Command, source) == source


GUARDS = '''
def identify_caller():
    if session.get("user_id"):
        return session["user_id"]
    return storage.user_for_api_key(request.headers.get("X-API-Key"))


def require_caller():
    user_id = identify_caller()
    if user_id is None:
        return {"error": "authentication required"}, 401
    g.user_id = user_id


def require_admin():
    user_id = identify_caller()
    if user_id is None:
        abort(401)
    if storage.role(user_id) != "admin":
        abort(403)


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise Unauthorized()
        return view(*args, **kwargs)
    return wrapper


@admin_bp.before_request
def check_admin_token():
    if not hmac.compare_digest(request.headers.get("X-Admin-Token", ""), current_app.config["ADMIN_TOKEN"]):
        abort(401)


@bp.before_request
def load_session_user():
    """The session's user, or 401."""
    if "uid" not in session:
        abort(401)
    g.user = User.query.get(session["uid"])


@bp.before_request
def remember_visit():
    if not session.get("user_id"):
        abort(401)
    session["seen"] = True
'''


def test_guards_of_another_credential_accept_the_bearer_jwt(apply, apply_with_notes):
    out, context = apply_with_notes(Command, GUARDS)
    # the token's identity first; the old lookup only without one; roles still checked
    assert ("def require_caller():\n    user_id = bearer_identity()\n    if user_id is None:\n"
            "        user_id = identify_caller()\n    if user_id is None:\n        return") in out
    assert "user_id = bearer_identity()\n    if user_id is None:\n        user_id = identify_caller()\n    if user_id is None:\n        abort(401)\n    if storage.role(user_id)" in out
    # "is someone logged in": 401 only when neither credential is valid
    assert "if bearer_identity() is None and not current_user.is_authenticated:" in out
    # a shared secret proves a privilege, not a user: any user's token must not pass it
    assert 'if not hmac.compare_digest(request.headers.get("X-Admin-Token", ""), current_app.config["ADMIN_TOKEN"]):' in out
    assert any("check_admin_token() checks a shared secret" in w for w in context.warnings)
    # the identity flows on through the session: the token's first, the session's without one
    assert ('"""The session\'s user, or 401."""\n    uid = bearer_identity()\n    if uid is None:\n'
            '        uid = session.get("uid")\n    if uid is None:\n        abort(401)\n    g.user = User.query.get(uid)') in out
    # the session is written too: left for a human, with a note
    assert 'if not session.get("user_id"):\n        abort(401)\n    session["seen"] = True' in out
    assert any("remember_visit() checks a credential other than the bearer JWT" in w for w in context.warnings)
    assert any("login_required() also accepts a valid bearer JWT" in w for w in context.warnings)
    assert "def identify_caller():\n    if session.get" in out  # not a guard: no 401
    assert "from workbench_security import bearer_identity" in out
    assert apply(Command, out) == out  # idempotent


def test_jwt_guards_and_handlers_are_not_rewritten(apply):
    source = textwrap.dedent('''
        def token_required(f):
            @wraps(f)
            def wrapper(*args, **kwargs):
                try:
                    g.user_id = jwt.decode(request.headers["Authorization"][7:], KEY, algorithms=["HS256"])["sub"]
                except jwt.PyJWTError:
                    abort(401)
                return f(*args, **kwargs)
            return wrapper

        @bp.post("/auth/login")
        def login():
            user = find(request.json["username"])
            if user is None:
                return {"error": "bad credentials"}, 401
            return {"token": issue(user)}
        ''')
    assert apply(Command, source) == source


def test_a_guard_that_only_records_the_caller_lets_a_token_identify_first(apply_with_notes):
    out, context = apply_with_notes(Command, '''
        @app.before_request
        def authenticate():
            """API keys identify the caller."""
            key = request.headers.get("X-API-Key")
            row = db.execute("SELECT user_id FROM keys WHERE key = ?", (key,)).fetchone()
            if row is None:
                return {"message": "bad key"}, 401
            g.uid = row["user_id"]

        @admin_bp.before_request
        def admin_key():
            row = db.execute("SELECT user_id FROM admin_keys WHERE key = ?", (request.headers["X-Key"],)).fetchone()
            if row is None:
                abort(401)
            g.uid = row["user_id"]
        ''')
    assert ('"""API keys identify the caller."""\n    caller_id = bearer_identity()\n    if caller_id is not None:\n'
            '        g.uid = caller_id\n        return None\n    key = request.headers.get("X-API-Key")') in out
    # an admin key's owner is trusted beyond being a user: any user's token must not pass for one
    assert "def admin_key():\n    row = db.execute" in out
    assert any("admin_key() checks a shared secret" in w for w in context.warnings)
