"""What a secret's name looks like (shared by the secret rules and the bandit adapter's filter)."""

from __future__ import annotations

import re
from functools import lru_cache

# Identifiers that hold a secret: SECRET_KEY, jwt_secret, API_KEY, db_password, auth_token, PRIVATE_KEY...
SECRET_NAME = re.compile(
    r"secret|passw(or)?d|passwd|(^|_)pwd($|_)|api_?key|apikey|private_?key|access_?key|auth_?key|signing_?key|"
    r"encryption_?key|master_?key|(^|_)token($|_)|credential|webhook_?key|client_?key|"
    r"(^|_)pass($|_)|bearer",
    re.I,
)
# ...unless the name says it holds something about the secret, not the secret itself.
NOT_SECRET_NAME = re.compile(
    r"(^|_)(type|types|url|uri|urls|endpoint|header|headers|name|names|field|fields|length|len|min|max|size|"
    r"expires?|expiry|expiration|ttl|lifetime|timeout|age|algorithm|algorithms|alg|prefix|suffix|env|env_?var|var|"
    r"path|file|filename|dir|format|regex|pattern|label|hint|help|message|msg|error|errors|column|attr|location|"
    r"scheme|mode|policy|id|ids|count|limit|version|param|query|re|rules?|strength|template|placeholder|"
    r"description|desc|title|text|route|view|form|input|key_?name|sent|used|changed|required|enabled|"
    r"reset|forgot|confirm|confirmation|hash|hashed|hasher|digest|validator|checker|rotation|"
    r"count|attempts|retries|schema|class|cls|model|widget|prompt)($|_)|^(is|has|use|enable|require|check|verify|"
    r"validate|get|set|min|max|should|allow|show|hide)_",
    re.I,
)
# Values that are obviously not secrets: templates and references to other settings.
PLACEHOLDER_VALUE = re.compile(r"^(\$\{.*\}|\{\{.*\}\}|<[^>]*>|%\(.*\)s|\*+|\s*)$")
# Credentials inside a URL: scheme://user:password@host
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^@/\s]+@", re.I)


# `..._KEY` names hold secrets when read from the environment (SERVICE_KEY, STRIPE_KEY) but are as often
# plain identifiers in code (CACHE_KEY = "posts:all"); they count as secrets only with more evidence.
KEY_NAME = re.compile(r"(^|_)key$", re.I)
NOT_KEY_NAME = re.compile(r"(^|_)(cache|sort|primary|foreign|partition|lookup|idempotency|redis|s3|object|bucket|"
                          r"dict|map|index|row|column|group|lock|storage|field|order|hash|rate|limit|ratelimit|"
                          r"session|cookie|form|json|query|param|header|metadata|meta|config|setting|translation|"
                          r"i18n|message|event|topic|queue|channel|routing|cursor|page|state)_key$", re.I)
RANDOM_VALUE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-+/=.]{12,}$")


@lru_cache(maxsize=8192)  # the same names come back in every file; the answer depends on the name alone
def is_secret_name(name: str, *, strong_evidence: bool = False) -> bool:
    """Whether ``name`` holds a secret. ``strong_evidence`` (read from the environment with a
    fallback, or a random-looking value) admits ``..._KEY`` names too. HTTP header names
    (``Access-Control-Allow-Credentials``) are not secrets."""
    if "-" in name or " " in name:
        return False
    if SECRET_NAME.search(name) and not NOT_SECRET_NAME.search(name):
        return True
    return strong_evidence and bool(KEY_NAME.search(name)) and not NOT_KEY_NAME.search(name) \
        and not NOT_SECRET_NAME.search(name)


def looks_random(value: str) -> bool:
    """A token-like literal: letters and digits, no spaces, at least 12 characters."""
    return bool(RANDOM_VALUE.match(value))


# Values that are flags or names, not secrets.
NOT_SECRET_VALUE = re.compile(r"^(true|false|yes|no|on|off|none|null|nil|undefined|[01]|-+|\.+)$", re.I)


def is_secret_value(value: str, name: str = "") -> bool:
    """A literal that can be a secret: at least three characters with a letter or digit, not a flag,
    not a template, and not just its own name (``apiKey = "apiKey"``, an enum member)."""
    text = value.strip()
    if len(text) < 3 or not any(c.isalnum() for c in text) or PLACEHOLDER_VALUE.match(value) or \
            NOT_SECRET_VALUE.match(text):
        return False
    return not (name and _SQUASH.sub("", text).lower() == _SQUASH.sub("", name).lower())


_SQUASH = re.compile(r"[\W_]+")  # what is left of a name or value without its separators
