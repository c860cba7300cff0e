"""The main user journeys of the community backend, as plain functions of
``(aut, auth)``: an :class:`app_harness.AppUnderTest` and an auth strategy.

They only send what a well-behaved client sends (strong passwords, complete and
well-typed bodies, a valid token on every call) and check status codes and the
JSON shape of successful responses, so they must pass unchanged against the
legacy app and against the migrated app.
"""
from __future__ import annotations

import base64
import io
import itertools

from app_harness import LUCIA, STRONG_PASSWORD, TOMAS, User

# A 1x1 transparent PNG.
PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

_names = itertools.count(1)


def _json(resp, status):
    assert resp.status_code == status, f"{resp.status_code} (wanted {status}): {resp.get_data(as_text=True)[:500]}"
    return resp.get_json()


def _has_keys(data: dict, *keys):
    missing = [k for k in keys if k not in data]
    assert not missing, f"missing keys {missing} in {data}"


# --- steps ---------------------------------------------------------------------


def sign_up(aut, username=None) -> User:
    username = username or f"milonguero{next(_names)}"
    body = {"username": username, "email": f"{username}@example.org", "password": STRONG_PASSWORD, "display_name": username.title()}
    data = _json(aut.client.post("/api/auth/register", json=body), 201)
    _has_keys(data, "id", "username", "display_name")
    assert data["username"] == username
    return User(data["id"], username, STRONG_PASSWORD)


def log_in(aut, user: User) -> str:
    data = _json(aut.client.post("/api/auth/login", json={"username": user.username, "password": user.password}), 200)
    _has_keys(data, "token", "user")
    assert data["user"]["id"] == user.id
    return data["token"]


def create_post(aut, headers, content):
    data = _json(aut.client.post("/api/posts/", json={"content": content, "visibility": "public"}, headers=headers), 201)
    _has_keys(data, "id", "author", "content", "likes", "created_at")
    assert data["content"] == content
    return data


def comment(aut, headers, post_id, body):
    data = _json(aut.client.post(f"/api/posts/{post_id}/comments", json={"body": body}, headers=headers), 201)
    _has_keys(data, "id", "post_id", "author", "body")
    assert data["post_id"] == post_id and data["body"] == body
    return data


def find_group(aut, headers, name):
    groups = _json(aut.client.get("/api/groups/", headers=headers), 200)
    assert isinstance(groups, list) and groups
    return next(grp for grp in groups if grp["name"] == name)


def join_group(aut, headers, group_id):
    data = _json(aut.client.post(f"/api/groups/{group_id}/join", headers=headers), 200)
    assert data == {"group_id": group_id, "joined": True}


# --- journeys ------------------------------------------------------------------


def journey_sign_up_and_log_in(aut, auth):
    user = sign_up(aut)
    token = log_in(aut, user)
    me = _json(aut.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}), 200)
    assert me["username"] == user.username and me["email"] == f"{user.username}@example.org"
    # the strategy under test authenticates the same user
    me = _json(aut.client.get("/api/auth/me", headers=auth.headers(aut, user)), 200)
    assert me["id"] == user.id
    # a wrong password is refused
    resp = aut.client.post("/api/auth/login", json={"username": user.username, "password": "Wrong-Password-123"})
    assert resp.status_code == 401


def journey_post_and_comment(aut, auth):
    author = sign_up(aut)
    author_headers = auth.headers(aut, author)
    post = create_post(aut, author_headers, "Milonga at the harbour tonight, who's coming?")
    assert post["author"]["username"] == author.username

    feed = _json(aut.client.get("/api/posts/?limit=10", headers=author_headers), 200)
    assert post["id"] in [p["id"] for p in feed]
    fetched = _json(aut.client.get(f"/api/posts/{post['id']}", headers=author_headers), 200)
    assert fetched["content"] == post["content"]

    reader_headers = auth.headers(aut, TOMAS)
    added = comment(aut, reader_headers, post["id"], "Count me in!")
    assert added["author"]["username"] == TOMAS.username
    comments = _json(aut.client.get(f"/api/posts/{post['id']}/comments", headers=author_headers), 200)
    assert [c["body"] for c in comments] == ["Count me in!"]


def journey_join_group(aut, auth):
    user = sign_up(aut)
    headers = auth.headers(aut, user)
    group = find_group(aut, headers, "Berlin Tango Nights")
    before = _json(aut.client.get(f"/api/groups/{group['id']}", headers=headers), 200)
    assert before["is_member"] is False
    join_group(aut, headers, group["id"])
    after = _json(aut.client.get(f"/api/groups/{group['id']}", headers=headers), 200)
    assert after["is_member"] is True and after["members"] == before["members"] + 1
    members = _json(aut.client.get(f"/api/groups/{group['id']}/members", headers=headers), 200)
    assert user.username in [m["username"] for m in members]


def journey_send_message(aut, auth):
    sender = sign_up(aut)
    data = _json(
        aut.client.post("/api/messages/", json={"recipient_id": LUCIA.id, "body": "See you at the practica?"}, headers=auth.headers(aut, sender)),
        201,
    )
    _has_keys(data, "id", "sender_id", "recipient_id", "body", "created_at")
    assert (data["sender_id"], data["recipient_id"]) == (sender.id, LUCIA.id)

    lucia_headers = auth.headers(aut, LUCIA)
    inbox = _json(aut.client.get("/api/messages/", headers=lucia_headers), 200)
    assert inbox[0]["id"] == data["id"] and inbox[0]["sender"] == sender.username
    thread = _json(aut.client.get(f"/api/messages/thread/{sender.id}", headers=lucia_headers), 200)
    assert [m["body"] for m in thread] == ["See you at the practica?"]


def journey_search(aut, auth):
    user = sign_up(aut, "quebrada.fan")
    headers = auth.headers(aut, user)
    create_post(aut, headers, "Workshop on quebradas and volcadas next Saturday")
    posts = _json(aut.client.get("/api/search/posts?q=volcadas", headers=headers), 200)
    assert [p["author"]["username"] for p in posts] == [user.username]
    users = _json(aut.client.get("/api/search/users?q=quebrada", headers=headers), 200)
    assert [u["username"] for u in users] == [user.username]
    _has_keys(users[0], "id", "username", "display_name")


def journey_upload_image(aut, auth):
    user = sign_up(aut)
    headers = auth.headers(aut, user)
    for path in ("/api/uploads/image", "/api/uploads/"):
        resp = aut.client.post(
            path,
            data={"file": (io.BytesIO(PNG_BYTES), "pixel.png", "image/png")},
            headers=headers,
            content_type="multipart/form-data",
        )
        data = _json(resp, 201)
        _has_keys(data, "id", "filename", "url", "content_type", "size")
        assert data["filename"].endswith(".png") and data["content_type"] == "image/png"
        download = aut.client.get(data["url"], headers=headers)
        assert download.status_code == 200 and download.data == PNG_BYTES


def journey_notifications(aut, auth):
    author = sign_up(aut)
    author_headers = auth.headers(aut, author)
    post = create_post(aut, author_headers, "My first tango shoes arrived")
    fan = sign_up(aut)
    fan_headers = auth.headers(aut, fan)
    comment(aut, fan_headers, post["id"], "Show us a picture!")
    _json(aut.client.post("/api/messages/", json={"recipient_id": author.id, "body": "Which brand?"}, headers=fan_headers), 201)
    _json(aut.client.post(f"/api/users/{author.id}/follow", headers=fan_headers), 200)

    notes = _json(aut.client.get("/api/notifications/", headers=author_headers), 200)
    assert sorted(n["kind"] for n in notes) == ["comment", "follow", "message"]
    for note in notes:
        _has_keys(note, "id", "kind", "text", "read", "created_at")
    assert _json(aut.client.get("/api/notifications/unread-count", headers=author_headers), 200) == {"unread": 3}
    first = _json(aut.client.post(f"/api/notifications/{notes[0]['id']}/read", headers=author_headers), 200)
    assert first["read"] is True
    assert _json(aut.client.post("/api/notifications/read-all", headers=author_headers), 200) == {"updated": 2}
    assert _json(aut.client.get("/api/notifications/unread-count", headers=author_headers), 200) == {"unread": 0}


def journey_chat_room(aut, auth):
    """Two members of a group join its chat room; a message reaches both and the history."""
    newcomer = sign_up(aut)
    newcomer_headers = auth.headers(aut, newcomer)
    group = find_group(aut, newcomer_headers, "Buenos Aires Milongueros")  # LUCIA owns it
    join_group(aut, newcomer_headers, group["id"])

    lucia = aut.socket_client(auth, auth.token(aut, LUCIA))
    guest = aut.socket_client(auth, auth.token(aut, newcomer))
    ns = aut.spec.namespace
    try:
        assert lucia.is_connected(ns) and guest.is_connected(ns)
        lucia.emit("join", {"group_id": group["id"]}, namespace=ns)
        guest.emit("join", {"group_id": group["id"]}, namespace=ns)
        lucia.get_received(ns)
        guest.get_received(ns)

        lucia.emit("send_message", {"group_id": group["id"], "text": "Bienvenidos!"}, namespace=ns)
        for client in (lucia, guest):
            received = [e for e in client.get_received(ns) if e["name"] == "new_message"]
            assert len(received) == 1, received
            message = received[0]["args"][0]
            _has_keys(message, "id", "room", "user_id", "text", "created_at")
            assert (message["text"], message["user_id"]) == ("Bienvenidos!", LUCIA.id)

        history = guest.emit("history", {"group_id": group["id"]}, namespace=ns, callback=True)
        assert [m["text"] for m in history["messages"]] == ["Bienvenidos!"]

        guest.emit("leave", {"group_id": group["id"]}, namespace=ns)
        lucia.get_received(ns)
        lucia.emit("send_message", {"group_id": group["id"], "text": "Chau"}, namespace=ns)
        assert [e for e in guest.get_received(ns) if e["name"] == "new_message"] == []
    finally:
        lucia.disconnect(ns)
        guest.disconnect(ns)


JOURNEYS = {
    "sign_up_and_log_in": journey_sign_up_and_log_in,
    "post_and_comment": journey_post_and_comment,
    "join_group": journey_join_group,
    "send_message": journey_send_message,
    "search": journey_search,
    "upload_image": journey_upload_image,
    "notifications": journey_notifications,
    "chat_room": journey_chat_room,
}
