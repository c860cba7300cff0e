"""Community platform backend: memories, groups, events, messages and chat."""
import os

from flask import Flask, jsonify

from .config import DEFAULT_DATABASE_URL, Config
from .db import db_session, init_db
from .extensions import limiter, socketio
from .workbench_security import init_security, error_response


def create_app(config=None):
    app = Flask(__name__)
    app.config.from_object(Config)
    app.config["DATABASE_URL"] = os.getenv("DATABASE_URL", DEFAULT_DATABASE_URL)
    if config:
        app.config.update(config)

    init_db(app.config["DATABASE_URL"])
    limiter.init_app(app)

    from . import sockets  # noqa: F401  (registers the /chat namespace handlers)

    socketio.init_app(app)

    from .routes.admin import admin_bp
    from .routes.auth import auth_bp
    from .routes.comments import comments_bp
    from .routes.events import events_bp
    from .routes.groups import groups_bp
    from .routes.health import health_bp
    from .routes.messages import messages_bp
    from .routes.notifications import notifications_bp
    from .routes.posts import posts_bp
    from .routes.previews import previews_bp
    from .routes.profile import profile_bp
    from .routes.search import search_bp
    from .routes.uploads import uploads_bp
    from .routes.users import users_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(posts_bp, url_prefix="/api/posts")
    app.register_blueprint(comments_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(profile_bp, url_prefix="/api/profile")
    app.register_blueprint(notifications_bp)
    app.register_blueprint(messages_bp, url_prefix="/api/messages")
    app.register_blueprint(search_bp)
    app.register_blueprint(users_bp, url_prefix="/api/users")
    app.register_blueprint(events_bp)
    app.register_blueprint(uploads_bp, url_prefix="/api/uploads")
    app.register_blueprint(previews_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(health_bp, url_prefix="/api")

    @app.after_request
    def add_cors_headers(response):
        # the web client and the RN app are served from different origins
        response.headers.update({"Access-Control-Allow-Origin": "*"})
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        return response

    @app.teardown_appcontext
    def remove_session(exc=None):
        db_session.remove()

    @app.errorhandler(404)
    def not_found(exc):
        return error_response(404, "not found")
    init_security(app)

    return app
