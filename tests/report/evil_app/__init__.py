"""A tiny Flask app whose code carries HTML/JS payloads, to prove the reports escape
everything that comes from the audited code (file names, snippets, messages, paths)."""

from flask import Flask

from .config import SECRET_KEY
from .routes import bp


def create_app(config=None):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET_KEY
    app.config.update(config or {})
    app.register_blueprint(bp, url_prefix="/api")
    return app
