"""SecureSocketioCommand: Socket.IO connections authenticate; room access is checked."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted, keyword, string_value

_ROOM_CALLS = {"join_room", "leave_room", "close_room", "emit", "send"}
# The app's own membership predicate: storage.is_group_member(group_id, user_id), can_join(...), ...
_MEMBERSHIP = re.compile(r"(?i)(^|_)(is|has|check)_?\w*member|member(ship)?_?of|can_(join|access|view|read|enter)|"
                         r"may_(join|access|enter|read)|belongs_to|(^|_)in_(room|group|channel|team)")
_USER_ARG = re.compile(r"(?i)^(\w+_)?(user_?id|uid|user|member_?id|account_?id)$|^socket_identity$|^current_user_id$")


@dataclass(frozen=True)
class MembershipCheck:
    """How the module already checks membership: ``callee(args...)`` with the room's key
    (read from the event payload under ``payload_key``) at ``key_index`` and the user at ``user_index``."""

    callee: str
    arity: int
    key_index: int
    user_index: int
    payload_key: str

    def call(self, key: cst.BaseExpression) -> str:
        args = ["socket_identity()"] * self.arity
        args[self.key_index] = cst.Module(body=[]).code_for_node(key)
        return f"{self.callee}({', '.join(args)})"


def _payload_key(node: cst.CSTNode) -> str | None:
    """``"group_id"`` for ``data["group_id"]`` / ``data.get("group_id")`` inside ``node``."""
    for sub in findall(node, m.Subscript() | m.Call(func=m.Attribute(attr=m.Name("get")))):
        if isinstance(sub, cst.Subscript) and isinstance(sub.slice[0].slice, cst.Index):
            key = string_value(sub.slice[0].slice.value)
        elif isinstance(sub, cst.Call) and sub.args:
            key = string_value(sub.args[0].value)
        else:
            key = None
        if key:
            return key
    return None


def _membership_checks(module: cst.Module) -> list[MembershipCheck]:
    """``if not P(key, user): return ...`` in a function of the module, where ``key`` is read
    from the event payload: the app's own membership rule, reused for room access."""
    found = []
    for func in findall(module, m.FunctionDef()):
        assigned = {}
        for assign in findall(func.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            assigned[assign.targets[0].target.value] = assign.value
        for if_ in findall(func.body, m.If(test=m.UnaryOperation(operator=m.Not(), expression=m.Call()))):
            call = if_.test.expression
            callee = dotted(call.func)
            if not callee or not _MEMBERSHIP.search(callee.rsplit(".", 1)[-1]) or not findall(if_.body, m.Return()):
                continue
            args = [a.value for a in call.args]
            if len(args) < 2 or any(a.keyword is not None or a.star for a in call.args):
                continue
            users = [i for i, a in enumerate(args) if _USER_ARG.match(dotted(a) or "")]
            keys = [(i, _payload_key(assigned.get(a.value, a) if isinstance(a, cst.Name) else a))
                    for i, a in enumerate(args) if i not in users]
            keys = [(i, k) for i, k in keys if k]
            if len(users) == 1 and len(keys) == 1 and len(args) == 2:
                found.append(MembershipCheck(callee, len(args), keys[0][0], users[0], keys[0][1]))
    return found


def socket_event(func: cst.FunctionDef) -> tuple[str, cst.Decorator] | None:
    """(event, decorator) when ``func`` is a Socket.IO handler (``@socketio.on("event")``)."""
    for decorator in func.decorators:
        call = decorator.decorator
        if isinstance(call, cst.Call) and m.matches(call.func, m.Attribute(attr=m.Name("on") | m.Name("on_event"))) \
                and call.args and string_value(call.args[0].value):
            return string_value(call.args[0].value), decorator
    return None


def _room_argument(call: cst.Call) -> cst.BaseExpression | None:
    name = dotted(call.func).rsplit(".", 1)[-1]
    if name not in _ROOM_CALLS:
        return None
    if name in ("join_room", "leave_room", "close_room"):
        positional = [a.value for a in call.args if a.keyword is None]
        return positional[0] if positional else keyword(call, "room")
    return keyword(call, "to") or keyword(call, "room")


def _first_room_use(stmt: cst.CSTNode) -> cst.BaseExpression | None:
    for call in findall(stmt, m.Call()):
        room = _room_argument(call)
        if room is not None:
            return room
    return None


def _after_docstring(body: list[cst.BaseStatement]) -> int:
    return 1 if body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString())])) else 0


class SecureSocketioCommand(MigrationCommand):
    """The ``connect`` handler authenticates first (``authenticate_socket(auth)``: the
    bearer JWT from ``auth={"token": ...}`` or the ``token`` query parameter; the
    connection is refused without a valid one), and a handler that joins, leaves or
    writes to a room first checks ``room_allowed(room)`` (the app's membership rule,
    installed with ``set_room_membership_check``; MIGRATION.json says when it still has
    to be wired). A module with event handlers but no ``connect`` handler gets one."""

    DESCRIPTION = "Authenticate Socket.IO connections and check room membership before room access."
    NAME = "secure-socketio"
    ORDER = 85
    FIXES = (Category.WS_UNAUTHORIZED,)
    APPLIES_TO = r"\.on\(|\.on_event\(|Namespace"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._connect_namespaces: set[str | None] = set()
        self._handler_decorators: dict[str | None, cst.Decorator] = {}
        self._checked_rooms = False
        self._reused: set[str] = set()  # the app's membership checks reused for rooms
        self._membership: list[MembershipCheck] = []
        self._registered: dict[str, cst.Call] = {}
        self._namespace_methods: set[int] = set()

    def visit_Module(self, node: cst.Module) -> None:
        self._membership = _membership_checks(node)
        # socketio.on_event("message", on_message): handlers registered by call
        self._registered = {dotted(call.args[1].value): call for call in findall(node, m.Call(
            func=m.Attribute(attr=m.Name("on_event")))) if len(call.args) >= 2}
        # class Chat(Namespace): def on_join(self, data) ...
        self._namespace_methods = {id(f) for cls in node.body if isinstance(cls, cst.ClassDef)
                                   and any(dotted(b.value).endswith("Namespace") for b in cls.bases)
                                   for f in cls.body.body if isinstance(f, cst.FunctionDef) and f.name.value.startswith("on_")}

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        found = socket_event(updated_node)
        if not found:
            name = updated_node.name.value
            if id(original_node) in self._namespace_methods:
                if name == "on_connect":
                    return self._authenticate(updated_node, skip_self=True)
                return self._check_room(updated_node)
            if name in self._registered:
                call = self._registered[name]
                event = string_value(call.args[0].value)
                if event == "connect":
                    return self._authenticate(updated_node)
                namespace = string_value(keyword(call, "namespace"))
                self._handler_decorators.setdefault(namespace, cst.Decorator(decorator=cst.Call(
                    func=cst.Attribute(value=call.func.value, attr=cst.Name("on")), args=[call.args[0]])))
                return self._check_room(updated_node)
            return updated_node
        event, decorator = found
        namespace = string_value(keyword(decorator.decorator, "namespace"))
        if event == "connect":
            self._connect_namespaces.add(namespace)
            return self._authenticate(updated_node)
        self._handler_decorators.setdefault(namespace, decorator)
        return self._check_room(updated_node)

    def _authenticate(self, func: cst.FunctionDef, skip_self: bool = False) -> cst.FunctionDef:
        if findall(func.body, m.Call(func=m.Name("authenticate_socket"))):
            return func
        params = func.params.params[1:] if skip_self else func.params.params
        if params:
            auth = params[0].name.value
        else:
            auth = "auth"
            func = func.with_changes(params=func.params.with_changes(
                params=[*func.params.params[:1 if skip_self else 0], cst.Param(name=cst.Name("auth"), default=cst.Name("None"),
                                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                        whitespace_after=cst.SimpleWhitespace("")))]))
        body = list(func.body.body)
        body.insert(_after_docstring(body), cst.parse_statement(f"authenticate_socket({auth})"))
        self.import_security("authenticate_socket")
        return func.with_changes(body=func.body.with_changes(body=body))

    def _room_check(self, room: cst.BaseExpression, definition: cst.CSTNode | None) -> str:
        """The test that refuses the room: the app's own membership check when the room is
        built from the payload key that check uses, else the security module's hook."""
        where = definition if definition is not None else room
        key = _payload_key(where)
        for check in self._membership:
            if key == check.payload_key:
                source = next(s for s in findall(where, m.Subscript() | m.Call(func=m.Attribute(attr=m.Name("get"))))
                              if _payload_key(s) == key)
                self._reused.add(check.callee)
                return f"not {check.call(source)}"
        self._checked_rooms = True
        self.import_security("room_allowed")
        return f"not room_allowed({cst.Module(body=[]).code_for_node(room)})"

    def _already_checked(self, func: cst.FunctionDef) -> bool:
        callees = {dotted(c.func) for c in findall(func.body, m.Call())}
        return "room_allowed" in callees or any(c.callee in callees for c in self._membership)

    def _check_room(self, func: cst.FunctionDef) -> cst.FunctionDef:
        if self._already_checked(func):
            return func
        body = list(func.body.body)
        for index, stmt in enumerate(body):
            room = _first_room_use(stmt)
            if room is None:
                continue
            definition = None
            if isinstance(room, cst.Name):  # check as soon as the room is known, before any write
                assigned = [i for i, s in enumerate(body[:index]) if m.matches(
                    s, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(room.value))])]))]
                if assigned:
                    index = assigned[-1] + 1
                    definition = body[assigned[-1]].body[0].value
            test = self._room_check(room, definition)
            body.insert(index, cst.parse_statement(
                f'if socket_identity() is None or {test}:\n    return {{"error": "forbidden"}}\n'))
            self.import_security("socket_identity")
            return func.with_changes(body=func.body.with_changes(body=body))
        # reads a room's data (get_messages(data["room"])) without joining it
        for subscript in findall(func.body, m.Subscript()):
            key = subscript.slice[0].slice.value if isinstance(subscript.slice[0].slice, cst.Index) else None
            if string_value(key) in ("room", "room_id", "channel"):
                test = self._room_check(subscript, None)
                body.insert(_after_docstring(body), cst.parse_statement(
                    f'if socket_identity() is None or {test}:\n    return {{"error": "forbidden"}}\n'))
                self.import_security("socket_identity")
                return func.with_changes(body=func.body.with_changes(body=body))
        return func

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        for namespace, decorator in sorted(self._handler_decorators.items(), key=lambda kv: str(kv[0])):
            if namespace in self._connect_namespaces:
                continue
            receiver = cst.Module(body=[]).code_for_node(decorator.decorator.func.value)
            ns = f", namespace={namespace!r}".replace("'", '"') if namespace else ""
            handler = cst.parse_statement(
                f'@{receiver}.on("connect"{ns})\ndef authenticate_connection(auth=None):\n'
                f'    """Refuse Socket.IO connections without a valid bearer token."""\n'
                f"    authenticate_socket(auth)\n")
            body.append(handler.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
            self.import_security("authenticate_socket")
        for callee in sorted(self._reused):
            self.note(f"room access is checked with the app's own {callee}() (found in this module)")
        if self._checked_rooms:
            self.note("needs a human: rooms are refused (except a user's own user:<id> room) until the app's "
                      "membership rule is installed: call set_room_membership_check(lambda user_id, room: ...) "
                      "from workbench_security where the app is built (or set SOCKETIO_OPEN_ROOMS = True to let "
                      "any authenticated user in)")
        return updated_node.with_changes(body=body)
