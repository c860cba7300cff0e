"""flask_shop: the backend of a small B2B web shop.

Application factory in the style of the Flask tutorial; blueprints for auth,
catalogue, cart, orders, admin and account; sqlite3 through ``db.get_db()``.
"""
import logging
import os

from flask import Flask, jsonify

from . import db
from .config import Config
from .extensions import limiter, login_manager


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if test_config is not None:
        app.config.update(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    db.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from . import health
    from .account import bp as account_bp
    from .admin import admin_bp
    from .auth import bp as auth_bp
    from .cart import cart
    from .catalog import bp as catalog_bp
    from .orders import bp as orders_bp

    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(catalog_bp)
    app.register_blueprint(cart, url_prefix="/api/cart")
    app.register_blueprint(orders_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(account_bp)
    health.init_app(app)

    register_error_handlers(app)
    return app


def register_error_handlers(app):
    @app.errorhandler(400)
    def bad_request(e):
        return jsonify(error="bad request"), 400

    @app.errorhandler(401)
    def unauthorized(e):
        return jsonify(error="authentication required"), 401

    @app.errorhandler(403)
    def forbidden(e):
        return jsonify(error="forbidden"), 403

    @app.errorhandler(404)
    def not_found(e):
        return jsonify(error="not found"), 404

    @app.errorhandler(413)
    def too_large(e):
        return jsonify(error="file too large"), 413

    @app.errorhandler(500)
    def server_error(e):
        return jsonify(error="internal server error"), 500
