"""WB120 ws-unauthorized: a websocket / Socket.IO handler using rooms without identity and membership checks."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import FunctionNode, keyword, last_name, mentions, names_in, nodes_of, own_nodes, str_value

# Who is calling, established by the server (not read from the event payload).
IDENTITY = re.compile(r"current_user|get_jwt_identity|verify_jwt|jwt_required|decode_token|verify_token|jwt_decode|"
                      r"^decode$|authenticat|get_current_user|user_for_sid|user_from_|identity|login_required|"
                      r"token_required|auth_required|require_auth|^session$|^sid_to_user|users_by_sid", re.I)
# Whether that user may use that room.
MEMBERSHIP = re.compile(r"member|participant|can_(join|access|read|view|post|send|enter|see)|^(is_)?in_room|"
                        r"has_access|allowed|authori[sz]|permission|belongs|may_|check_access|ensure_access", re.I)
ROOM_CALLS = frozenset({"join_room", "enter_room", "close_room", "rooms"})
ROOM_WORDS = re.compile(r"room|channel|conversation|chat|group|thread", re.I)
_NAMESPACE_BASES = re.compile(r"(^|\.)(Async)?Namespace$")


class WsUnauthorized(Rule):
    """Flags websocket and Socket.IO handlers that use rooms without an identity and a membership check.

    ## What it does
    Looks at Socket.IO event handlers (`@socketio.on(...)`, `@sio.event`,
    `socketio.on_event(...)`, `Namespace` `on_*` methods) that join a room, emit or send
    to a room, broadcast, or read room data, and at FastAPI/Starlette websocket routes. A
    handler is flagged on its `def` line when it has no server-side identity (a login
    decorator, `current_user`, a token verified here or at connect time and looked up by
    `request.sid`, the session), or, when it deals with rooms, no check that this user
    belongs to the room. An identity taken from the event payload (`data["user_id"]`)
    is not an identity.

    ## Why is this bad?
    Anyone who can open a socket can join any room, read its history and post into it
    under any name.

    ## Example
    ```python
    @socketio.on("join")
    def on_join(data):
        join_room(data["room"])
        emit("history", load_messages(data["room"]), to=data["room"])
    ```

    ## Use instead
    ```python
    @socketio.on("join")
    def on_join(data):
        user = user_for_sid(request.sid)  # set by the connect handler from a verified token
        if user is None or not is_member(user, data["room"]):
            return
        join_room(data["room"])
    ```
    """

    id = "WB120"
    name = "ws-unauthorized"
    category = Category.WS_UNAUTHORIZED
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 862
    fixed_by = "secure_socketio"

    VALID = (
        Example(
            "from flask import request\n"
            "from flask_socketio import SocketIO, join_room, emit\n"
            "socketio = SocketIO()\n"
            "USERS = {}\n"
            "\n"
            "@socketio.on('join')\n"
            "def on_join(data):\n"
            "    user = USERS.get(request.sid)\n"
            "    if user is None or not is_member(user, data['room']):\n"
            "        return False\n"
            "    join_room(data['room'])\n"
            "    emit('joined', {'user': user}, to=data['room'])\n"
        ),
        Example(
            "from fastapi import FastAPI, WebSocket, Depends\n"
            "app = FastAPI()\n"
            "\n"
            "@app.websocket('/ws/rooms/{room_id}')\n"
            "async def room_ws(websocket: WebSocket, room_id: int, user=Depends(get_current_user)):\n"
            "    if not await can_access_room(user, room_id):\n"
            "        await websocket.close(code=1008)\n"
            "        return\n"
            "    await websocket.accept()\n"
        ),
    )
    INVALID = (
        Example(
            "from flask_socketio import SocketIO, join_room, emit, Namespace\n"
            "socketio = SocketIO()\n"
            "\n"
            "@socketio.on('join')\n"
            "def on_join(data):\n"
            "    join_room(data['room'])\n"
            "    emit('joined', {'user': data['username']}, to=data['room'])\n"
            "\n"
            "def on_message(data):\n"
            "    emit('message', data, room=data['room'])\n"
            "socketio.on_event('message', on_message)\n"
            "\n"
            "class Chat(Namespace):\n"
            "    def on_history(self, data):\n"
            "        emit('history', get_messages(data['room']))\n",
            lines=(5, 9, 14),
        ),
        Example(
            "from fastapi import APIRouter, WebSocket\n"
            "router = APIRouter()\n"
            "\n"
            "@router.websocket('/ws/chat/{room}')\n"
            "async def chat(websocket: WebSocket, room: str):\n"
            "    await websocket.accept()\n"
            "    while True:\n"
            "        await manager.broadcast(room, await websocket.receive_text())\n",
            lines=(5,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "websocket" contains "socket")
        if not mentions(ctx, "socket", "Namespace", "sio", ".on(", "on_event", "WebSocket"):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        for fn, kind in _handlers(ctx):
            problem = _problem(fn, kind)
            if problem:
                yield self.finding(ctx, fn.lineno, f"{fn.name}: {problem}")


def _handlers(ctx: RuleContext) -> Iterable[tuple[FunctionNode, str]]:
    tree = ctx.tree
    registered: set[str] = set()
    for node in ctx.calls_named(("on_event", "on")):
        # socketio.on_event("message", on_message) / sio.on("message", handler=on_message) / sio.on("x", h)
        name = last_name(node.func)
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Name):
            registered.add(node.args[1].id)
        if name == "on" and isinstance(keyword(node, "handler"), ast.Name):
            registered.add(keyword(node, "handler").id)
    for node in nodes_of(tree, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef):
        if isinstance(node, ast.ClassDef) and any(_NAMESPACE_BASES.search(ast.unparse(b)) for b in node.bases):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("on_"):
                    yield item, "socketio"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kinds = [_decorator_kind(d) for d in node.decorator_list]
            if "websocket" in kinds:
                yield node, "websocket"
            elif "socketio" in kinds or node.name in registered:
                yield node, "socketio"


def _decorator_kind(dec: ast.expr) -> str:
    func = dec.func if isinstance(dec, ast.Call) else dec
    name = last_name(func)
    if name in ("websocket", "websocket_route") and isinstance(dec, ast.Call):
        return "websocket"
    if name == "on" and isinstance(dec, ast.Call) and dec.args and str_value(dec.args[0]) is not None:
        return "socketio"
    if name == "event" and isinstance(func, ast.Attribute) and re.search(r"sio|socket", ast.unparse(func.value), re.I):
        return "socketio"
    return ""


def _problem(fn: FunctionNode, kind: str) -> str | None:
    nodes = list(own_nodes(fn))
    names = set()
    for n in nodes:
        names |= {x for x in names_in(n)}
        if isinstance(n, ast.Call):
            names.add(last_name(n.func))
    decorators = {last_name(d.func if isinstance(d, ast.Call) else d) for d in fn.decorator_list}
    defaults = [d for d in fn.args.defaults + [k for k in fn.args.kw_defaults if k is not None]]
    dep_names = {n for d in defaults for n in names_in(d)}
    identity = any(IDENTITY.search(n) for n in names | decorators | dep_names) or _sid_lookup(nodes)
    membership = any(MEMBERSHIP.search(n) for n in (names | dep_names) - ROOM_CALLS - {"leave_room"}) or \
        _membership_compare(nodes)
    if kind == "websocket":
        params = {a.arg for a in fn.args.args}
        rooms = any(ROOM_WORDS.search(p) for p in params) or any(ROOM_WORDS.search(n) for n in names)
        if not identity:
            return "websocket accepted without an authenticated identity"
        if rooms and not membership:
            return "websocket room used without a membership check"
        return None
    if not _uses_rooms(nodes):
        return None
    if not identity:
        return "room joined or broadcast to without an authenticated identity"
    if not membership:
        return "room joined or broadcast to without a membership check"
    return None


def _uses_rooms(nodes: list[ast.AST]) -> bool:
    for n in nodes:
        if not isinstance(n, ast.Call):
            continue
        name = last_name(n.func)
        if name in ROOM_CALLS:
            return True
        if name in ("emit", "send") and any(k.arg in ("to", "room", "broadcast") for k in n.keywords):
            return True
        if re.search(r"(get|load|fetch|list|read)_?\w*(message|history|member)", name, re.I):
            return True
    return False


def _sid_lookup(nodes: list[ast.AST]) -> bool:
    """``USERS[request.sid]`` / ``sessions.get(request.sid)``: the identity the connect handler stored."""
    for n in nodes:
        if isinstance(n, ast.Subscript) and ast.unparse(n.slice).endswith(".sid"):
            return True
        if isinstance(n, ast.Call) and last_name(n.func) in ("get", "pop") and n.args and ast.unparse(
                n.args[0]).endswith(".sid"):
            return True
    return False


def _membership_compare(nodes: list[ast.AST]) -> bool:
    """``room in user.rooms`` / ``user.id not in room.members``."""
    for n in nodes:
        if isinstance(n, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in n.ops):
            right = names_in(n.comparators[-1])
            if any(ROOM_WORDS.search(x) or re.search(r"member|participant|users", x, re.I) for x in right):
                return True
    return False
