import os

from flask import Blueprint, current_app, g, jsonify, request

from ..auth import token_required
from ..db import db_session
from ..models import Post, User

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
    data = request.get_json()
    user = db_session.query(User).filter(User.id == g.user_id).first()
    try:
        for field in EDITABLE_FIELDS:
            if field in data:
                setattr(user, field, data[field])
        db_session.commit()
    except Exception as e:
        db_session.rollback()
        return jsonify({"message": "Could not update profile", "detail": str(e)}), 400
    return jsonify(user.to_dict(private=True))


@profile_bp.route("/<username>", methods=["GET"])
def public_profile(username):
    user = db_session.query(User).filter(User.username == username).first()
    if user is None:
        return jsonify(error="user not found"), 404
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
@token_required
def upload_avatar():
    file = request.files.get("avatar")
    if file is None or file.filename == "":
        return jsonify(error="no file"), 400
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "avatars")
    os.makedirs(folder, exist_ok=True)
    file.save(os.path.join(folder, file.filename))
    user = db_session.query(User).filter(User.id == g.user_id).first()
    user.avatar_url = f"/api/uploads/avatars/{file.filename}"
    db_session.commit()
    return jsonify(avatar_url=user.avatar_url)
