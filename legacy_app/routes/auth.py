import logging
import secrets

import jwt
from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from .. import storage
from ..auth import check_password, create_token, hash_password, token_required
from ..db import db_session
from ..extensions import limiter
from ..schemas import LoginRequest

logger = logging.getLogger(__name__)

auth_bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@auth_bp.route("/register", methods=["POST"])
def register():
    data = request.get_json() or {}
    username = data.get("username", "").strip()
    email = data.get("email", "").strip().lower()
    password = data.get("password", "")
    if not username or not email or not password:
        return jsonify(error="username, email and password are required"), 400
    if storage.get_user_by_username(username) or storage.get_user_by_email(email):
        return jsonify(error="username or email already taken"), 409
    user = storage.create_user(username=username, email=email, password_hash=hash_password(password), display_name=data.get("display_name") or username, city=data.get("city"))
    logger.info("new user %s (%s)", user.username, user.email)
    return jsonify(user.to_dict(private=True)), 201


@auth_bp.route("/login", methods=["POST"])
@limiter.limit("5/minute")
def login():
    try:
        creds = LoginRequest.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid request", details=exc.errors(include_url=False, include_context=False)), 400
    user = storage.get_user_by_username(creds.username)
    if not check_password(user, creds.password):
        return jsonify(error="invalid username or password"), 401
    if user.is_banned:
        return jsonify(error="account suspended"), 403
    return jsonify(token=create_token(user.id), user=user.to_dict(private=True))


@auth_bp.route("/logout", methods=["POST"])
@limiter.limit("30/minute")
@token_required
def logout():
    # tokens are stateless; the apps just drop theirs
    return jsonify(ok=True)


@auth_bp.route("/refresh", methods=["POST"])
def refresh_token():
    token = request.headers.get("Authorization", "").replace("Bearer ", "")
    logger.debug("refresh requested with token %s", token)
    try:
        # expired tokens have to be refreshable, so don't verify here
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.DecodeError:
        return jsonify(error="invalid token"), 401
    return jsonify(token=create_token(payload["sub"]))


@auth_bp.route("/me", methods=["GET"])
@token_required
def me():
    return jsonify(g.user.to_dict(private=True))


@auth_bp.route("/password-reset", methods=["POST"])
def request_password_reset():
    email = (request.get_json() or {}).get("email", "")
    user = storage.get_user_by_email(email.strip().lower())
    if user is not None:
        token = secrets.token_urlsafe(24)
        storage.save_reset_token(user.id, token)
        # TODO: hook up mailgun, for now support copies the link from the logs
        print(f"password reset for {email}: https://tangocommunity.app/reset?token={token}")
    return jsonify(message="If that address is registered, a reset link is on its way.")


@auth_bp.route("/change-password", methods=["POST"])
@token_required
def change_password():
    data = request.get_json() or {}
    user = g.user
    if not check_password(user, data.get("old_password", "")):
        return jsonify(error="current password is wrong"), 400
    logger.info("password change for user %s: new password %s", user.id, data["new_password"])
    user.password_hash = hash_password(data["new_password"])
    db_session.commit()
    return jsonify(ok=True)
