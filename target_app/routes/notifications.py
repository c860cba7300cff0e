import logging

from flask import Blueprint, g, jsonify

from .. import storage
from ..auth import token_required
from ..workbench_security import error_response

logger = logging.getLogger(__name__)

notifications_bp = Blueprint("notifications", __name__, url_prefix="/api/notifications")


@notifications_bp.route("/", methods=["GET"])
@token_required
def list_notifications():
    try:
        items = storage.get_notifications(g.user_id)
    except Exception:
        logger.exception("loading notifications failed")
        return error_response(503, "This data is not available right now.")
    return jsonify([n.to_dict() for n in items])


@notifications_bp.route("/<int:notification_id>/read", methods=["POST", "PUT"])  # PUT: app versions < 2.0
@token_required
def mark_read(notification_id):
    note = storage.mark_notification_read(notification_id, g.user_id)
    if note is None:
        return error_response(404, "notification not found")
    return jsonify(note.to_dict())


@notifications_bp.route("/read-all", methods=["POST"])
@token_required
def mark_all_read():
    return jsonify(updated=storage.mark_all_read(g.user_id))


@notifications_bp.route("/unread-count", methods=["GET"])
@token_required
def unread_count():
    count = storage.count_unread(g.user_id)
    logger.info(f"unread count for {g.user_id}: {count}")
    return jsonify(unread=count)
