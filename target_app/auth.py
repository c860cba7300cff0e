import hashlib
import os
from datetime import datetime, timedelta, timezone
from functools import wraps

import jwt
from flask import g, jsonify, request

from .db import db_session
from .models import User
from .workbench_security import require_env, check_and_upgrade_password, secure_password_hash, error_response
from werkzeug.exceptions import Forbidden, Unauthorized

TOKEN_TTL = timedelta(hours=24)


def jwt_secret():
    return require_env("JWT_SECRET")


def hash_password(password):
    return secure_password_hash(password)


def check_password(user, password):
    return user is not None and check_and_upgrade_password(user, "password_hash", password)


def create_token(user_id):
    now = datetime.now(timezone.utc)
    payload = {"sub": str(user_id), "iat": now, "exp": now + TOKEN_TTL}
    return jwt.encode(payload, jwt_secret(), algorithm="HS256")


def decode_token(token):
    return jwt.decode(token, jwt_secret(), algorithms=["HS256"])


def token_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized("missing token")
        try:
            payload = decode_token(header[len("Bearer "):])
        except jwt.PyJWTError:
            return error_response(401, "invalid token")
        user = db_session.get(User, int(payload["sub"]))
        if user is None or user.is_banned:
            raise Unauthorized("invalid token")
        g.user_id = user.id
        g.user = user
        return fn(*args, **kwargs)

    return wrapper


def admin_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        if g.get("user") is None or not g.user.is_admin:
            raise Forbidden("admin only")
        return fn(*args, **kwargs)

    return wrapper
