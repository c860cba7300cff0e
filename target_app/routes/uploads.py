import os
import uuid

from flask import Blueprint, current_app, g, jsonify, request, send_from_directory
from pydantic import ValidationError
from werkzeug.utils import secure_filename

from ..auth import token_required
from ..db import db_session
from ..extensions import limiter
from ..models import Upload
from ..schemas import ImageUpload
from ..workbench_security import SENSITIVE_LIMIT, MAX_UPLOAD_BYTES, validate_upload, error_response

uploads_bp = Blueprint("uploads", __name__)


@uploads_bp.route("/", methods=["POST"])
@limiter.limit(SENSITIVE_LIMIT)
@token_required
def upload_file():
    f = request.files["file"]
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    safe_name = validate_upload(f, max_bytes=MAX_UPLOAD_BYTES)
    f.save(os.path.join(folder, safe_name))
    record = Upload(user_id=g.user_id, filename=safe_name, content_type=f.mimetype, size=os.path.getsize(os.path.join(folder, safe_name)))
    db_session.add(record)
    db_session.commit()
    return jsonify(record.to_dict()), 201


@uploads_bp.route("/image", methods=["POST"])
@limiter.limit("10/minute")
@token_required
def upload_image():
    f = request.files.get("file")
    if f is None:
        return error_response(400, "file is required", code="validation_error", details=[{"field": "file", "message": "Field required", "type": "missing"}])
    payload = f.read()
    try:
        meta = ImageUpload.model_validate({"filename": f.filename, "content_type": f.mimetype, "size": len(payload)})
    except ValidationError as exc:
        return error_response(400, "invalid image", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    name = f"{uuid.uuid4().hex[:12]}_{secure_filename(meta.filename) or 'image'}"
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as out:
        out.write(payload)
    record = Upload(user_id=g.user_id, filename=name, content_type=meta.content_type, size=meta.size)
    db_session.add(record)
    db_session.commit()
    return jsonify(record.to_dict()), 201


@uploads_bp.route("/<path:filename>", methods=["GET"])
@limiter.limit(SENSITIVE_LIMIT)
@token_required
def get_upload(filename):
    return send_from_directory(current_app.config["UPLOAD_FOLDER"], filename)
