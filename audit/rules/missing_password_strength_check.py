"""WB503 missing-password-strength-check: a password set from a request without a strength check."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._passwords import has_strength_check, is_password_name, hashed, is_hash_call, password_names, sql_password_write
from ._request_data import RequestData
from ._syntax import functions, is_handler, last_name, mentions, nodes, nodes_of, own_nodes, str_value

# Calls that set a password through another layer (nothing stored in the handler itself).
SET_CALL = re.compile(r"(create|register|add|invite|new|insert|save)_?(user|account|member)|"
                      r"(set|update|change|reset|store|save)_?password", re.I)
STORE_TARGET = re.compile(r"pass(word)?|passwd|pwd", re.I)
VERIFY_FUNCTION = re.compile(r"check|verify|authenticate|login|log_in|sign_in|signin|compare|matches", re.I)
VALIDATING_CALL = re.compile(r"model_validate|parse_obj|parse_raw|validate|load|deserialize", re.I)


class MissingPasswordStrengthCheck(Rule):
    """Flags a password taken from a request and set without a strength check.

    ## What it does
    In functions that read a password from request data (registration, password change
    or reset, invitations), finds where the password is hashed or stored and checks that
    the function tests its strength first: `len(password) < N`, a strength/policy helper
    (`validate_password`, `zxcvbn`...), a regex test, or a schema whose password field
    carries a rule (`Field(min_length=12)`, `constr(min_length=...)`, a field validator;
    schemas of other modules are known through `ProjectFacts.password_rule_models`).
    Without one, the finding is on the line that hashes or stores the password, or on the
    function's `def` line when it only hands the password to another layer
    (`create_user(...)`). Login handlers, which only compare passwords, are not flagged.

    ## Why is this bad?
    Users pick `123456`; credential-stuffing and guessing attacks succeed in minutes.

    ## Example
    ```python
    data = request.get_json()
    user.password_hash = generate_password_hash(data["new_password"])
    ```

    ## Use instead
    ```python
    new = data["new_password"]
    if len(new) < 12 or new.isalpha() or new.isdigit():
        return jsonify(error="password too weak"), 400
    user.password_hash = generate_password_hash(new)
    ```
    """

    id = "WB503"
    name = "missing-password-strength-check"
    category = Category.WEAK_PASSWORD
    severity = Severity.MEDIUM
    confidence = Severity.MEDIUM
    cwe = 521
    fixed_by = "harden_passwords"

    VALID = (
        Example(
            "from flask import Flask, request, jsonify\n"
            "from werkzeug.security import generate_password_hash, check_password_hash\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/auth/register', methods=['POST'])\n"
            "def register():\n"
            "    password = request.json.get('password', '')\n"
            "    if len(password) < 12:\n"
            "        return jsonify(error='too short'), 400\n"
            "    return {'hash': generate_password_hash(password)}\n"
            "@app.route('/api/auth/login', methods=['POST'])\n"
            "def login():\n"
            "    data = request.get_json()\n"
            "    return {'ok': check_password_hash(lookup(data['email']), data['password'])}\n"
        ),
        Example(
            "from fastapi import FastAPI, Depends\n"
            "from pydantic import BaseModel, Field\n"
            "app = FastAPI()\n"
            "class SignUp(BaseModel):\n"
            "    email: str\n"
            "    password: str = Field(min_length=12)\n"
            "@app.post('/signup')\n"
            "def signup(body: SignUp):\n"
            "    return create_user(body.email, hash_password(body.password))\n"
        ),
    )
    INVALID = (
        Example(
            "from flask import Flask, request, g\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/auth/change-password', methods=['POST'])\n"
            "def change_password():\n"
            "    data = request.get_json() or {}\n"
            "    if not data.get('new_password'):\n"
            "        return {'error': 'required'}, 400\n"
            "    g.user.password_hash = hash_password(data['new_password'])\n"
            "    return {}\n"
            "@app.route('/api/auth/register', methods=['POST'])\n"
            "def register():\n"
            "    data = request.get_json()\n"
            "    storage.create_user(data['email'], data['password'])\n"
            "    return {}, 201\n",
            lines=(8, 11),
        ),
        Example(
            "from fastapi import FastAPI\n"
            "from pydantic import BaseModel\n"
            "app = FastAPI()\n"
            "class SignUp(BaseModel):\n"
            "    email: str\n"
            "    password: str\n"
            "@app.post('/signup')\n"
            "def signup(body: SignUp, user: User = Depends(current_user)):\n"
            "    hashed = hash_password(body.password)\n"
            "    return save_user(body.email, hashed)\n",
            lines=(9,),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        # (words another one contains are left out: "pwd" contains "pw")
        if not mentions(ctx, "pass", "pw", lower=True):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        checked_models = models_with_password_rules(ctx.tree) | ctx.project.password_rule_models
        for fn in functions(ctx.tree):
            if VERIFY_FUNCTION.search(fn.name):
                continue  # login / check_password: compares a password, never sets one
            # Passwords handed in by a route count too (the storage layer hashes them), unless the
            # route took them from a schema whose password field has a rule.
            data = RequestData.of(ctx, fn, trusted_models=checked_models)
            if not data.tainted and not data.reads_request():
                continue
            if _validated_by_schema(fn, checked_models):
                continue
            passwords = {name for node in own_nodes(fn) if (name := _password_name(node)) and data.is_tainted(node)}
            if not passwords or has_strength_check(fn, passwords):
                continue
            line = _set_line(fn, data)
            if line is not None:
                yield self.finding(ctx, line, "password from the request set without a strength check")


def _password_name(node: ast.AST) -> str | None:
    """The password name ``node`` itself reads: ``password``, ``body.new_password``, ``data["pwd"]``,
    ``form.get("password")``."""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Subscript):
        name = str_value(node.slice)
    elif isinstance(node, ast.Call) and last_name(node.func) == "get" and node.args:
        name = str_value(node.args[0])
    else:
        return None
    return name if name and is_password_name(name) else None


def _from_request_password(node: ast.AST, data: RequestData) -> bool:
    return bool(password_names(node)) and data.is_tainted(node)


def _set_line(fn, data: RequestData) -> int | None:
    """The line that hashes or stores the request's password; the def line if it is only handed on; None if unset."""
    handed_on = False
    compared = {id(sub) for node in own_nodes(fn) if isinstance(node, ast.Compare) for sub in ast.walk(node)}
    for node in own_nodes(fn):
        if isinstance(node, ast.Call) and is_hash_call(node) and id(node) not in compared and any(
                _from_request_password(a, data) for a in node.args):
            return node.lineno
        if isinstance(node, ast.Assign) and any(
                STORE_TARGET.search(t.attr if isinstance(t, ast.Attribute) else str_value(getattr(t, "slice", None)) or "")
                for t in node.targets if isinstance(t, (ast.Attribute, ast.Subscript))) and _from_request_password(
                node.value, data) and not hashed(node.value):
            return node.lineno
        if isinstance(node, ast.Call) and (values := sql_password_write(node)) is not None:
            if any(_from_request_password(v, data) and not hashed(v) for v in values):
                return node.lineno  # stored as sent; a hashed value is reported at its hash call
        if isinstance(node, ast.Call) and SET_CALL.search(last_name(node.func)):
            values = [*node.args, *(k.value for k in node.keywords)]
            if any(_from_request_password(v, data) for v in values):
                handed_on = True
    return fn.lineno if handed_on else None


def models_with_password_rules(tree: ast.Module) -> set[str]:
    """Classes of this file whose password field carries a length rule or a validator."""
    found = set()
    for node in nodes_of(tree, ast.ClassDef):
        text = None  # the class's source, unparsed only for a class with a password field
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and password_names(stmt.target):
                text = ast.unparse(node) if text is None else text
                if re.search(r"min_length|constr|SecretStr|Length\(", ast.unparse(stmt)) or re.search(
                        r"validator\([^)]*" + stmt.target.id, text):
                    found.add(node.name)
    return found


def _validated_by_schema(fn, checked_models: set[str]) -> bool:
    """The password comes through a schema whose password field has a rule (this file's or the project's)."""
    for arg in fn.args.args + fn.args.kwonlyargs:
        ann = ast.unparse(arg.annotation) if arg.annotation is not None else ""
        if ann and any(part in checked_models for part in re.findall(r"\w+", ann)):
            return True
    for node in own_nodes(fn):
        if isinstance(node, ast.Call) and VALIDATING_CALL.search(last_name(node.func)):
            if any(part in checked_models for part in ast.unparse(node.func).split(".")):
                return True
    return False
