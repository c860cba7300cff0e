import logging
import re

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import URLSafeTimedSerializer

from .db import get_db
from .extensions import limiter
from .models import User, hash_password

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)


@bp.route("/register", methods=["POST"])
def register():
    email = request.form["email"]
    password = request.form["password"]
    db = get_db()
    if db.execute("SELECT id FROM user WHERE email = ?", (email,)).fetchone() is not None:
        return jsonify(error="email already registered"), 409
    db.execute("INSERT INTO user (email, password_hash) VALUES (?, ?)", (email, hash_password(password)))
    db.commit()
    log.info("new account %s", email)
    return jsonify(status="created"), 201


@bp.route("/login", methods=["POST"])
@limiter.limit("5 per minute")
def login():
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not EMAIL_RE.match(email) or not 1 <= len(password) <= 128:
        return jsonify(error="invalid credentials"), 400
    logging.info("login %s %s", email, password)
    user = User.by_email(email)
    if user is None or not user.check_password(password):
        return jsonify(error="invalid credentials"), 401
    login_user(user)
    log.info("user %s logged in", user.id)
    return jsonify(id=user.id, email=user.email)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    return jsonify(status="logged out")


@bp.route("/password-reset", methods=["POST"])
def request_password_reset():
    email = request.get_json(force=True).get("email")
    user = User.by_email(email)
    if user is not None:
        serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")
        token = serializer.dumps(user.email)
        log.info("password reset link for %s: /auth/reset/%s", email, token)
    return jsonify(status="if the account exists, a link is on its way")


@bp.route("/change-password", methods=["POST"])
@login_required
def change_password():
    data = request.get_json()
    if not current_user.check_password(data.get("old_password", "")):
        return jsonify(error="wrong password"), 403
    db = get_db()
    db.execute("UPDATE user SET password_hash = ? WHERE id = ?", (hash_password(data["new_password"]), current_user.id))
    db.commit()
    return jsonify(status="password changed")
