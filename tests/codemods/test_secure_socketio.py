import textwrap

from audit.codemods.secure_socketio import SecureSocketioCommand as Command


def test_connect_authenticates_and_rooms_are_checked(apply):
    out = apply(Command, '''
        @socketio.on("connect", namespace="/chat")
        def on_connect(auth=None):
            pass

        @socketio.on("send", namespace="/chat")
        def on_send(data):
            room = f"group:{data['id']}"
            save(data)
            emit("new", data, to=room)
        ''')
    assert "def on_connect(auth=None):\n    authenticate_socket(auth)\n    pass" in out
    assert "room = f\"group:{data['id']}\"\n    if socket_identity() is None or not room_allowed(room):\n        return {\"error\": \"forbidden\"}\n    save(data)" in out


def test_missing_connect_handler_is_added(apply):
    out = apply(Command, '@sio.on("join")\ndef join(data):\n    join_room(data["room"])\n')
    assert '@sio.on("connect")\ndef authenticate_connection(auth=None):' in out
    assert 'if socket_identity() is None or not room_allowed(data["room"]):' in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        @socketio.on("connect")
        def on_connect(auth=None):
            authenticate_socket(auth)

        @socketio.on("join")
        def on_join(data):
            if not room_allowed(data["room"]):
                return {"error": "forbidden"}
            join_room(data["room"])
        ''')
    assert apply(Command, source) == source


def test_namespace_methods_on_event_handlers_and_open_cors(apply):
    out = apply(Command, '''
        socketio = SocketIO(app)

        def on_message(data):
            emit("message", data, room=data["room"])
        socketio.on_event("message", on_message)

        class Chat(Namespace):
            def on_history(self, data):
                emit("history", get_messages(data["room"]))
        ''')
    assert "SocketIO(app)" in out
    assert out.count('if socket_identity() is None or not room_allowed(data["room"]):') == 2


def test_the_apps_own_membership_check_is_reused_for_rooms(apply, apply_with_notes):
    out, context = apply_with_notes(Command, '''
        @socketio.on("join", namespace="/chat")
        def on_join(data):
            room = room_name(data["group_id"])
            join_room(room)

        @socketio.on("history", namespace="/chat")
        def on_history(data):
            user_id = users.get(request.sid)
            group_id = int(data.get("group_id"))
            if not storage.is_group_member(group_id, user_id):
                return {"error": "not a member"}
            return load(group_id)
        ''')
    assert ('room = room_name(data["group_id"])\n    if socket_identity() is None or not '
            'storage.is_group_member(data["group_id"], socket_identity()):\n        return {"error": "forbidden"}\n'
            '    join_room(room)') in out
    assert "room_allowed" not in out
    assert any("storage.is_group_member()" in w for w in context.warnings)
    assert apply(Command, out) == out


def test_without_a_membership_notion_rooms_need_a_human(apply, apply_with_notes):
    out, context = apply_with_notes(Command, '@sio.on("join")\ndef join(data):\n    join_room(data["room"])\n')
    assert 'if socket_identity() is None or not room_allowed(data["room"]):' in out
    assert any(w.startswith("secure-socketio: needs a human") and "set_room_membership_check" in w
               for w in context.warnings)


def test_room_allowed_denies_by_default():
    """The security module's hook: no guessing about membership."""
    import flask

    from audit.codemods.templates import security

    app = flask.Flask(__name__)
    with app.test_request_context("/socket.io"):
        flask.request.sid = "sid-1"
        assert not security.room_allowed("group:1")  # not authenticated
        security._socket_users["sid-1"] = 7
        try:
            assert security.room_allowed("user:7") and not security.room_allowed("user:8")
            assert not security.room_allowed("group:1")  # membership unknown: refused
            app.config["SOCKETIO_OPEN_ROOMS"] = True
            assert security.room_allowed("group:1")
            app.config["SOCKETIO_OPEN_ROOMS"] = False
            security.set_room_membership_check(lambda user_id, room: room == f"group:{user_id}")
            assert security.room_allowed("group:7") and not security.room_allowed("group:1")
        finally:
            security._socket_users.pop("sid-1", None)
            security._room_check = None
