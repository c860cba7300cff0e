"""What a secret's name looks like (shared by the secret rules and the bandit adapter's filter)."""

from __future__ import annotations

import re

# Identifiers that hold a secret: SECRET_KEY, jwt_secret, API_KEY, db_password, auth_token, PRIVATE_KEY...
SECRET_NAME = re.compile(
    r"secret|passw(or)?d|passwd|(^|_)pwd($|_)|api_?key|apikey|private_?key|access_?key|auth_?key|signing_?key|"
    r"encryption_?key|master_?key|(^|_)token($|_)|credential|(^|_)salt($|_)|webhook_?key|client_?key|"
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


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.search(name)


def is_secret_value(value: str) -> bool:
    return bool(value.strip()) and not PLACEHOLDER_VALUE.match(value)
