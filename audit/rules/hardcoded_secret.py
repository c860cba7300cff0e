"""WB301 hardcoded-secret: a secret written in the code, or a literal fallback for one read from the environment."""

from __future__ import annotations

import ast
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._secret_names import URL_CREDENTIALS, is_secret_name, is_secret_value, looks_random
from ._syntax import call_qualname, import_aliases, keyword, last_name, nodes, nodes_of, str_value

# Calls that read a setting from the environment: name first, default second (or default=).
ENV_READERS = ("os.getenv", "os.environ.get", "os.environ.setdefault", "environ.get", "getenv", "decouple.config",
               "environ.setdefault")
ENV_METHODS = frozenset({"getenv", "get", "setdefault", "str", "config"})


class HardcodedSecret(Rule):
    """Flags secrets written in the code and literal fallbacks for secrets read from the environment.

    ## What it does
    Flags string literals assigned to a secret-named setting or variable (`SECRET_KEY = "..."`,
    `app.config["JWT_SECRET"] = "..."`, `app.secret_key = "..."`, pydantic settings fields,
    keyword arguments like `password="..."`, secret-named default parameters), credentials
    inside URLs (`postgres://app:pw@db/app`), comparisons of a secret with a literal, and
    literal defaults or fallbacks for secrets read from the environment
    (`os.getenv("JWT_SECRET", "dev")`, `os.environ.get("SECRET_KEY") or "changeme"`).
    Names are judged by what they hold: `token_type`, `password_min_length`,
    `SECRET_KEY_ENV_VAR` are not secrets; a `..._KEY` name (`SERVICE_KEY`) is one when read
    from the environment with a fallback or given a random-looking literal, but not
    `CACHE_KEY = "posts:all"`. Empty strings, templates (`"${SECRET}"`) and
    test files are ignored. bandit's B105/B106/B107 (hard-coded password strings) map onto
    this category when the name is secret-like by the same test; otherwise they are `other`.

    ## Why is this bad?
    Anyone with the code (or a leaked copy, or the git history) can sign tokens, read the
    database, call the paid API. A fallback value means a forgotten environment variable
    silently runs production on a key that is public.

    ## Example
    ```python
    JWT_SECRET = os.getenv("JWT_SECRET", "dev-secret")
    ```

    ## Use instead
    ```python
    JWT_SECRET = os.environ["JWT_SECRET"]  # fails at start-up when unset
    ```
    """

    id = "WB301"
    name = "hardcoded-secret"
    category = Category.HARDCODED_SECRET
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 798
    fixed_by = "require_secrets"

    VALID = (
        Example(
            "import os\n"
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
            "JWT_SECRET = os.getenv('JWT_SECRET')\n"
            "TOKEN_TYPE = 'bearer'\n"
            "PASSWORD_MIN_LENGTH = '12'\n"
            "api_key = ''\n"
            "SECRET_KEY_ENV = 'APP_SECRET_KEY'\n"
            "apiKey = 'apiKey'\n"
            "HEADERS = {}\n"
            "HEADERS['Access-Control-Allow-Credentials'] = 'true'\n"
            "USE_TOKEN = os.getenv('USE_TOKEN_AUTH', 'false')\n"
            "CACHE_KEY = 'posts:all:v2'\n"
            "SORT_KEY = os.getenv('SORT_KEY', 'created_at')\n",
            path="app/config.py",
        ),
        Example(
            "from pydantic_settings import BaseSettings\n"
            "class Settings(BaseSettings):\n"
            "    secret_key: str\n"
            "    token_url: str = '/auth/token'\n"
            "    password_reset_path: str = '/reset'\n"
        ),
        Example("PASSWORD = 'hunter2'\n", path="tests/test_login.py"),
    )
    INVALID = (
        Example(
            "import os\n"
            "from flask import Flask\n"
            "app = Flask(__name__)\n"
            "app.config['SECRET_KEY'] = 'tango-2023-s3cret'\n"
            "JWT_SECRET = os.getenv('JWT_SECRET', 'dev-secret')\n"
            "WEBHOOK_SECRET = os.environ.get('WEBHOOK_SECRET') or 'changeme'\n"
            "class Config:\n"
            "    MAIL_PASSWORD = os.environ.get('SMTP_PASSWORD', 'mg-7f3d91c2')\n"
            "    SQLALCHEMY_DATABASE_URI = 'postgresql://app:hunter2@db/app'\n"
            "app.secret_key = 'abc123'\n"
            "app.config.update({'JWT_SECRET_KEY': 'xyz'})\n"
            "PREVIEW_SERVICE_KEY = os.environ.get('PREVIEW_SERVICE_KEY', 'lp_live_3f9a0c2d7e41b8')\n"
            "STRIPE_KEY = 'sk_live_51HxQ2eLkd93'\n",
            lines=(4, 5, 6, 8, 9, 10, 11, 12, 13),
            path="app/config.py",
        ),
        Example(
            "from pydantic_settings import BaseSettings\n"
            "class Settings(BaseSettings):\n"
            "    jwt_secret: str = 'change-me'\n"
            "settings = Settings(api_key='sk-live-123')\n"
            "def check(password):\n"
            "    return password == 'admin123'\n",
            lines=(3, 4, 6),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if ctx.in_test_file:
            return
        aliases = import_aliases(ctx.tree)
        seen: set[int] = set()
        for line, message in self._findings(ctx.tree, aliases):
            if line not in seen:
                seen.add(line)
                yield self.finding(ctx, line, message)

    def _findings(self, tree: ast.Module, aliases: dict[str, str]) -> Iterable[tuple[int, str]]:
        # Each kind of node in a pass of its own (no merge of the kinds into walk order: the hits
        # are rare, and only they are put back into walk order, which decides the message of a line
        # with two). Every test needs a string (or bytes) literal and looks for it first, before
        # the costlier name tests (all of them pure, so their order is free).
        hits: list[tuple[ast.AST, list[tuple[int, str]]]] = []
        # (class identity tests, not isinstance: the parser makes exact Constant nodes holding exact
        # str/bytes values, and these loops visit a good part of every tree)
        constant, text = ast.Constant, (str, bytes)
        for node in [n for n in nodes_of(tree, constant) if n.value.__class__ is str and "@" in n.value]:
            if URL_CREDENTIALS.match(node.value):
                hits.append((node, [(node.lineno, "credentials written inside a URL")]))
        for node in nodes_of(tree, ast.Call):
            args = node.args
            candidate = False
            if args:
                first = args[0]
                if first.__class__ is constant:
                    value = first.value
                    candidate = value.__class__ is str and value and is_secret_name(value, strong_evidence=True)
            if not candidate:
                for kw in node.keywords:  # (a loop, not any(): most calls have none or one)
                    value = kw.value
                    if value.__class__ is constant and value.value.__class__ in text:
                        candidate = True
                        break
            if candidate:
                found = list(self._at(node, aliases))
                if found:
                    hits.append((node, found))
        # the other kinds, each with the literal its test needs
        candidates = [
            *[n for n in nodes_of(tree, ast.Assign)
              if n.value.__class__ is constant and n.value.value.__class__ in text],
            *[n for n in nodes_of(tree, ast.AnnAssign)
              if n.value.__class__ is constant and n.value.value.__class__ in text],
            *[n for n in nodes_of(tree, ast.BoolOp)
              if any(v.__class__ is constant and v.value.__class__ in text for v in n.values[1:])],
            *[n for kind in (ast.FunctionDef, ast.AsyncFunctionDef) for n in nodes_of(tree, kind)
              if n.args.defaults and any(d.__class__ is constant and d.value.__class__ in text
                                         for d in n.args.defaults)],
            *[n for n in nodes_of(tree, ast.Compare)
              if n.comparators[-1].__class__ is constant and n.comparators[-1].value.__class__ in text],
            *[n for n in nodes_of(tree, ast.Dict) if any(v.__class__ is constant and v.value.__class__ in text
                                                         for v in n.values)],
        ]
        for node in candidates:
            found = list(self._at(node, aliases))
            if found:
                hits.append((node, found))
        if len(hits) > 1:
            wanted = {id(node) for node, _ in hits}
            position: dict[int, int] = {}
            for i, node in enumerate(nodes(tree)):
                if id(node) in wanted:
                    position[id(node)] = i
                    if len(position) == len(wanted):
                        break
            hits.sort(key=lambda hit: position[id(hit[0])])
        for _, found in hits:
            yield from found

    def _at(self, node: ast.AST, aliases: dict[str, str]) -> Iterable[tuple[int, str]]:
        kind = node.__class__
        if kind is ast.Call:
            args = node.args
            if args and _is_text(args[0]) and args[0].value and is_secret_name(args[0].value, strong_evidence=True):
                fallback = self._env_default(node, aliases)
                if fallback:
                    yield node.lineno, fallback
            for kw in node.keywords:
                if kw.arg and _is_literal(kw.value) and is_secret_name(
                        kw.arg, strong_evidence=_random_literal(kw.value)) and _literal_secret(kw.value, kw.arg):
                    yield kw.value.lineno, f"literal secret passed as {kw.arg}="
        elif kind is ast.Assign or kind is ast.AnnAssign:
            if not _is_literal(node.value):
                return
            targets = node.targets if kind is ast.Assign else [node.target]
            for name in filter(None, map(_target_name, targets)):
                if is_secret_name(name, strong_evidence=_random_literal(node.value)) and _literal_secret(
                        node.value, name):
                    yield node.lineno, f"literal secret assigned to {name}"
                    break
        elif kind is ast.BoolOp:
            # os.environ.get("SECRET_KEY") or "changeme"
            if node.op.__class__ is not ast.Or or not any(_literal_secret(v) for v in node.values[1:]):
                return
            env = next((v for v in node.values if isinstance(v, ast.Call) and _env_name(v, aliases)), None)
            if env is not None and is_secret_name(_env_name(env, aliases), strong_evidence=True):
                yield node.lineno, f"literal fallback for {_env_name(env, aliases)}"
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            args = node.args.posonlyargs + node.args.args
            for arg, default in zip(args[len(args) - len(node.args.defaults):], node.args.defaults):
                if _is_literal(default) and is_secret_name(arg.arg) and _literal_secret(default):
                    yield default.lineno, f"literal default for the secret parameter {arg.arg}"
        elif kind is ast.Compare:
            if len(node.comparators) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                left, right = node.left, node.comparators[0]
                if not _is_literal(right):
                    return
                name = _target_name(left)
                if name and is_secret_name(name) and _literal_secret(right, name):
                    yield node.lineno, f"{name} compared with a literal secret"
        elif kind is ast.Dict:
            # app.config.update({"SECRET_KEY": "..."}): upper-case keys are settings; lower-case
            # "password" keys are usually record fields (judged by the mock-data rule instead).
            for k, v in zip(node.keys, node.values):
                key = str_value(k)
                if key and key.isupper() and _is_literal(v) and is_secret_name(key) and _literal_secret(v):
                    yield v.lineno, f"literal secret for the setting {key}"

    @staticmethod
    def _env_default(call: ast.Call, aliases: dict[str, str]) -> str | None:
        name = _env_name(call, aliases)
        if not name or not is_secret_name(name, strong_evidence=True):
            return None
        default = call.args[1] if len(call.args) > 1 else keyword(call, "default")
        if default is not None and _literal_secret(default):
            return f"literal default for {name} read from the environment"
        return None


def _env_name(call: ast.Call, aliases: dict[str, str]) -> str:
    """The variable name when ``call`` reads the environment (``os.getenv("X")``, ``env.str("X")``), else ''."""
    qual = call_qualname(call, aliases)
    method = last_name(call.func)
    is_env = qual in ENV_READERS or qual.endswith((".environ.get", ".environ.setdefault")) or (
        method in ENV_METHODS and isinstance(call.func, ast.Attribute)
        and ast.unparse(call.func.value).split(".")[-1] in ("env", "environ", "settings_env", "os"))
    if not is_env or not call.args:
        return ""
    return str_value(call.args[0]) or ""


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_literal(node: ast.AST | None) -> bool:
    """A string or bytes literal: the only values ``_literal_secret`` accepts."""
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        return str_value(target.slice)
    return None


def _random_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and looks_random(node.value)


def _literal_secret(node: ast.AST, name: str = "") -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        return is_secret_value(value, name)
    return False
