from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy import text

from ..auth import token_required
from ..db import db_session
from ..models import Message, Notification, User
from ..schemas import MessageCreate
from ..workbench_schemas import MessagesSearchMessagesQuery, MessagesSendMessageQuery, MessagesThreadQuery
from ..workbench_security import validate_query, error_response

messages_bp = Blueprint("messages", __name__)

INBOX_SQL = text(
    """
    SELECT m.id, m.sender_id, u.username AS sender, m.body, m.read, m.created_at
    FROM messages m JOIN users u ON u.id = m.sender_id
    WHERE m.recipient_id = :uid
    ORDER BY m.id DESC
    LIMIT 100
    """
)


@messages_bp.route("/", methods=["GET"])
@token_required
def inbox():
    rows = db_session.execute(INBOX_SQL, {"uid": g.user_id}).mappings().all()
    return jsonify([{**row, "read": bool(row["read"]), "created_at": str(row["created_at"])} for row in rows])


@messages_bp.route("/", methods=["POST"])
@token_required
def send_message():
    try:
        body = MessageCreate.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return error_response(400, "invalid message", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    if db_session.get(User, body.recipient_id) is None:
        return error_response(404, "recipient not found")
    urgent = validate_query(MessagesSendMessageQuery).get("urgent") == "true"
    message = Message(sender_id=g.user_id, recipient_id=body.recipient_id, body=body.body)
    db_session.add(message)
    label = "Urgent message" if urgent else "New message"
    db_session.add(Notification(user_id=body.recipient_id, kind="message", text=f"{label} from {g.user.username}"))
    db_session.commit()
    return jsonify(message.to_dict()), 201


@messages_bp.route("/thread/<int:other_id>", methods=["GET"])
@token_required
def thread(other_id):
    limit = validate_query(MessagesThreadQuery).get("limit", 50)
    rows = db_session.execute(
        text(
            "SELECT id, sender_id, recipient_id, body, read, created_at FROM messages "
            "WHERE (sender_id = :me AND recipient_id = :other) OR (sender_id = :other AND recipient_id = :me) "
            "ORDER BY id LIMIT :limit"
        ),
        {"me": g.user_id, "other": other_id, "limit": limit},
    ).mappings().all()
    return jsonify([{**row, "read": bool(row["read"]), "created_at": str(row["created_at"])} for row in rows])


@messages_bp.route("/search", methods=["GET"])
@token_required
def search_messages():
    q = validate_query(MessagesSearchMessagesQuery).get("q", "")
    rows = db_session.execute(text(f"SELECT id, sender_id, recipient_id, body, created_at FROM messages WHERE recipient_id = {g.user_id} AND body LIKE '%{q}%' ORDER BY id DESC")).mappings().all()
    return jsonify([{**row, "created_at": str(row["created_at"])} for row in rows])


@messages_bp.route("/<int:message_id>", methods=["DELETE"])
@token_required
def delete_message(message_id):
    message = db_session.get(Message, message_id)
    if message is None or g.user_id not in (message.sender_id, message.recipient_id):
        return error_response(404, "Message not found")
    db_session.delete(message)
    db_session.commit()
    return jsonify(deleted=message_id)
