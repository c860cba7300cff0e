from flask import Blueprint, jsonify
from sqlalchemy import text

from ..db import db_session

health_bp = Blueprint("health", __name__)

API_VERSION = "2.3.1"


@health_bp.route("/health")
def health():
    db_session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@health_bp.get("/version")
def version():
    return jsonify(version=API_VERSION)
