"""Small operational endpoints, registered with add_url_rule from create_app."""
import logging
import subprocess

import requests
from flask import jsonify
from flask_login import login_required

from .db import get_db

log = logging.getLogger(__name__)

RATES_URL = "https://api.frankfurter.app/latest?from=EUR"


def health():
    get_db().execute("SELECT 1")
    return jsonify(status="ok")


def version():
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, timeout=2)
    return jsonify(version=rev.stdout.strip() or "unknown")


def exchange_rates():
    try:
        resp = requests.get(RATES_URL, timeout=5)
        resp.raise_for_status()
    except requests.RequestException:
        log.warning("exchange rate service unavailable")
        return jsonify(error="exchange rates unavailable"), 503
    return jsonify(resp.json()["rates"])


def stores():
    rows = get_db().execute("SELECT id, name, city FROM store ORDER BY city").fetchall()
    return jsonify([dict(r) for r in rows])


def init_app(app):
    app.add_url_rule("/health", "health", health)
    app.add_url_rule("/version", view_func=version)
    app.add_url_rule("/api/rates", "rates", login_required(exchange_rates))
    app.add_url_rule("/api/stores", "stores", stores)
