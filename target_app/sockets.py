"""Group chat over Socket.IO: one room per group, namespace /chat."""
import jwt
from flask import request
from flask_socketio import emit, join_room, leave_room

from . import storage
from .auth import decode_token
from .db import db_session
from .extensions import socketio
from .models import ChatMessage
from .workbench_security import authenticate_socket, socket_identity

NAMESPACE = "/chat"

# sid -> user id (None for guests; the landing page shows the chat read-only)
connected_users = {}


def room_name(group_id):
    return f"group:{group_id}"


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    authenticate_socket(auth)
    token = (auth or {}).get("token") or request.args.get("token")
    user_id = None
    if token:
        try:
            user_id = int(decode_token(token)["sub"])
        except jwt.PyJWTError:
            user_id = None
    connected_users[request.sid] = user_id


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(reason=None):
    connected_users.pop(request.sid, None)


@socketio.on("join", namespace=NAMESPACE)
def on_join(data):
    room = room_name(data["group_id"])
    if socket_identity() is None or not storage.is_group_member(data["group_id"], socket_identity()):
        return {"error": "forbidden"}
    join_room(room)
    emit("joined", {"room": room, "user_id": connected_users.get(request.sid)}, to=room)


@socketio.on("leave", namespace=NAMESPACE)
def on_leave(data):
    room = room_name(data["group_id"])
    if socket_identity() is None or not storage.is_group_member(data["group_id"], socket_identity()):
        return {"error": "forbidden"}
    leave_room(room)
    emit("left", {"room": room, "user_id": connected_users.get(request.sid)}, to=room)


@socketio.on("send_message", namespace=NAMESPACE)
def on_send_message(data):
    room = room_name(data["group_id"])
    if socket_identity() is None or not storage.is_group_member(data["group_id"], socket_identity()):
        return {"error": "forbidden"}
    message = ChatMessage(room=room, user_id=connected_users.get(request.sid), text=data["text"])
    db_session.add(message)
    db_session.commit()
    emit("new_message", message.to_dict(), to=room)


@socketio.on("history", namespace=NAMESPACE)
def on_history(data):
    user_id = connected_users.get(request.sid)
    if user_id is None:
        return {"error": "login required"}
    try:
        group_id = int(data.get("group_id"))
    except (TypeError, ValueError, AttributeError):
        return {"error": "group_id must be an integer"}
    if not storage.is_group_member(group_id, user_id):
        return {"error": "not a member of this group"}
    rows = (
        db_session.query(ChatMessage)
        .filter(ChatMessage.room == room_name(group_id))
        .order_by(ChatMessage.id.desc())
        .limit(50)
        .all()
    )
    return {"room": room_name(group_id), "messages": [m.to_dict() for m in reversed(rows)]}
