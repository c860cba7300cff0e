"""The Flask gatherer against real Flask URL maps of small apps built in tmp_path."""

from __future__ import annotations

from url_maps import flask_url_map, inventory_set, routes_by_key


def test_cross_module_blueprints_prefixes_and_shortcuts(app_tree):
    src, load = app_tree({
        "__init__.py": """
            from flask import Flask
            from .api import posts as posts_module
            from .api.users import bp as users_bp
            from . import registry

            def create_app():
                app = Flask(__name__)
                app.register_blueprint(posts_module.bp, url_prefix="/api/posts")   # overrides the blueprint's prefix
                app.register_blueprint(users_bp)                                   # keeps the blueprint's prefix
                registry.register_all(app)
                @app.get("/health")
                def health():
                    return "ok"
                return app
        """,
        "api/__init__.py": "",
        "api/posts.py": """
            from flask import Blueprint
            bp = Blueprint("posts", __name__, url_prefix="/ignored")

            @bp.route("/", methods=["GET", "POST"])
            def list_posts():
                return "x"

            @bp.route("")
            def bare():
                return "x"

            @bp.delete("/<int:post_id>")
            def delete_post(post_id):
                return "x"
        """,
        "api/users.py": """
            from flask import Blueprint
            PREFIX = "/api/users/"
            bp = Blueprint("users", __name__, url_prefix=PREFIX)

            @bp.route("/<name>", methods=("PUT", "patch", "HEAD"))
            def update(name):
                return "x"
        """,
        "registry.py": """
            from flask import Blueprint
            from .api import extra

            def register_all(app):
                for bp in (extra.a, extra.b):
                    app.register_blueprint(bp)
        """,
        "api/extra.py": """
            from flask import Blueprint
            a = Blueprint("a", __name__, url_prefix="/a")
            b = Blueprint("b", __name__)

            @a.route("/x")
            def ax():
                return "x"

            @b.post("/b/y")
            def by():
                return "x"
        """,
    })
    app = load(":create_app")()
    assert inventory_set(src) == flask_url_map(app)


def test_nested_blueprints_and_register_prefix_override(app_tree):
    src, load = app_tree({
        "__init__.py": """
            from flask import Flask, Blueprint
            from .children import child, grandchild, plain

            parent = Blueprint("parent", __name__, url_prefix="/parent/")

            @parent.route("/")
            def parent_index():
                return "x"

            parent.register_blueprint(child, url_prefix="/kid")
            child.register_blueprint(grandchild)
            parent.register_blueprint(plain)

            app = Flask(__name__)
            app.register_blueprint(parent, url_prefix="/v1")
        """,
        "children.py": """
            from flask import Blueprint
            child = Blueprint("child", __name__, url_prefix="/child")
            grandchild = Blueprint("grandchild", __name__, url_prefix="/g")
            plain = Blueprint("plain", __name__)

            @child.route("/c")
            def c():
                return "x"

            @grandchild.route("")
            def g():
                return "x"

            @plain.route("/p", methods=["POST"])
            def p():
                return "x"
        """,
    })
    app = load(":app")
    assert inventory_set(src) == flask_url_map(app)


def test_method_views_and_add_url_rule(app_tree):
    src, load = app_tree({
        "__init__.py": """
            from flask import Flask
            from .views import ItemAPI, ItemListAPI, Report, ping
            from .api import api

            app = Flask(__name__)
            app.add_url_rule("/items/<int:item_id>", view_func=ItemAPI.as_view("item"))
            app.add_url_rule("/items/", view_func=ItemListAPI.as_view("items"))
            app.add_url_rule("/report", view_func=Report.as_view("report"), methods=["GET", "POST"])
            app.add_url_rule("/ping", "ping", ping)
            app.register_blueprint(api, url_prefix="/api")
        """,
        "views.py": """
            from flask.views import MethodView, View

            class Base(MethodView):
                def get(self, item_id):
                    return "x"

            class ItemAPI(Base):
                def put(self, item_id):
                    return "x"
                def delete(self, item_id):
                    return "x"

            class ItemListAPI(MethodView):
                methods = ["GET"]
                def get(self):
                    return "x"
                def post(self):
                    return "x"

            class Report(View):
                def dispatch_request(self):
                    return "x"

            def ping():
                return "pong"
        """,
        "api.py": """
            from flask import Blueprint
            from .views import ItemAPI

            api = Blueprint("api", __name__)

            def register(bp):
                bp.add_url_rule("/things/<int:item_id>", view_func=ItemAPI.as_view("things"))

            register(api)
        """,
    })
    app = load(":app")
    expected = flask_url_map(app)
    assert inventory_set(src) == expected
    routes = routes_by_key(src)
    # class-based views: the handler's line is the method's def line, in the class's file
    assert routes[("PUT", "/items/<int:item_id>")].file == "views.py"
    assert routes[("GET", "/items/<int:item_id>")].handler == "ItemAPI.get"
    assert routes[("GET", "/items/<int:item_id>")].line == 4


def test_routes_inside_the_factory_and_lines(app_tree):
    src, load = app_tree({
        "__init__.py": """
            from flask import Flask

            def create_app(config=None):
                app = Flask(__name__)

                @app.route("/a",
                           methods=["POST"])
                def a():
                    return "x"

                return app
        """,
    })
    app = load(":create_app")()
    assert inventory_set(src) == flask_url_map(app)
    (route,) = routes_by_key(src).values()
    assert (route.file, route.line, route.end_line, route.module) == ("__init__.py", 8, 9, src.name)


def test_flat_module_app_without_package(app_tree):
    src, _ = app_tree({
        "app.py": """
            import flask as fl
            from views import bp
            application = fl.Flask(__name__)
            application.register_blueprint(bp, url_prefix="/v")
        """,
        "views.py": """
            from flask import Blueprint
            bp = Blueprint("v", __name__)
            @bp.route("/x", methods=["GET", "POST"])
            def x():
                return "x"
        """,
    })
    assert inventory_set(src) == {("GET", "/v/x", "x"), ("POST", "/v/x", "x")}


def test_alias_cycles_and_recursive_helpers_do_not_hang(app_tree):
    src, _ = app_tree({
        "__init__.py": """
            from flask import Flask
            from .a import x as y
            app = Flask(__name__)
            alias = app

            def register(target, depth=0):
                if depth < 3:
                    register(target, depth + 1)
                target.add_url_rule("/r", view_func=view)

            def view():
                return "x"

            register(alias)
        """,
        "a.py": "from . import y as x\n",
    })
    assert inventory_set(src) == {("GET", "/r", "view")}


def test_route_decorators_applied_by_hand(app_tree):
    """``app.route("/x")(view)`` and ``bp.post("/x")(view)``: the decorator called on a view, in
    the registering module or another one, with a blueprint prefix and a wrapped view."""
    src, load = app_tree({
        "__init__.py": """
            from flask import Flask
            from .views import bp, ping, status
            from .auth import login_required

            app = Flask(__name__)
            app.route("/ping")(ping)
            app.route("/status", methods=["GET", "POST"])(login_required(status))
            app.register_blueprint(bp, url_prefix="/api")
        """,
        "auth.py": """
            import functools
            import jwt
            from flask import abort, g, request

            def login_required(view):
                @functools.wraps(view)
                def wrapper(*args, **kwargs):
                    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
                    try:
                        g.user = jwt.decode(token, "key", algorithms=["HS256"])["sub"]
                    except jwt.InvalidTokenError:
                        abort(401)
                    return view(*args, **kwargs)
                return wrapper
        """,
        "views.py": """
            from flask import Blueprint

            bp = Blueprint("items", __name__)
            handlers = {"x": print}

            def ping():
                return "pong"

            def status():
                return "ok"

            def list_items():
                return "[]"

            def create_item():
                return "{}"

            bp.get("/items")(list_items)
            bp.post("/items")(create_item)
            handlers.get("x")("not a route")
        """,
    })
    app = load(":app")
    assert inventory_set(src) == flask_url_map(app)
    routes = routes_by_key(src)
    assert routes[("POST", "/api/items")].handler == "create_item"
    assert routes[("POST", "/api/items")].file == "views.py"
    assert routes[("GET", "/status")].auth and not routes[("GET", "/ping")].auth
