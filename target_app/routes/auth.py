import logging
import secrets

import jwt
from flask import current_app, Blueprint, g, jsonify, request
from pydantic import ValidationError

from .. import storage
from ..auth import check_password, create_token, hash_password, token_required
from ..db import db_session
from ..extensions import limiter
from ..schemas import LoginRequest
from ..workbench_security import SENSITIVE_LIMIT, validate_json, require_strong_password, error_response
from ..workbench_schemas import AuthChangePasswordBody, AuthRegisterBody, AuthRequestPasswordResetBody
from werkzeug.exceptions import Forbidden, Unauthorized

logger = logging.getLogger(__name__)

auth_bp = Blueprint("auth", __name__, url_prefix="/api/auth")


@auth_bp.route("/register", methods=["POST"])
@limiter.limit(SENSITIVE_LIMIT)
def register():
    data = validate_json(AuthRegisterBody)
    username = data.get("username", "").strip()
    email = data.get("email", "").strip().lower()
    password = data.get("password", "")
    if not username or not email or not password:
        return error_response(400, "username, email and password are required")
    if storage.get_user_by_username(username) or storage.get_user_by_email(email):
        return error_response(409, "username or email already taken")
    user = storage.create_user(username=username, email=email, password_hash=hash_password(require_strong_password(password)), display_name=data.get("display_name") or username, city=data.get("city"))
    logger.info("new user %s (%s)", user.username, user.email)
    return jsonify(user.to_dict(private=True)), 201


@auth_bp.route("/login", methods=["POST"])
@limiter.limit("5/minute")
def login():
    try:
        creds = LoginRequest.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return error_response(400, "invalid request", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    user = storage.get_user_by_username(creds.username)
    if not check_password(user, creds.password):
        raise Unauthorized("invalid username or password")
    if user.is_banned:
        raise Forbidden("account suspended")
    return jsonify(token=create_token(user.id), user=user.to_dict(private=True))


@auth_bp.route("/logout", methods=["POST"])
@limiter.limit("30/minute")
@token_required
def logout():
    # tokens are stateless; the apps just drop theirs
    return jsonify(ok=True)


@auth_bp.route("/refresh", methods=["POST"])
@limiter.limit(SENSITIVE_LIMIT)
def refresh_token():
    token = request.headers.get("Authorization", "").replace("Bearer ", "")
    logger.debug("refresh requested with token %s", "[REDACTED]")
    try:
        # expired tokens have to be refreshable, so don't verify here
        payload = jwt.decode(token, current_app.config["JWT_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return error_response(401, "invalid token")
    return jsonify(token=create_token(payload["sub"]))


@auth_bp.route("/me", methods=["GET"])
@token_required
def me():
    return jsonify(g.user.to_dict(private=True))


@auth_bp.route("/password-reset", methods=["POST"])
@limiter.limit(SENSITIVE_LIMIT)
def request_password_reset():
    email = validate_json(AuthRequestPasswordResetBody).get("email", "")
    user = storage.get_user_by_email(email.strip().lower())
    if user is not None:
        token = secrets.token_urlsafe(24)
        storage.save_reset_token(user.id, token)
        # TODO: hook up mailgun, for now support copies the link from the logs
        logger.info(f"password reset for {email}: https://tangocommunity.app/reset?token=[REDACTED]")
    return jsonify(message="If that address is registered, a reset link is on its way.")


@auth_bp.route("/change-password", methods=["POST"])
@limiter.limit(SENSITIVE_LIMIT)
@token_required
def change_password():
    data = validate_json(AuthChangePasswordBody)
    user = g.user
    if not check_password(user, data.get("old_password", "")):
        return error_response(400, "current password is wrong")
    logger.info("password change for user %s: new password %s", user.id, "[REDACTED]")
    user.password_hash = hash_password(require_strong_password(data["new_password"]))
    db_session.commit()
    return jsonify(ok=True)
