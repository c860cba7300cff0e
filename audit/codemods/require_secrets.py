"""RequireSecretsCommand: secrets come from the environment, without fallbacks."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._route_handlers import dotted, string_value

# A setting holds a secret when its name says so, and is not a setting *about* the secret.
_SECRET_NAME = re.compile(r"(?i)(secret|passw(or)?d|passwd|token|api_?key|private_?key|credential|signing_?key|access_?key|(^|_)key$)")
_NOT_SECRET = re.compile(
    r"(?i)(_(expiry|expires?|ttl|lifetime|length|min|max|header|url|uri|name|algorithm|algo|location|"
    r"type|field|param|prefix|cookie|minutes|seconds|hours|days|timeout|rounds|policy|regex|pattern|file|path|hash|hasher|scheme)s?$)"
    r"|^(password|token)$"
)
_ENV_GETTERS = {"os.getenv", "getenv", "os.environ.get", "environ.get"}


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


def is_secret_setting(name: str) -> bool:
    """A configuration setting (UPPER_CASE, or Flask's ``secret_key``) holding a secret; lower-case
    names are data (``User(password="...")`` in seed code is not a setting)."""
    return ((name.isupper() or name.upper() == "SECRET_KEY") and is_secret_name(name)
            and "PASSWORD" not in name.upper())  # demo/seed credentials: left for a human


def _env_read(node: cst.CSTNode) -> tuple[str, bool] | None:
    """(variable, has_default) for ``os.getenv("X"[, d])`` / ``os.environ.get("X"[, d])``."""
    if not isinstance(node, cst.Call) or dotted(node.func) not in _ENV_GETTERS or not node.args:
        return None
    name = string_value(node.args[0].value)
    if name is None:
        return None
    return name, len(node.args) > 1 or any(a.keyword and a.keyword.value == "default" for a in node.args)


_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^@\s]+@", re.I)


def _credentials_url(node: cst.CSTNode) -> bool:
    """``"postgresql://app:hunter2@db/app"``: a password written inside a URL."""
    value = string_value(node)
    return bool(value and _URL_WITH_PASSWORD.match(value))


def _is_literal_secret(node: cst.CSTNode) -> bool:
    value = string_value(node)
    if value is not None:
        return bool(value.strip())
    return isinstance(node, cst.FormattedString) and not any(
        isinstance(p, cst.FormattedStringExpression) for p in node.parts)


def _target_name(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value.upper() if node.attr.value == "secret_key" else node.attr.value
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return string_value(node.slice[0].slice.value)
    return None


class RequireSecretsCommand(MigrationCommand):
    """Remove secret fallbacks and secrets written in the code: ``os.getenv("JWT_SECRET", "dev")``,
    ``os.environ.get("SECRET_KEY") or "changeme"``, ``SECRET_KEY = "abc"``,
    ``app.config["JWT_SECRET"] = "abc"``, ``config.update(SECRET_KEY="abc")`` all become
    ``require_env("<NAME>")``, which refuses to start the app, with a one-line error naming
    the variable, when it is unset or empty. ``config.get("JWT_SECRET", "dev")`` reads the
    config, then the environment."""

    DESCRIPTION = "Require secrets from the environment at start-up; remove fallbacks and literals."
    NAME = "require-secrets"
    ORDER = 5
    FIXES = (Category.HARDCODED_SECRET,)
    APPLIES_TO = r"(?i)secret|passw|passwd|token|_?key\b|credential|signing|Serializer|Signer|hmac|jwt|://"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._settings_classes: list[bool] = []
        self._functions: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node.name.value)

    def leave_FunctionDef(self, original_node, updated_node):
        self._functions.pop()
        return updated_node

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        # password == "admin123": the secret moves to the environment, compared in constant time
        # (an unset variable never matches, so nothing opens while it is being configured).
        if len(updated_node.comparisons) != 1:
            return updated_node
        target = updated_node.comparisons[0]
        if not isinstance(target.operator, (cst.Equal, cst.NotEqual)):
            return updated_node
        left, right = updated_node.left, target.comparator
        if _is_literal_secret(left) and not _is_literal_secret(right):
            left, right = right, left
        name = _target_name(left)
        if not name or not _is_literal_secret(right) or not (is_secret_name(name) or name.lower() in ("password", "token")):
            return updated_node
        variable = re.sub(r"\W+", "_", "_".join([*self._functions[-1:], name])).strip("_").upper()
        self.import_security("matches_env_secret")
        self.note(f"line {self.line_of(original_node)}: {name} was compared with a literal secret; the secret now "
                  f"comes from the environment variable {variable} (never matches while it is unset)")
        code = cst.Module(body=[]).code_for_node(left)
        call = cst.parse_expression(f'matches_env_secret({code}, "{variable}")')
        if isinstance(target.operator, cst.NotEqual):
            call = cst.UnaryOperation(operator=cst.Not(), expression=call)
        return call.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def _required(self, name: str) -> cst.Call:
        """``require_env(NAME)``: a secret whose fallback or literal is removed is required at
        start-up (a one-line error naming the variable when it is unset or empty), never read
        as None at request time; MIGRATION.json lists it under ``required_env`` (and the app's
        ``init_security`` checks that list at start-up, for reads inside functions)."""
        self.import_security("require_env")
        self.context.scratch.setdefault("workbench.required_env", set()).add(name)
        return cst.Call(func=cst.Name("require_env"), args=[cst.Arg(cst.SimpleString(f'"{name}"'))])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        keyed = self._literal_key_call(updated_node)
        if keyed is not None:
            return keyed
        read = _env_read(updated_node)
        if read and read[1] and is_secret_name(read[0]):
            return self._required(read[0])
        # X.config.get("JWT_SECRET", "dev") -> X.config.get("JWT_SECRET") or require_env("JWT_SECRET")
        if (m.matches(updated_node.func, m.Attribute(value=m.Attribute(attr=m.Name("config")), attr=m.Name("get")))
                and len(updated_node.args) == 2):
            name = string_value(updated_node.args[0].value)
            if name and is_secret_name(name) and not isinstance(updated_node.args[1].value, cst.Name):
                lookup = updated_node.with_changes(args=[updated_node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
                return cst.BooleanOperation(left=lookup, operator=cst.Or(), right=self._required(name))
        # config.update(SECRET_KEY="abc") / dict(SECRET_KEY="abc")
        changed = False
        args = []
        settings_call = bool(re.search(r"(Settings|Config)$", dotted(updated_node.func)))
        for arg in updated_node.args:
            name = arg.keyword.value if arg.keyword else ""
            if name and _is_literal_secret(arg.value) and (is_secret_setting(name) or (
                    settings_call and is_secret_setting(name.upper()))):
                arg = arg.with_changes(value=self._required(name.upper() if settings_call else name))
                changed = True
            args.append(arg)
        return updated_node.with_changes(args=args) if changed else updated_node

    def _literal_key_call(self, call: cst.Call) -> cst.Call | None:
        """jwt.encode(..., "lit") / jwt.decode(t, key="lit") / hmac.new(b"lit", ...) /
        URLSafeTimedSerializer("lit"): the key comes from the environment."""
        callee = dotted(call.func)
        name = callee.rsplit(".", 1)[-1]
        if callee.endswith(("jwt.encode", "jwt.decode")):
            position, variable = 1, "JWT_SECRET"
        elif callee in ("hmac.new", "hmac.HMAC") or name in ("URLSafeTimedSerializer", "URLSafeSerializer",
                                                               "TimedSerializer", "Serializer", "Signer", "TimestampSigner"):
            position, variable = 0, "SECRET_KEY"
        else:
            return None
        args = list(call.args)
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        index = next((i for i, a in enumerate(args) if a.keyword and a.keyword.value in ("key", "secret_key", "secret")),
                     positional[position] if len(positional) > position else None)
        if index is None or not (_is_literal_secret(args[index].value) or isinstance(args[index].value, cst.SimpleString)):
            return None
        self.import_security("require_env")
        self.context.scratch.setdefault("workbench.required_env", set()).add(variable)
        value = cst.Call(func=cst.Name("require_env"), args=[cst.Arg(cst.SimpleString(f'"{variable}"'))])
        if isinstance(args[index].value, cst.SimpleString) and args[index].value.prefix.lower().startswith("b"):
            value = cst.Call(func=cst.Attribute(value=value, attr=cst.Name("encode")))
        args[index] = args[index].with_changes(value=value)
        return call.with_changes(args=args)

    def leave_BooleanOperation(self, original_node: cst.BooleanOperation,
                               updated_node: cst.BooleanOperation) -> cst.BaseExpression:
        # os.environ.get("SECRET_KEY") or "changeme"
        read = _env_read(updated_node.left)
        if isinstance(updated_node.operator, cst.Or) and read and is_secret_name(read[0]):
            return self._required(read[0])
        return updated_node

    def leave_DictElement(self, original_node: cst.DictElement, updated_node: cst.DictElement) -> cst.DictElement:
        key = string_value(updated_node.key)
        if key and is_secret_setting(key) and _is_literal_secret(updated_node.value):
            return updated_node.with_changes(value=self._required(key))
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._settings_classes.append(bool(re.search(r"(Settings|Config)$", node.name.value)) or any(
            dotted(b.value).endswith("BaseSettings") for b in node.bases))

    def leave_ClassDef(self, original_node, updated_node):
        self._settings_classes.pop()
        return updated_node

    def _setting(self, name: str) -> bool:
        if self._settings_classes and self._settings_classes[-1]:
            return is_secret_setting(name.upper()) and "PASSWORD" not in name.upper()
        return is_secret_setting(name)

    def _env_name(self, name: str) -> str:
        return name.upper() if self._settings_classes and self._settings_classes[-1] else name

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1:
            return updated_node
        name = _target_name(updated_node.targets[0].target)
        if name and name.isupper() and _credentials_url(updated_node.value):
            self.add_needed_import("os")
            self.note(f"{name}: credentials removed from the code; set {name} in the environment")
            return updated_node.with_changes(value=cst.parse_expression(f'os.environ.get("{name}")'))
        if not _is_literal_secret(updated_node.value):
            return updated_node
        if name and name.isupper() and "PASSWORD" in name and is_secret_name(name):
            self.note(f"{name}: a password written in the code (demo/seed credentials?) is left for a human")
            return updated_node
        if name and self._setting(name):
            return updated_node.with_changes(value=self._required(self._env_name(name)))
        return updated_node

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        if updated_node.value is None or not _is_literal_secret(updated_node.value):
            return updated_node
        name = _target_name(updated_node.target)
        if name and self._setting(name):
            return updated_node.with_changes(value=self._required(self._env_name(name)))
        return updated_node
