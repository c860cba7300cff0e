import textwrap

from audit.codemods.add_security_setup import AddSecuritySetupCommand as Command


def test_factory_gets_init_security_before_return(apply):
    out = apply(Command, '''
        from flask import Flask

        def create_app(config=None):
            app = Flask(__name__)
            if config:
                app.config.update(config)
            return app
        ''')
    assert out == textwrap.dedent('''
        from flask import Flask
        from workbench_security import init_security

        def create_app(config=None):
            app = Flask(__name__)
            if config:
                app.config.update(config)
            init_security(app)
            return app
        ''')


def test_module_level_app_after_its_configuration_and_debug_removed(apply):
    out = apply(Command, '''
        from flask import Flask
        app = Flask(__name__)
        app.config["X"] = 1
        app.debug = True

        @app.route("/")
        def index():
            return "hi"

        if __name__ == "__main__":
            app.run(host="0.0.0.0", debug=True)
        ''')
    assert 'app.config["X"] = 1\napp.debug = False\ninit_security(app)\n' in out
    assert 'app.run(host="0.0.0.0")' in out


def test_relative_import_inside_a_package(apply):
    out = apply(Command, "from flask import Flask\n\ndef make():\n    app = Flask(__name__)\n    return app\n",
                file="pkg/__init__.py", module="", package_root=True)
    assert "from .workbench_security import init_security" in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        from flask import Flask
        from workbench_security import init_security

        def create_app():
            app = Flask(__name__)
            init_security(app)
            return app
        ''')
    assert apply(Command, source) == source


def test_cookies_cors_and_socketio_origins(apply):
    out = apply(Command, '''
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config.update(SESSION_COOKIE_HTTPONLY=False)
        CORS(app, supports_credentials=True)
        socketio.init_app(app, cors_allowed_origins="*")

        def cors(resp):
            resp.headers.update({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"})
            resp.set_cookie("sid", "x", httponly=False)
            return resp
        ''')
    assert 'app.config["SESSION_COOKIE_SECURE"] = True' in out and "SESSION_COOKIE_HTTPONLY=True" in out
    assert "CORS(app)" in out and "socketio.init_app(app)" in out
    assert 'resp.headers.update({"Access-Control-Allow-Origin": "*"})' in out
    assert "httponly=True" in out


def test_flask_login_users_are_logged_in_by_a_bearer_token(monkeypatch):
    """The security module makes flask-login's current_user the token's user, also when the
    LoginManager is created after init_security (a module-level app configured top-down)."""
    import time

    import flask
    import jwt
    from flask_login import LoginManager, UserMixin, current_user, login_required

    from audit.codemods.templates import security

    monkeypatch.setenv("JWT_SECRET", "s" * 40)

    class User(UserMixin):
        def __init__(self, id):
            self.id = id

    app = flask.Flask(__name__)
    security.init_security(app)
    login_manager = LoginManager(app)
    login_manager.user_loader(lambda uid: User(int(uid)))
    app.add_url_rule("/me", view_func=login_required(lambda: {"id": current_user.id}), endpoint="me")
    client = app.test_client()
    token = jwt.encode({"sub": "5", "exp": int(time.time()) + 60}, "s" * 40, algorithm="HS256")
    forged = jwt.encode({"sub": "5", "exp": int(time.time()) + 60}, "t" * 40, algorithm="HS256")
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).get_json() == {"id": 5}
    assert client.get("/me").status_code == 401
    assert client.get("/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_missing_request_field_is_a_validation_error(monkeypatch):
    import flask

    from audit.codemods.templates import security

    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    app = flask.Flask(__name__)
    security.init_security(app)
    app.add_url_rule("/upload", view_func=lambda: {"name": flask.request.files["file"].filename}, methods=["POST"])
    resp = app.test_client().post("/upload", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "validation_error"
    assert resp.get_json()["error"]["details"] == [{"field": "file", "message": "Field required", "type": "missing"}]
