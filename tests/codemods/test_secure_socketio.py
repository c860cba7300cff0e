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
