import textwrap

from audit.codemods.add_rate_limits import AddRateLimitsCommand as Command


def test_sensitive_routes_get_a_limit(apply):
    out = apply(Command, '''
        from flask import Blueprint, request
        bp = Blueprint("x", __name__)

        @bp.route("/api/auth/register", methods=["POST"])
        def register():
            return {}

        @bp.route("/api/items/<int:i>/picture", methods=["POST"])
        def picture(i):
            request.files["f"].save("x")
            return {}

        @bp.route("/api/items")
        def items():
            return []
        ''')
    assert '@bp.route("/api/auth/register", methods=["POST"])\n@limiter.limit(SENSITIVE_LIMIT)\ndef register' in out
    assert '@limiter.limit(SENSITIVE_LIMIT)\ndef picture' in out
    assert '@bp.route("/api/items")\ndef items' in out
    assert "from workbench_security import SENSITIVE_LIMIT, limiter" in out or (
        "import SENSITIVE_LIMIT" in out and "import limiter" in out)


def test_project_limiter_reused(apply):
    out = apply(Command, 'from .extensions import limiter\n\n@bp.post("/login")\ndef login():\n    return {}\n')
    assert "@limiter.limit(SENSITIVE_LIMIT)" in out and "import limiter" not in out.replace("from .extensions import limiter", "")


def test_already_limited_unchanged(apply):
    source = textwrap.dedent('''
        @bp.route("/api/auth/login", methods=["POST"])
        @limiter.limit("5/minute")
        def login():
            return {}
        ''')
    assert apply(Command, source) == source
