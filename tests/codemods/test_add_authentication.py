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
