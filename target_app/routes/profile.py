import os

from flask import Blueprint, current_app, g, jsonify, request

from ..auth import token_required
from ..db import db_session
from ..models import Post, User
from ..workbench_security import SENSITIVE_LIMIT, limiter, validate_json, MAX_UPLOAD_BYTES, validate_upload, error_response
from ..workbench_schemas import ProfileUpdateProfileBody

profile_bp = Blueprint("profile", __name__)

EDITABLE_FIELDS = ("display_name", "bio", "city", "avatar_url")


@profile_bp.route("/", methods=["GET"])
@token_required
def my_profile():
    user = db_session.query(User).filter(User.id == g.user_id).first()
    data = user.to_dict(private=True)
    data["posts"] = db_session.query(Post).filter(Post.user_id == user.id).count()
    return jsonify(data)


@profile_bp.route("/", methods=["PUT"])
@token_required
def update_profile():
    data = validate_json(ProfileUpdateProfileBody)
    user = db_session.query(User).filter(User.id == g.user_id).first()
    try:
        for field in EDITABLE_FIELDS:
            if field in data:
                setattr(user, field, data[field])
        db_session.commit()
    except Exception as e:
        db_session.rollback()
        return error_response(400, "Could not update profile")
    return jsonify(user.to_dict(private=True))


@profile_bp.route("/<username>", methods=["GET"])
@token_required
def public_profile(username):
    user = db_session.query(User).filter(User.username == username).first()
    if user is None:
        return error_response(404, "user not found")
    data = user.to_dict()
    data["recent_posts"] = [
        p.to_dict()
        for p in db_session.query(Post)
        .filter(Post.user_id == user.id, Post.visibility == "public")
        .order_by(Post.id.desc())
        .limit(5)
    ]
    return jsonify(data)


@profile_bp.route("/avatar", methods=["POST"])
@limiter.limit(SENSITIVE_LIMIT)
@token_required
def upload_avatar():
    file = request.files.get("avatar")
    if file is None or file.filename == "":
        return error_response(400, "no file", code="validation_error", details=[{"field": "avatar", "message": "Field required", "type": "missing"}])
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "avatars")
    os.makedirs(folder, exist_ok=True)
    safe_name = validate_upload(file, max_bytes=MAX_UPLOAD_BYTES)
    file.save(os.path.join(folder, safe_name))
    user = db_session.query(User).filter(User.id == g.user_id).first()
    user.avatar_url = f"/api/uploads/avatars/{safe_name}"
    db_session.commit()
    return jsonify(avatar_url=user.avatar_url)
