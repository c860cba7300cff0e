"""Views wrapped by a decorator call inside ``add_url_rule``, and API-key guards (a custom
header compared with a configured secret) recognised as auth by what they do."""

from __future__ import annotations

from url_maps import flask_url_map, inventory_set, routes_by_key

GUARDS = """
    import functools, os
    import jwt
    from flask import abort, g, request

    def login_required(view):
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

    def roles_required(*roles):
        def decorate(view):
            return login_required(view)
        return decorate

    def timed(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)
        return wrapper
"""


def test_views_wrapped_inside_add_url_rule_keep_their_handler_and_guards(app_tree):
    src, load = app_tree({
        "__init__.py": """
            from flask import Flask
            from .guards import login_required, roles_required, timed
            from .views import rates, stores, report, ItemAPI
            from .api import api

            def create_app():
                app = Flask(__name__)
                app.add_url_rule("/api/rates", "rates", login_required(rates))
                app.add_url_rule("/api/stores", view_func=timed(stores))
                app.add_url_rule("/report", view_func=roles_required("admin")(report), methods=["GET", "POST"])
                app.add_url_rule("/items/<int:item_id>", view_func=login_required(ItemAPI.as_view("item")))
                app.register_blueprint(api, url_prefix="/api/v2")
                return app
        """,
        "guards.py": GUARDS,
        "views.py": """
            from flask.views import MethodView

            def rates():
                return "x"

            def stores():
                return "x"

            def report():
                return "x"

            class ItemAPI(MethodView):
                def get(self, item_id):
                    return "x"
        """,
        "api.py": """
            from flask import Blueprint
            from . import guards
            from .views import stores

            api = Blueprint("api", __name__)
            api.add_url_rule("/stores", "stores", view_func=guards.timed(guards.login_required(stores)))
        """,
    })
    app = load(":create_app")()
    assert inventory_set(src) == flask_url_map(app)
    routes = routes_by_key(src)
    rates = routes[("GET", "/api/rates")]
    assert (rates.handler, rates.file, rates.line) == ("rates", "views.py", 3)
    assert rates.auth is True
    assert routes[("GET", "/api/stores")].auth is False  # a wrapper that checks nothing is no auth
    assert routes[("POST", "/report")].auth is True  # decorator factory: roles_required("admin")(view)
    item = routes[("GET", "/items/<int:item_id>")]
    assert (item.handler, item.line, item.auth) == ("ItemAPI.get", 13, True)
    assert routes[("GET", "/api/v2/stores")].auth is True  # nested wrappers: the inner one is auth


ADMIN = """
    import hmac, os
    from flask import Blueprint, abort, current_app, jsonify, request

    admin_bp = Blueprint("admin", __name__)

    @admin_bp.before_request
    def check_token():
        {bypass}
        token = request.headers.get("X-Admin-Token", "")
        if not hmac.compare_digest(token, current_app.config["ADMIN_TOKEN"]):
            abort(401)

    @admin_bp.route("/stats")
    def stats():
        return jsonify([])
"""

APP = """
    from flask import Flask
    from .admin import admin_bp
    from .keyed import keyed_bp

    def create_app():
        app = Flask(__name__)
        app.register_blueprint(admin_bp, url_prefix="/admin")
        app.register_blueprint(keyed_bp, url_prefix="/keyed")
        return app
"""

KEYED = """
    import functools, os, secrets
    from flask import Blueprint, abort, request

    keyed_bp = Blueprint("keyed", __name__)

    def api_key_required(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not secrets.compare_digest(request.headers.get("X-Service-Key", ""), os.environ["SERVICE_KEY"]):
                abort(403)
            return view(*args, **kwargs)
        return wrapper

    @keyed_bp.before_request
    def check_key():
        if request.headers["X-API-Key"] != os.environ["API_KEY"]:
            abort(403)

    @keyed_bp.route("/data")
    def data():
        return "x"

    @keyed_bp.route("/wrapped")
    @api_key_required
    def wrapped():
        return "x"
"""


def test_api_key_header_compared_with_a_secret_is_auth(app_tree):
    src, load = app_tree({"__init__.py": APP, "admin.py": ADMIN.replace("{bypass}", "pass"), "keyed.py": KEYED})
    assert inventory_set(src) == flask_url_map(load(":create_app")())
    routes = routes_by_key(src)
    assert routes[("GET", "/admin/stats")].auth is True  # X-Admin-Token + hmac.compare_digest + abort(401)
    assert routes[("GET", "/keyed/data")].auth is True  # X-API-Key != env secret + abort(403)
    assert routes[("GET", "/keyed/wrapped")].auth is True  # decorator: X-Service-Key + secrets.compare_digest


def test_api_key_guard_with_a_dev_switch_bypass_is_still_auth(app_tree):
    bypass = 'if os.environ.get("APP_SKIP_AUTH") == "1":\n            return None'
    src, _ = app_tree({"__init__.py": APP, "admin.py": ADMIN.replace("{bypass}", bypass), "keyed.py": KEYED})
    assert routes_by_key(src)[("GET", "/admin/stats")].auth is True


def test_api_key_guard_that_lets_a_missing_header_through_is_not_auth(app_tree):
    admin = """
        import hmac
        from flask import Blueprint, abort, current_app, request

        admin_bp = Blueprint("admin", __name__)

        @admin_bp.before_request
        def check_token():
            token = request.headers.get("X-Admin-Token")
            if not token:
                return None
            if not hmac.compare_digest(token, current_app.config["ADMIN_TOKEN"]):
                abort(401)

        @admin_bp.route("/stats")
        def stats():
            return "x"
    """
    src, _ = app_tree({"__init__.py": APP, "admin.py": admin, "keyed.py": KEYED})
    assert routes_by_key(src)[("GET", "/admin/stats")].auth is False


def test_a_non_credential_header_check_is_not_auth(app_tree):
    admin = """
        from flask import Blueprint, abort, request

        admin_bp = Blueprint("admin", __name__)

        @admin_bp.before_request
        def check_type():
            if request.headers.get("Content-Type") != request.headers.get("X-Expected-Type"):
                abort(403)

        @admin_bp.route("/stats")
        def stats():
            return "x"
    """
    src, _ = app_tree({"__init__.py": APP, "admin.py": admin, "keyed.py": KEYED})
    assert routes_by_key(src)[("GET", "/admin/stats")].auth is False
