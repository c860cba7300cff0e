
from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from ..auth import token_required
from ..db import db_session
from ..models import Event, EventRsvp, utcnow
from ..schemas import EventCreate
from ..workbench_schemas import EventsRsvpBody
from ..workbench_security import validate_json, error_response
import logging
from werkzeug.exceptions import Forbidden

logger = logging.getLogger(__name__)

events_bp = Blueprint("events", __name__, url_prefix="/api/events")


@events_bp.route("/", methods=["GET"])
@token_required
def list_events():
    try:
        events = db_session.query(Event).filter(Event.starts_at >= utcnow()).order_by(Event.starts_at).all()
    except Exception:
        logger.exception("unexpected error")
        return error_response(503, "This data is not available right now.")
    return jsonify([e.to_dict() for e in events])


@events_bp.route("/", methods=["POST"])
@token_required
def create_event():
    try:
        body = EventCreate.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return error_response(400, "invalid event", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    event = Event(host_id=g.user_id, **body.model_dump())
    db_session.add(event)
    db_session.commit()
    return jsonify(event.to_dict()), 201


@events_bp.route("/<int:event_id>", methods=["GET"])
@token_required
def get_event(event_id):
    event = db_session.query(Event).filter_by(id=event_id).first()
    if event is None:
        return error_response(404, "event not found")
    return jsonify(event.to_dict())


@events_bp.route("/<int:event_id>/rsvp", methods=["POST"])
@token_required
def rsvp(event_id):
    data = validate_json(EventsRsvpBody)
    logger.debug("request data received (not logged)")
    event = db_session.query(Event).filter_by(id=event_id).first()
    if event is None:
        return error_response(404, "event not found")
    existing = db_session.query(EventRsvp).filter_by(event_id=event_id, user_id=g.user_id).first()
    if existing is None:
        existing = EventRsvp(event_id=event_id, user_id=g.user_id)
        db_session.add(existing)
    existing.status = data.get("status", "going")
    db_session.commit()
    return jsonify(event_id=event_id, status=existing.status)


@events_bp.route("/<int:event_id>", methods=["DELETE"])
@token_required
def delete_event(event_id):
    event = db_session.query(Event).filter_by(id=event_id).first()
    if event is None:
        return error_response(404, "event not found")
    if event.host_id != g.user_id:
        raise Forbidden("only the host can cancel an event")
    db_session.delete(event)
    db_session.commit()
    return jsonify(deleted=event_id)
