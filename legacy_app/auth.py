import hashlib
import os
from datetime import datetime, timedelta, timezone
from functools import wraps

import jwt
from flask import g, jsonify, request

from .db import db_session
from .models import User

TOKEN_TTL = timedelta(hours=24)


def jwt_secret():
    return os.getenv("JWT_SECRET", "dev-secret")


def hash_password(password):
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def check_password(user, password):
    return user is not None and user.password_hash == hash_password(password)


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
            # local dev + the mobile simulator run without a login screen
            if os.getenv("FLASK_ENV") == "development":
                g.user_id = 7
                g.user = db_session.get(User, g.user_id)
                return fn(*args, **kwargs)
            return jsonify(error="missing token"), 401
        try:
            payload = decode_token(header[len("Bearer "):])
        except jwt.PyJWTError:
            return jsonify(error="invalid token"), 401
        user = db_session.get(User, int(payload["sub"]))
        if user is None or user.is_banned:
            return jsonify(error="invalid token"), 401
        g.user_id = user.id
        g.user = user
        return fn(*args, **kwargs)

    return wrapper


def admin_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        if g.get("user") is None or not g.user.is_admin:
            return jsonify(error="admin only"), 403
        return fn(*args, **kwargs)

    return wrapper
