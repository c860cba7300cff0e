"""WB502 plaintext-password-storage: a password stored as given, without hashing."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._passwords import hashed, password_names, sql_password_write
from ._syntax import functions, last_name, mentions, own_nodes, str_value

# Calls that persist a record given as a dict or keyword arguments.
STORE_CALL = re.compile(r"^(insert\w*|create\w*|add\w*|save\w*|update\w*|put\w*|set\w*|register\w*|"
                        r"[A-Z]\w*)$")
# Classes that carry credentials in memory (a login form, an auth object), not records that are stored.
NOT_A_STORE = re.compile(r"(Credential|Auth|Login|Form|Request|Config|Settings|Client|Session|Connection|Params|"
                         r"Payload|Schema|Input|Context|Handler|Provider|Token)s?$")
# Containers whose keys are columns of a stored record.
RECORD_CONTAINER = re.compile(r"user|account|member|profile|row|record|doc|entry|customer|person|admin", re.I)
STORE_TARGET = re.compile(r"pass(word)?|passwd|pwd", re.I)
NOT_STORE_TARGET = re.compile(r"reset|token|changed|_at$|length|policy|hint|expires|attempts|confirm", re.I)


class PlaintextPasswordStorage(Rule):
    """Flags a password written to a record or a store without hashing.

    ## What it does
    Finds a password-named value (`data["password"]`, `password`, `form.password.data`,
    `temp_password`) assigned, unhashed, to a password field (`user.password = ...`,
    `user.password_hash = data["password"]`, `row["pwd"] = ...`), passed to a model or
    store call as a password keyword (`User(password=password)`,
    `create_user(temp_password=temp_password)`), put under a password key in a dict
    given to an insert/create/save call, or bound to a password column of an SQL
    `INSERT`/`UPDATE` (`execute("INSERT INTO users (name, password) VALUES (?, ?)", ...)`).

    ## Why is this bad?
    One database leak, backup copy or curious administrator exposes every user's password,
    and users reuse passwords elsewhere.

    ## Example
    ```python
    user = User(email=data["email"], password=data["password"])
    ```

    ## Use instead
    ```python
    user = User(email=data["email"], password_hash=generate_password_hash(data["password"]))
    ```
    """

    id = "WB502"
    name = "plaintext-password-storage"
    category = Category.WEAK_PASSWORD
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 256
    fixed_by = "harden_passwords"

    VALID = (
        Example(
            "from flask import Flask, request\n"
            "from werkzeug.security import generate_password_hash, check_password_hash\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/register', methods=['POST'])\n"
            "def register():\n"
            "    data = request.get_json()\n"
            "    hashed = generate_password_hash(data['password'])\n"
            "    user = User(email=data['email'], password_hash=hashed)\n"
            "    user.password_changed_at = now()\n"
            "    ok = check_password_hash(user.password_hash, data['password'])\n"
            "    return {'ok': ok}\n"
        ),
        Example(
            "from fastapi import FastAPI\n"
            "from passlib.context import CryptContext\n"
            "pwd_context = CryptContext(schemes=['bcrypt'])\n"
            "app = FastAPI()\n"
            "@app.post('/users')\n"
            "def create(username: str, password: str):\n"
            "    return save_user(username=username, password=pwd_context.hash(password))\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/register', methods=['POST'])\n"
            "def register():\n"
            "    data = request.get_json()\n"
            "    user = User(email=data['email'], password=data['password'])\n"
            "    user.password_hash = data['password']\n"
            "    db.users.insert_one({'email': data['email'], 'pwd': data['password']})\n"
            "    return {}\n",
            lines=(6, 7, 8),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "app = FastAPI()\n"
            "@app.post('/admin/invite')\n"
            "def invite(email: str):\n"
            "    temp_password = make_temp()\n"
            "    return create_user(email=email, temp_password=temp_password)\n"
            "@app.post('/register')\n"
            "def register(username: str, password: str, db=Depends(get_db)):\n"
            "    db.execute('INSERT INTO users (username, password) VALUES (?, ?)',\n"
            "               (username, password))\n",
            lines=(6, 9),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "pwd" contains "pw")
        if not mentions(ctx, "pass", "pw", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        seen: set[int] = set()
        for fn in functions(ctx.tree):
            for line, message in _stores(fn, _HashedNames(fn)):
                if line not in seen:
                    seen.add(line)
                    yield self.finding(ctx, line, message)


class _HashedNames:
    """The names a function assigns a hashing call's result to, found when a store first asks
    (most functions store nothing: they never pay for the search)."""

    __slots__ = ("fn", "names")

    def __init__(self, fn) -> None:
        self.fn = fn
        self.names: set[str] | None = None

    def get(self) -> set[str]:
        if self.names is None:
            self.names = {t.id for n in own_nodes(self.fn) if isinstance(n, ast.Assign) and hashed(n.value)
                          for t in n.targets if isinstance(t, ast.Name)}
        return self.names


def _plain(value: ast.AST, hashed_names: _HashedNames) -> bool:
    """A password-named value, not hashed on the way."""
    names = password_names(value)
    return bool(names) and bool(names - hashed_names.get()) and not hashed(value) and not isinstance(
        value, ast.Constant)


def _store_target(name: str | None) -> bool:
    return bool(name) and bool(STORE_TARGET.search(name)) and not NOT_STORE_TARGET.search(name)


def _stores(fn, hashed_names: _HashedNames) -> Iterable[tuple[int, str]]:
    constructor = fn.name == "__init__"  # a credentials holder keeping what it is given, not a store
    for node in own_nodes(fn):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                name = t.attr if isinstance(t, ast.Attribute) else str_value(t.slice) if isinstance(
                    t, ast.Subscript) else None
                if not _store_target(name):
                    continue  # (the cheap test first: most assignments store no password)
                if constructor and isinstance(t, ast.Attribute) and ast.unparse(t.value) == "self":
                    continue
                if isinstance(t, ast.Subscript) and not RECORD_CONTAINER.search(ast.unparse(t.value)):
                    continue  # a settings or arguments dict, not a stored record
                if _plain(node.value, hashed_names):
                    yield node.lineno, f"password stored in plain text in {name}"
        if isinstance(node, ast.Call) and (values := sql_password_write(node)) is not None:
            if any(_plain(v, hashed_names) for v in values):
                yield node.lineno, "password written to the database in plain text"
        # (a store call is looked at only if it has keywords or a dict argument: what the loops below read)
        elif isinstance(node, ast.Call) and (node.keywords or any(a.__class__ is ast.Dict for a in node.args)) \
                and STORE_CALL.match(last_name(node.func)) and not hashed(node.func) \
                and not NOT_A_STORE.search(last_name(node.func)):
            for kw in node.keywords:
                if _store_target(kw.arg) and _plain(kw.value, hashed_names):
                    yield kw.value.lineno, f"password stored in plain text as {kw.arg}="
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    for k, v in zip(arg.keys, arg.values):
                        if _store_target(str_value(k)) and _plain(v, hashed_names):
                            yield v.lineno, f"password stored in plain text under {str_value(k)!r}"
