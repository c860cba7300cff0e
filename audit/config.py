"""``workbench.toml``: which routes are public or sensitive, which rules run, what to skip.

Example::

    [routes]
    public = ["/api/feed/public", "/hooks/*"]     # added to the default public list
    sensitive = ["/api/admin/*"]                  # added to the default sensitive list

    [rules]
    disable = ["WB401", "debug-logging"]          # rule ids, rule names or categories

    [paths]
    exclude = ["migrations/*", "scripts/*"]       # gitignore-style patterns, relative to SRC
    max_file_bytes = 2000000
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Config", "ConfigError", "load_config", "DEFAULT_PUBLIC", "DEFAULT_SENSITIVE"]


# A path is public when one of its segments matches (CONTRACT.md, route flags).
DEFAULT_PUBLIC = (
    r"log-?in|sign-?in|log-?out|sign-?out|register|sign-?up|token/refresh|refresh(-token)?|"
    # OAuth2 password-flow token endpoints are where a client logs in ("/login/access-token", "/oauth/token")
    r"(log-?in|sign-?in)/access[-_]?token|oauth2?/token|"
    r"(password|pwd)[-_/]?(reset|forgot)(/request)?|forgot[-_]?password|reset[-_]?password[-_]?request|"
    r"health([-_]?check|z)?|status|ping|version|docs|openapi(\.json)?|swagger.*|redoc|static",
)

# A path is sensitive (needs a rate limit) when one of its segments matches, or the route uploads files.
DEFAULT_SENSITIVE = (
    r"log-?in|sign-?in|register|sign-?up|token|refresh(-token)?|auth|"
    r"(password|pwd)([-_/].*)?|(reset|forgot|change)[-_]?password|verify|verification|otp|2fa|mfa|code",
    # uploads: sensitive when a request sends a file (POST/PUT/PATCH), not when one is downloaded
    r"upload(s)?|avatar|attachments?|files?|images?|photos?|media|documents?",
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


# Segments that make a path private whatever its tail says (public defaults only).
_PRIVATE_SEGMENT = re.compile(r"^(admin|internal|manage(ment)?|staff|backoffice|ops)$", re.IGNORECASE)


class ConfigError(ValueError):
    """A workbench.toml that cannot be read or has a wrong shape."""


@dataclass(frozen=True)
class Config:
    public: tuple[str, ...] = ()  # extra glob patterns of public paths
    sensitive: tuple[str, ...] = ()  # extra glob patterns of sensitive paths
    disable: frozenset[str] = frozenset()  # rule ids, names or categories switched off
    exclude: tuple[str, ...] = ()  # gitignore-style patterns relative to SRC
    max_file_bytes: int = 2_000_000
    source: str = ""  # the file it was read from

    def is_public(self, path: str) -> bool:
        return _matches(path, DEFAULT_PUBLIC[0], self.public, private_segments=True)

    def is_sensitive(self, path: str, method: str | None = None) -> bool:
        """Whether a route needs a rate limit: authentication paths, the config's list, and
        upload paths for methods that send a body (any method when ``method`` is None)."""
        if _matches(path, DEFAULT_SENSITIVE[0], self.sensitive):
            return True
        return (method is None or method.upper() in _BODY_METHODS) and _matches(path, DEFAULT_SENSITIVE[1], ())

    def rule_enabled(self, rule_id: str, name: str = "", category: str = "") -> bool:
        return not ({rule_id, name, category} & self.disable)


@lru_cache(maxsize=16)
def _segment_pattern(regex: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{regex})$", re.IGNORECASE)


def _matches(path: str, default_segment_regex: str, globs: tuple[str, ...], private_segments: bool = False) -> bool:
    if any(fnmatch.fnmatchcase(path, g) for g in globs):
        return True
    segment = _segment_pattern(default_segment_regex)
    parts = [p for p in path.split("/") if p and not p.startswith(("<", "{", ":"))]
    if not parts:
        return False
    # Judged on the path's tail ("/api/auth/login", "/password/reset/request"), so that
    # "/api/posts/<id>/status" is not public just because a middle segment says "status".
    if private_segments and any(_PRIVATE_SEGMENT.match(p) for p in parts):
        return False  # "/admin/diagnostics/ping" is an admin tool, not a public health check
    candidates = [parts[-1], "/".join(parts[-2:]), "/".join(parts[-3:])]
    if segment.match(parts[0]) and parts[0].lower() in ("static", "docs"):
        return True
    return any(segment.match(c) for c in candidates)


def load_config(path: str | Path | None) -> Config:
    """Read ``workbench.toml`` (None gives the defaults). Raises ConfigError with a clear message."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    routes = data.get("routes", {})
    rules = data.get("rules", {})
    paths = data.get("paths", {})
    try:
        return Config(
            public=tuple(_strings(routes.get("public", []), "routes.public")),
            sensitive=tuple(_strings(routes.get("sensitive", []), "routes.sensitive")),
            disable=frozenset(_strings(rules.get("disable", []), "rules.disable")),
            exclude=tuple(_strings(paths.get("exclude", []), "paths.exclude")),
            max_file_bytes=int(paths.get("max_file_bytes", Config.max_file_bytes)),
            source=str(p),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{p}: {exc}") from None


def _strings(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return list(value)

