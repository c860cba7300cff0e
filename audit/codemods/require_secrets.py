"""RequireSecretsCommand: secrets come from the environment, without fallbacks."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._route_handlers import dotted, string_value

# A setting holds a secret when its name says so, and is not a setting *about* the secret.
_SECRET_NAME = re.compile(r"(?i)(secret|passw(or)?d|passwd|token|api_?key|private_?key|credential|signing_?key|access_?key)")
_NOT_SECRET = re.compile(
    r"(?i)(_(expiry|expires?|ttl|lifetime|length|min|max|header|url|uri|name|algorithm|algo|location|"
    r"type|field|param|prefix|cookie|minutes|seconds|hours|days|timeout|rounds|policy|regex|pattern|file|path|hash|hasher|scheme)s?$)"
    r"|^(password|token)$"
)
# Secrets without which the app must refuse to start: the ones that sign identities.
_STARTUP_SECRET = re.compile(r"(?i)jwt|token_secret|signing")
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
    APPLIES_TO = r"(?i)secret|passw|passwd|token|api_?key|private_?key|credential|signing|access_?key"

    def _required(self, name: str) -> cst.Call:
        """``require_env(NAME)`` for the token-signing secret; other secrets lose their
        fallback and read the environment (None when unset), so that the app does not need
        every integration's credentials to start; MIGRATION.json lists them."""
        if _STARTUP_SECRET.search(name):
            self.import_security("require_env")
            self.context.scratch.setdefault("workbench.required_env", set()).add(name)
            return cst.Call(func=cst.Name("require_env"), args=[cst.Arg(cst.SimpleString(f'"{name}"'))])
        self.add_needed_import("os")
        self.note(f"{name} is read from the environment without a fallback; set it where that feature is used")
        return cst.parse_expression(f'os.environ.get("{name}")')

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
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
        for arg in updated_node.args:
            if arg.keyword and is_secret_setting(arg.keyword.value) and _is_literal_secret(arg.value):
                arg = arg.with_changes(value=self._required(arg.keyword.value))
                changed = True
            args.append(arg)
        return updated_node.with_changes(args=args) if changed else updated_node

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

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) != 1 or not _is_literal_secret(updated_node.value):
            return updated_node
        name = _target_name(updated_node.targets[0].target)
        if name and is_secret_setting(name):
            return updated_node.with_changes(value=self._required(name))
        return updated_node

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        if updated_node.value is None or not _is_literal_secret(updated_node.value):
            return updated_node
        name = _target_name(updated_node.target)
        if name and is_secret_setting(name):
            return updated_node.with_changes(value=self._required(name))
        return updated_node
