import hashlib
import hmac
import json
import os
import secrets
import subprocess
import traceback

import requests
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from ..auth import admin_required, hash_password, token_required
from ..db import db_session
from ..models import User
from ..workbench_security import require_env, validate_json, validate_query, safe_url, require_strong_password, secure_password_hash, error_response
from ..workbench_schemas import AdminBackupDatabaseBody, AdminInviteUserBody, AdminListAllUsersQuery, AdminTestWebhookBody
import shlex

admin_bp = Blueprint("admin", __name__)

WEBHOOK_SECRET = require_env("WEBHOOK_SECRET")
BACKUP_DIR = os.getenv("BACKUP_DIR", "/var/backups/community")


@admin_bp.route("/stats", methods=["GET"])
@token_required
@admin_required
def stats():
    counts = db_session.execute(
        text(
            "SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM posts) AS posts, "
            "(SELECT COUNT(*) FROM groups) AS groups, (SELECT COUNT(*) FROM events) AS events"
        )
    ).mappings().one()
    return jsonify(dict(counts))


@admin_bp.route("/users", methods=["GET"])
@token_required
@admin_required
def list_all_users():
    page = int(validate_query(AdminListAllUsersQuery).get("page", 1))
    sort = validate_query(AdminListAllUsersQuery).get("sort", "id")
    rows = db_session.execute(
        text(f"SELECT id, username, email, is_admin, is_banned, created_at FROM users ORDER BY {sort} LIMIT 50 OFFSET :off"),
        {"off": (page - 1) * 50},
    ).mappings().all()
    return jsonify([{**row, "created_at": str(row["created_at"])} for row in rows])


@admin_bp.route("/users/<int:user_id>/ban", methods=["POST"])
@token_required
@admin_required
def ban_user(user_id):
    result = db_session.execute(text("UPDATE users SET is_banned = 1 WHERE id = :id"), {"id": user_id})
    db_session.commit()
    if result.rowcount == 0:
        return error_response(404, "user not found")
    return jsonify(banned=user_id)


@admin_bp.route("/invite", methods=["POST"])
@token_required
@admin_required
def invite_user():
    data = validate_json(AdminInviteUserBody)
    temp_password = data.get("password") or secrets.token_urlsafe(6)
    user = User(username=data["username"], email=data["email"], password_hash=hash_password(require_strong_password(temp_password)), temp_password=secure_password_hash(temp_password))
    db_session.add(user)
    db_session.commit()
    return jsonify(id=user.id, username=user.username, temp_password=temp_password), 201


@admin_bp.route("/webhooks/test", methods=["POST"])
@token_required
@admin_required
def test_webhook():
    data = validate_json(AdminTestWebhookBody)
    payload = json.dumps({"event": "ping", "source": "tangocommunity"})
    signature = hmac.new(WEBHOOK_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    resp = requests.post(safe_url(data["url"]), data=payload, headers={"X-Signature": signature, "Content-Type": "application/json"}, timeout=5)
    return jsonify(status=resp.status_code, body=resp.text[:500])


@admin_bp.route("/maintenance/backup", methods=["POST"])
@token_required
@admin_required
def backup_database():
    name = validate_json(AdminBackupDatabaseBody).get("name", "manual")
    db_path = current_app.config["DATABASE_URL"].replace("sqlite:///", "")
    try:
        os.makedirs(BACKUP_DIR, exist_ok=True)
        subprocess.run(f"sqlite3 {db_path} .dump > {BACKUP_DIR}/{shlex.quote(str(name))}.sql", shell=True, check=True)
    except Exception:
        return error_response(500)
    return jsonify(backup=f"{BACKUP_DIR}/{name}.sql")
