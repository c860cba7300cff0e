"""HardenPasswordsCommand: strong passwords, slow salted hashes, legacy hashes upgraded at login."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted, string_value
from .guard_outbound_urls import tainted_names

_PASSWORD = re.compile(r"(?i)(pass(word|wd)?|pwd|^pw$|^candidate$|^plain(text)?$)")
_PASSWORD_FIELD = re.compile(r"(?i)^(\w+_)?(password|passwd|pwd|password_hash|hashed_password|pw_hash|password_digest)$")
_USER_PASSWORD = re.compile(r"(?i)^(password|passwd|pwd|password_hash|hashed_password|pw_hash|password_digest)$")
_FAST_HASHES = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s"}
_HASHERS = re.compile(r"(?i)(hash|digest|encrypt)")
# Routes where a user chooses a password (a login only checks one: no policy there, or
# users with an old weak password would be locked out).
_SETS_PASSWORD = re.compile(r"(?i)regist|sign_?up|sign-up|passw|pwd|reset|users/?$|accounts?/?$")
_CHECKS_PASSWORD = re.compile(r"(?i)log_?in|sign_?in|session|token|verify|check|request/?$")
# Calls that write SQL: a plain password among their parameters is being stored.
_SQL_WRITERS = re.compile(r"^(execute|executemany|write|run|query|exec_driver_sql)$")


def _names_password(node: cst.CSTNode) -> bool:
    for found in findall(node, m.Name() | m.SimpleString()):
        text = found.value if isinstance(found, cst.Name) else (
            found.evaluated_value if isinstance(found.evaluated_value, str) else "")
        if _PASSWORD.search(text):
            return True
    return False


def _fast_hash_input(node: cst.CSTNode) -> cst.BaseExpression | None:
    """``x`` for ``hashlib.md5(x.encode(...)).hexdigest()`` (and sha1/sha256/...)."""
    if not m.matches(node, m.Call(func=m.Attribute(attr=m.Name("hexdigest") | m.Name("digest")))):
        return None
    inner = node.func.value
    if not isinstance(inner, cst.Call) or not inner.args:
        return None
    algorithm = dotted(inner.func).rsplit(".", 1)[-1]
    args = [a.value for a in inner.args if a.keyword is None]
    if algorithm == "new" and len(args) >= 2 and (string_value(args[0]) or "").lower() in _FAST_HASHES:
        data = args[1]
    elif algorithm in _FAST_HASHES:
        data = inner.args[0].value
    else:
        return None
    if m.matches(data, m.Call(func=m.Attribute(attr=m.Name("encode")))):
        return data.func.value
    return data


def _hash_call_input(node: cst.CSTNode) -> cst.BaseExpression | None:
    """The password hashed by ``node`` (a fast hash, or a call to a hashing function)."""
    fast = _fast_hash_input(node)
    if fast is not None:
        return fast
    if isinstance(node, cst.Call) and _HASHERS.search(dotted(node.func).rsplit(".", 1)[-1]) and node.args \
            and node.args[0].keyword is None:
        return node.args[0].value
    return None


def _call(name: str, *args: cst.BaseExpression) -> cst.Call:
    arguments = [cst.Arg(a, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args[:-1]]
    return cst.Call(func=cst.Name(name), args=[*arguments, cst.Arg(args[-1])])


class HardenPasswordsCommand(MigrationCommand):
    """Passwords get a slow salted hash, a strength policy when users set them, and a
    login that still accepts the old hashes (then upgrades them), so nobody is locked out:

    * ``hashlib.md5(password.encode()).hexdigest()`` (sha1, sha256...) becomes
      ``secure_password_hash(password)`` (werkzeug's scrypt);
    * ``user.password_hash == hash(given)`` becomes
      ``check_and_upgrade_password(user, "password_hash", given)`` (accepts werkzeug hashes
      and legacy plain/md5/sha1/sha256 values, and re-hashes a legacy one);
      ``stored == hash(given)`` becomes ``verify_password(stored, given)``;
    * a password from the request that is stored or hashed is wrapped in
      ``require_strong_password(...)`` (400 ``validation_error`` when shorter than 12
      characters or all one kind of character); a plain one stored as is gets hashed."""

    DESCRIPTION = "Slow salted password hashes, strength policy on set/change, legacy hashes upgraded at login."
    NAME = "harden-passwords"
    ORDER = 80
    FIXES = (Category.WEAK_PASSWORD,)
    APPLIES_TO = r"(?i)pass|pwd|\bpw\b|candidate|plain"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._tainted: list[set[str]] = []
        self._password_functions: list[bool] = []
        self._sets_password: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._tainted.append(tainted_names(node))
        self._password_functions.append(bool(_PASSWORD.search(node.name.value)))
        routes = self.routes_of(node)
        self._sets_password.append(any(r.method != "GET" and _SETS_PASSWORD.search(r.path) and not _CHECKS_PASSWORD.search(r.path)
                                       for r in routes) or (not routes and bool(self._sets_password) and self._sets_password[-1]))

    def leave_FunctionDef(self, original_node, updated_node):
        self._tainted.pop()
        self._password_functions.pop()
        self._sets_password.pop()
        return updated_node

    def _in_password_setter(self) -> bool:
        return bool(self._sets_password) and self._sets_password[-1]

    def _about_passwords(self, node: cst.CSTNode) -> bool:
        return _names_password(node) or bool(self._password_functions and self._password_functions[-1])

    def _from_request(self, node: cst.CSTNode) -> bool:
        tainted = self._tainted[-1] if self._tainted else set()
        return any(isinstance(n, cst.Name) and (n.value in tainted or n.value == "request")
                   for n in findall(node, m.Name()))

    # --- hashing ------------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        data = _fast_hash_input(updated_node)
        if data is not None and self._about_passwords(data):
            self.import_security("secure_password_hash")
            if self._in_password_setter() and self._from_request(data):
                data = self._strong(data)
            return _call("secure_password_hash", data)
        if not self._tainted:
            return updated_node
        # generate_password_hash(data["new_password"]) where the user picks a password
        hashed = _hash_call_input(updated_node)
        if hashed is not None and self._in_password_setter() and _names_password(hashed) and self._from_request(hashed) \
                and not m.matches(hashed, m.Call(func=m.Name("require_strong_password"))):
            args = list(updated_node.args)
            args[0] = args[0].with_changes(value=self._strong(hashed))
            return updated_node.with_changes(args=args)
        # conn.execute("INSERT INTO users (name, password) ...", (name, data["password"])): stored in plain text
        callee = dotted(updated_node.func).rsplit(".", 1)[-1]
        sql = string_value(updated_node.args[0].value) if updated_node.args else None
        if _SQL_WRITERS.match(callee) and sql and re.search(r"(?i)\b(insert|update)\b", sql) and _PASSWORD.search(sql) \
                and len(updated_node.args) > 1 and isinstance(updated_node.args[1].value, (cst.Tuple, cst.List)):
            params = updated_node.args[1].value
            elements = [e.with_changes(value=self._stored_plain(e.value)) for e in params.elements]
            if any(not new.deep_equals(old) for new, old in zip(elements, params.elements)):
                args = list(updated_node.args)
                args[1] = args[1].with_changes(value=params.with_changes(elements=elements))
                return updated_node.with_changes(args=args)
        # create_user(password_hash=hash(pw)) / User(password=pw): a password being stored
        callee = dotted(updated_node.func).rsplit(".", 1)[-1]
        constructor = callee[:1].isupper()
        setter = bool(re.match(r"(?i)(create|register|add|insert|set|update|change|reset)_?\w*", callee))
        args, changed = [], False
        for arg in updated_node.args:
            if arg.keyword is not None and _PASSWORD_FIELD.match(arg.keyword.value):
                value = self._stored_value(arg.value, plain_allowed=constructor,
                                           policy=bool(_USER_PASSWORD.match(arg.keyword.value)))
                if value is not None:
                    arg, changed = arg.with_changes(value=value), True
            elif arg.keyword is None and setter and _names_password(arg.value) and self._from_request(arg.value) \
                    and isinstance(arg.value, (cst.Name, cst.Subscript, cst.Attribute)):
                arg, changed = arg.with_changes(value=self._strong(arg.value)), True  # storage hashes it
            args.append(arg)
        return updated_node.with_changes(args=args) if changed else updated_node

    # --- login: comparisons against a stored hash ----------------------------------------------

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        if len(updated_node.comparisons) != 1 or not isinstance(updated_node.comparisons[0].operator, (cst.Equal, cst.NotEqual)):
            return updated_node
        left, right = updated_node.left, updated_node.comparisons[0].comparator
        for stored, other in ((left, right), (right, left)):
            given = _hash_call_input(other)
            if given is None and isinstance(stored, cst.Attribute) and _PASSWORD_FIELD.match(stored.attr.value) \
                    and _names_password(other) and not isinstance(other, cst.SimpleString):
                given = other  # user.password == data["password"]: a plain-text comparison
            if given is None or isinstance(stored, (cst.Call, cst.SimpleString)) or not (
                    _names_password(stored) or _names_password(given)):
                continue
            if isinstance(stored, cst.Attribute):
                self.import_security("check_and_upgrade_password")
                check = _call("check_and_upgrade_password", stored.value,
                              cst.SimpleString(f'"{stored.attr.value}"'), given)
            else:
                self.import_security("verify_password")
                check = _call("verify_password", stored, given)
                self.note(f"line {self.line_of(original_node)}: old hashes still verify (verify_password) but are not "
                          "re-hashed here: where the record is saved, store secure_password_hash(password) when "
                          "the result's needs_rehash is true")
            if isinstance(updated_node.comparisons[0].operator, cst.NotEqual):
                return cst.UnaryOperation(operator=cst.Not(), expression=check)
            return check
        return updated_node

    # --- set/change: the password a user chooses ---------------------------------------------------

    def _strong(self, value: cst.BaseExpression) -> cst.BaseExpression:
        if m.matches(value, m.Call(func=m.Name("require_strong_password"))):
            return value
        self.import_security("require_strong_password")
        return _call("require_strong_password", value)

    def _stored_plain(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """A request password about to be written as it is: hashed (policy where it is chosen)."""
        if isinstance(value, cst.Call) or not _names_password(value) or not self._from_request(value):
            return value
        self.import_security("secure_password_hash")
        return _call("secure_password_hash", self._strong(value) if self._in_password_setter() else value)

    def _stored_value(self, value: cst.BaseExpression, plain_allowed: bool = True,
                      policy: bool = True) -> cst.BaseExpression | None:
        """``policy``: the user's own password (a temporary or one-time one is only hashed)."""
        """The new value of a stored password with the policy (and hashing) applied, or None."""
        hashed = _hash_call_input(value)
        if hashed is not None and isinstance(value, cst.Call):
            if not policy or not self._from_request(hashed) or m.matches(hashed, m.Call(func=m.Name("require_strong_password"))):
                return None
            args = list(value.args)
            args[0] = args[0].with_changes(value=self._strong(hashed))
            return value.with_changes(args=args)
        if plain_allowed and self._from_request(value) and not isinstance(value, cst.Call):
            self.import_security("secure_password_hash")
            return _call("secure_password_hash", self._strong(value) if policy else value)
        return None

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        target = updated_node.targets[0].target
        if isinstance(target, cst.Attribute) and _PASSWORD_FIELD.match(target.attr.value):
            value = self._stored_value(updated_node.value)
            if value is not None:
                return updated_node.with_changes(value=value)
        return updated_node

    def leave_DictElement(self, original_node: cst.DictElement, updated_node: cst.DictElement) -> cst.DictElement:
        # {"email": ..., "pwd": data["password"]}: a document being stored
        key = string_value(updated_node.key) or ""
        if self._tainted and _PASSWORD_FIELD.match(key):
            value = self._stored_value(updated_node.value)
            if value is not None:
                return updated_node.with_changes(value=value)
        return updated_node
