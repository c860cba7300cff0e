import os

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename

from .db import get_db
from .extensions import limiter

bp = Blueprint("account", __name__, url_prefix="/api/account")


def allowed_file(filename):
    return "." in filename and filename.rsplit(".", 1)[1].lower() in current_app.config["ALLOWED_IMAGE_EXTENSIONS"]


@bp.route("/avatar", methods=["POST"])
@login_required
@limiter.limit("10 per hour")
def upload_avatar():
    file = request.files.get("avatar")
    if file is None or not file.filename or not allowed_file(file.filename):
        return jsonify(error="a png or jpeg image is required"), 400
    filename = secure_filename(f"{current_user.id}-{file.filename}")
    # MAX_CONTENT_LENGTH (config.py) caps the request size; Flask answers 413 above it
    file.save(os.path.join(current_app.config["UPLOAD_FOLDER"], filename))
    return jsonify(avatar=filename), 201


@bp.route("/profile", methods=["PUT"])
@login_required
def update_profile():
    data = request.get_json(silent=True) or {}
    name = data.get("display_name")
    if not isinstance(name, str) or not 1 <= len(name) <= 80:
        return jsonify(error="display_name must be 1-80 characters"), 400
    db = get_db()
    db.execute("UPDATE user SET display_name = ? WHERE id = ?", (name, current_user.id))
    db.commit()
    return jsonify(display_name=name)
