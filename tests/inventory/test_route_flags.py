"""validated, rate_limited, public/sensitive and data_access, judged from the source."""

from __future__ import annotations

from url_maps import routes_by_key, write_tree

from audit.config import Config
from audit.inventory import inventory_of


def test_validation_of_request_data(tmp_path):
    src = write_tree(tmp_path / "app", {"__init__.py": """
        from flask import Flask, request, abort
        from pydantic import BaseModel
        from .schemas import PostIn, post_schema

        app = Flask(__name__)

        class Query(BaseModel):
            q: str

        @app.post("/api/raw")
        def raw():
            data = request.get_json()
            return {"title": data["title"], "q": request.args.get("q")}

        @app.post("/api/pydantic")
        def with_pydantic():
            body = PostIn.model_validate(request.get_json(silent=True) or {})
            return {}

        @app.post("/api/kwargs")
        def with_kwargs():
            body = PostIn(**request.get_json())
            return {}

        @app.post("/api/marshmallow")
        def with_marshmallow():
            body = post_schema.load(request.form)
            return {}

        @app.get("/api/search")
        def search():
            query = Query.model_validate(request.args.to_dict())
            page = request.args.get("page", 1, type=int)
            return {}

        @app.get("/api/explicit")
        def explicit():
            name = request.args.get("name", "")
            if not isinstance(name, str) or len(name) > 50:
                abort(400)
            return {}

        @app.post("/api/explicit-json")
        def explicit_json():
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                return {"error": "bad"}, 400
            delta = data["delta"]
            if not isinstance(delta, int) or abs(delta) > 100:
                return {"error": "bad"}, 400
            return {}

        @app.get("/api/presence-only")
        def presence_only():
            name = request.args.get("name")
            if name is None:
                abort(400)
            return {}

        @app.get("/api/nothing")
        def nothing():
            return {}

        @app.route("/api/both", methods=["GET", "POST"])
        def both():
            if request.method == "POST":
                return {"x": request.form["x"]}
            return {}
    """, "schemas.py": """
        from pydantic import BaseModel
        from marshmallow import Schema, fields

        class PostIn(BaseModel):
            title: str

        class PostSchema(Schema):
            title = fields.Str(required=True)

        post_schema = PostSchema()
    """})
    routes = routes_by_key(src)
    validated = {k: r.validated for k, r in routes.items()}
    assert validated == {
        ("POST", "/api/raw"): False, ("POST", "/api/pydantic"): True, ("POST", "/api/kwargs"): True,
        ("POST", "/api/marshmallow"): True, ("GET", "/api/search"): True, ("GET", "/api/explicit"): True, ("POST", "/api/explicit-json"): True,
        ("GET", "/api/presence-only"): False, ("GET", "/api/nothing"): True,
        ("GET", "/api/both"): True, ("POST", "/api/both"): False,
    }
    assert routes[("POST", "/api/raw")].reads == ("args:q", "json:title")
    assert routes[("POST", "/api/both")].reads == ("form:x",)
    assert routes[("GET", "/api/both")].reads == ()


def test_rate_limits_decorator_blueprint_default_and_exempt(tmp_path):
    files = {
        "__init__.py": """
            from flask import Flask
            from .ext import limiter
            from .auth import auth_bp
            from .posts import posts_bp

            def create_app():
                app = Flask(__name__)
                limiter.init_app(app)
                app.register_blueprint(auth_bp, url_prefix="/auth")
                app.register_blueprint(posts_bp, url_prefix="/posts")
                return app
        """,
        "ext.py": """
            from flask_limiter import Limiter
            from flask_limiter.util import get_remote_address
            limiter = Limiter(key_func=get_remote_address)
        """,
        "auth.py": """
            from flask import Blueprint
            from .ext import limiter
            auth_bp = Blueprint("auth", __name__)
            limiter.limit("10/minute")(auth_bp)

            @auth_bp.post("/login")
            def login():
                return {}
        """,
        "posts.py": """
            from flask import Blueprint
            from . import ext
            posts_bp = Blueprint("posts", __name__)

            @posts_bp.post("/upload")
            @ext.limiter.limit("1/second")
            def upload():
                return {}

            @posts_bp.get("/")
            def listing():
                return {}
        """,
    }
    src = write_tree(tmp_path / "app", files)
    limited = {k: r.rate_limited for k, r in routes_by_key(src).items()}
    assert limited == {("POST", "/auth/login"): True, ("POST", "/posts/upload"): True, ("GET", "/posts/"): False}

    files["ext.py"] = files["ext.py"].replace("key_func=get_remote_address", "key_func=get_remote_address, default_limits=['100/hour']")
    files["posts.py"] = files["posts.py"].replace('@posts_bp.get("/")', '@posts_bp.get("/")\n            @ext.limiter.exempt')
    src = write_tree(tmp_path / "app2", files)
    limited = {k: r.rate_limited for k, r in routes_by_key(src).items()}
    assert limited == {("POST", "/auth/login"): True, ("POST", "/posts/upload"): True, ("GET", "/posts/"): False}


def test_public_sensitive_and_data_access(tmp_path):
    src = write_tree(tmp_path / "app", {
        "__init__.py": """
            from flask import Flask, request
            from sqlalchemy import text
            from .models import db, Post
            from .repositories import post_repo
            from . import services

            app = Flask(__name__)

            @app.post("/api/auth/login")
            def login():
                return {}

            @app.get("/api/health")
            def health():
                return {}

            @app.get("/api/posts")
            def posts():
                return {"posts": post_repo.all()}

            @app.get("/api/posts/<int:pid>")
            def post(pid):
                return {"post": Post.query.get(pid)}

            @app.get("/api/raw")
            def raw():
                return {"n": db.session.execute(text("select 1")).scalar()}

            @app.get("/api/stats")
            def stats():
                return services.compute_stats()

            @app.post("/api/files")
            def files():
                f = request.files["doc"]
                return {}

            @app.get("/admin/ping")
            def admin_ping():
                return {}
        """,
        "models.py": "db = None\nclass Post: pass\n",
        "repositories.py": "class PostRepo:\n    def all(self): return []\npost_repo = PostRepo()\n",
        "services.py": "def compute_stats(): return {}\n",
    })
    routes = {k[1]: r for k, r in routes_by_key(src).items()}
    assert routes["/api/auth/login"].public and routes["/api/auth/login"].sensitive
    assert routes["/api/health"].public and not routes["/api/health"].sensitive
    assert not routes["/admin/ping"].public
    assert routes["/api/files"].sensitive and not routes["/api/files"].public
    access = {path: r.data_access for path, r in routes.items()}
    assert access["/api/posts"] == "storage"
    assert access["/api/stats"] == "storage"
    assert access["/api/posts/<int:pid>"] == "direct"
    assert access["/api/raw"] == "direct"
    assert access["/api/health"] == "none"


def test_config_extends_public_and_sensitive(tmp_path):
    src = write_tree(tmp_path / "app", {"__init__.py": """
        from flask import Flask
        app = Flask(__name__)

        @app.get("/api/feed/public")
        def feed():
            return {}
    """})
    (route,) = inventory_of(src).routes
    assert not route.public and not route.sensitive
    (route,) = inventory_of(src, Config(public=("/api/feed/*",), sensitive=("/api/feed/public",))).routes
    assert route.public and route.sensitive


def test_a_checking_helper_whose_verdict_refuses_validates(tmp_path):
    """``problems = check_fields(data, spec); if problems: return ..., 400``: the helper validates,
    whatever its name; a verdict that is only logged, or no verdict, does not."""
    src = write_tree(tmp_path / "app", {"__init__.py": """
        from flask import Flask, jsonify, request

        app = Flask(__name__)
        SPEC = {"name": str, "price": int}

        def check_fields(data, spec):
            return [k for k, kind in spec.items() if not isinstance(data.get(k), kind)]

        @app.post("/checked")
        def checked():
            data = request.get_json(silent=True) or {}
            bad = check_fields(data, SPEC)
            if bad:
                return jsonify(error="invalid fields: " + ", ".join(bad)), 400
            return jsonify(name=data["name"], price=data["price"]), 201

        @app.post("/logged")
        def logged():
            data = request.get_json(silent=True) or {}
            bad = check_fields(data, SPEC)
            if bad:
                app.logger.warning("bad fields %s", bad)
            return jsonify(name=data["name"]), 201

        @app.post("/transformed")
        def transformed():
            data = request.get_json(silent=True) or {}
            clean = dict(data)
            return jsonify(name=clean["name"]), 201
    """})
    routes = routes_by_key(src)
    assert routes[("POST", "/checked")].validated
    assert not routes[("POST", "/logged")].validated
    assert not routes[("POST", "/transformed")].validated


def test_limits_on_class_based_views_and_registered_functions(tmp_path):
    """``@limiter.limit`` on a MethodView method, in a class's ``decorators = [...]``, on a function
    registered with add_url_rule, and as a wrapper inside add_url_rule: rate limited; exempt wins."""
    src = write_tree(tmp_path / "app", {"__init__.py": """
        from flask import Flask
        from flask.views import MethodView
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        app = Flask(__name__)
        limiter = Limiter(get_remote_address, app=app)

        class LoginView(MethodView):
            @limiter.limit("5/minute")
            def post(self):
                return {}

            def get(self):
                return {}

        class ResetView(MethodView):
            decorators = [limiter.limit("3/hour")]

            def post(self):
                return {}

        @limiter.limit("10/minute")
        def register():
            return {}

        def status():
            return {}

        def health():
            return {}

        app.add_url_rule("/login", view_func=LoginView.as_view("login"))
        app.add_url_rule("/reset", view_func=ResetView.as_view("reset"))
        app.add_url_rule("/register", view_func=register, methods=["POST"])
        app.add_url_rule("/status", view_func=limiter.limit("1/second")(status))
        app.add_url_rule("/health", view_func=health)
    """})
    routes = routes_by_key(src)
    assert routes[("POST", "/login")].rate_limited
    assert not routes[("GET", "/login")].rate_limited
    assert routes[("POST", "/reset")].rate_limited
    assert routes[("POST", "/register")].rate_limited
    assert routes[("GET", "/status")].rate_limited
    assert not routes[("GET", "/health")].rate_limited
