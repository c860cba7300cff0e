"""Security setup of this app, added by the workbench migration (``workbench migrate``).

Everything the migrated code calls into lives here, on top of well-kept libraries
(PyJWT, Flask-Limiter, pydantic, werkzeug):

* ``init_security(app)``: JSON error envelope for every error, security headers and a
  response-time header on every response, the JWT secret (required), the rate limiter,
  the upload size limit and log redaction.
* ``require_auth`` / ``current_user_id()``: ``Authorization: Bearer <JWT>``, HS256,
  secret from the environment variable ``JWT_SECRET``, user id in the ``sub`` claim;
  ``bearer_identity()`` for the project's own guards that also accept another credential.
* ``limiter`` / ``SENSITIVE_LIMIT``: Flask-Limiter; storage from ``RATELIMIT_STORAGE_URI``.
* ``validate_json`` / ``validate_query`` / ``validate_form`` / ``validate_values``: pydantic validation with a
  400 ``validation_error`` listing every bad field.
* ``safe_url(url)``: the SSRF guard for outbound requests built from request data.
* ``validate_upload(file)``: extension + MIME allow-list and a sanitised, unique name.
* ``require_strong_password`` / ``secure_password_hash`` / ``verify_password`` /
  ``check_and_upgrade_password``: strength policy, slow salted hashing, and legacy (plain,
  md5, sha1, sha256) hashes still accepted and upgraded on the next login.
* ``get_logger(name)``: a module logger that never writes passwords, tokens or secrets.
* ``authenticate_socket`` / ``room_allowed`` / ``set_room_membership_check``: Socket.IO
  authentication and the room-membership hook (deny unless the app's rule allows).

Configuration (``app.config`` first, then the environment): ``JWT_SECRET`` (required; so is
every variable MIGRATION.json lists under ``required_env``),
``RATELIMIT_STORAGE_URI`` (default ``memory://``), ``RATELIMIT_SENSITIVE`` (default
``10 per minute``), ``MAX_CONTENT_LENGTH`` (default 5 MB), ``UPLOAD_ALLOWED_EXTENSIONS``,
``SOCKETIO_OPEN_ROOMS`` (default off: rooms the app's membership rule does not cover are refused).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import mimetypes
import os
import re
import secrets
import socket
import time
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import jwt
from flask import Flask, current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequestKeyError, HTTPException, RequestEntityTooLarge, Unauthorized
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.utils import secure_filename

__all__ = [
    "SENSITIVE_LIMIT", "MissingSecret", "authenticate_socket", "bearer_identity", "check_and_upgrade_password",
    "validate_upload", "current_user_id", "error_response", "optional_user_id", "MAX_UPLOAD_BYTES", "get_logger", "init_security",
    "limiter", "matches_env_secret", "require_auth", "require_env", "require_strong_password", "room_allowed",
    "safe_url", "secure_password_hash", "set_room_membership_check", "socket_identity",
    "validate_form", "validate_json", "validate_query", "validate_values", "verify_password",
]

log = logging.getLogger(__name__)

JWT_ALGORITHM = "HS256"
DEFAULT_MAX_CONTENT_LENGTH = 5 * 1024 * 1024
DEFAULT_UPLOAD_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "csv"})

# Short, stable messages: the client never sees werkzeug's long descriptions nor exception text.
ERROR_CODES = {
    400: ("bad_request", "The request is malformed."),
    401: ("unauthorized", "Authentication required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    409: ("conflict", "Conflict."),
    413: ("payload_too_large", "The request is too large."),
    415: ("unsupported_media_type", "Unsupported media type."),
    422: ("unprocessable_entity", "The request could not be processed."),
    429: ("rate_limited", "Too many requests."),
    500: ("internal_error", "Internal server error."),
    503: ("service_unavailable", "Service unavailable."),
}


# --- secrets ---------------------------------------------------------------------------------


class MissingSecret(SystemExit):
    """A required secret is unset: the app refuses to start with a one-line message.

    A ``SystemExit`` so that an uncaught one prints just the message (no traceback) and
    exits with status 1; tests can still catch it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"error: the environment variable {name} must be set (refusing to start without it)")
        self.name = name


def require_env(name: str) -> str:
    """The value of the environment variable ``name``; refuse to start when unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSecret(name)
    return value


def _migration_required_env() -> list[str]:
    """The variables that MIGRATION.json (written next to this module) lists as required."""
    try:
        report = json.loads(Path(__file__).with_name("MIGRATION.json").read_text(encoding="utf-8"))
        return [str(name) for name in report.get("required_env", [])]
    except (OSError, ValueError, AttributeError, TypeError):
        return []  # no report (the module was copied elsewhere): JWT_SECRET alone is checked


def matches_env_secret(value: Any, name: str) -> bool:
    """Whether ``value`` equals the secret in the environment variable ``name`` (compared in
    constant time); never true while the variable is unset or empty."""
    expected = os.environ.get(name, "")
    if not expected or not isinstance(value, (str, bytes)):
        return False
    given = value.encode() if isinstance(value, str) else value
    return hmac.compare_digest(given, expected.encode())


# --- error envelope --------------------------------------------------------------------------


def error_response(status: int, message: str | None = None, code: str | None = None,
                   details: list[dict[str, Any]] | None = None):
    """``({"success": false, "error": {"code", "message"[, "details"]}}, status)``."""
    default_code, default_message = ERROR_CODES.get(status, (f"http_{status}", "Request failed."))
    error: dict[str, Any] = {"code": code or default_code, "message": message or default_message}
    if details is not None:
        error["details"] = details
    response = jsonify({"success": False, "error": error})
    response.status_code = status
    return response


class RequestValidationError(HTTPException):
    """Raised by the ``validate_*`` helpers: a 400 ``validation_error`` with one detail per field."""

    code = 400

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(description="The request data is invalid.")
        self.details = details


def _details(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_input=False)]


def _handle_http_error(exc: HTTPException):
    status = exc.code or 500
    if isinstance(exc, RequestValidationError):
        return error_response(400, exc.description, "validation_error", exc.details)
    if isinstance(exc, BadRequestKeyError) and exc.args:  # request.files["file"] (or form/args) not sent
        return error_response(400, "The request data is invalid.", "validation_error",
                              [{"field": str(exc.args[0]), "message": "Field required", "type": "missing"}])
    response = error_response(status, _client_message(exc), getattr(exc, "error_code", None))
    if status == 429:
        response.headers["Retry-After"] = str(_retry_after_seconds(exc))
    if status == 405 and exc.valid_methods:  # keep the Allow header werkzeug computed
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _client_message(exc: HTTPException) -> str | None:
    # A description the app set itself (abort(404, "Post not found")) is meant for the client;
    # werkzeug's generic ones are replaced by the short message of the status.
    default = type(exc).description if hasattr(type(exc), "description") else None
    description = exc.description
    if not description or description == default or (exc.code or 500) >= 500:
        return None
    return str(description)[:200]


def _handle_unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500)


def _retry_after_seconds(exc: HTTPException) -> int:
    current = limiter.current_limit
    if current is not None and current.breached:
        return max(1, int(current.reset_at - time.time()))
    # A limit of another Limiter (the app's own): its window is an upper bound.
    item = getattr(getattr(exc, "limit", None), "limit", None)
    return max(1, int(item.get_expiry())) if item is not None else 60


# --- headers -------------------------------------------------------------------------------

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _start_timer() -> None:
    g._wb_started = time.perf_counter()


def _add_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    started = g.get("_wb_started")
    elapsed_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
    response.headers["X-Response-Time"] = f"{elapsed_ms:.1f}ms"
    return response


# --- setup ---------------------------------------------------------------------------------


def _sensitive_limit() -> str:
    return str(current_app.config.get("RATELIMIT_SENSITIVE") or os.environ.get("RATELIMIT_SENSITIVE")
               or "10 per minute")


limiter = Limiter(key_func=get_remote_address, default_limits=[])
#: The limit of sensitive routes (login, register, password, upload); a callable so that
#: each app reads it from its own config.
SENSITIVE_LIMIT: Callable[[], str] = _sensitive_limit


def init_security(app: Flask) -> Flask:
    """Add the security setup to ``app``: call it once in the app factory, after the config."""
    secret = require_env("JWT_SECRET")
    app.config["JWT_SECRET"] = secret
    for name in _migration_required_env():  # secrets read inside functions fail here, not mid-request
        require_env(name)
    if not app.config.get("MAX_CONTENT_LENGTH"):  # Flask's default is None: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_CONTENT_LENGTH
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)  # Retry-After is set on 429 below
    limiter.init_app(app)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected_error)
    app.before_request(_start_timer)
    app.after_request(_add_headers)
    install_log_redaction(app.logger)
    install_log_redaction(logging.getLogger())
    # flask-login apps: a bearer token logs the user in (the LoginManager may be created
    # after this call, so the loader is installed on the first request)
    app.before_request(_bearer_logs_flask_login_users_in)
    return app


# --- authentication --------------------------------------------------------------------------


def _unauthorized(message: str = "Authentication required.") -> HTTPException:
    return Unauthorized(description=message)


def _jwt_secret() -> str:
    return current_app.config.get("JWT_SECRET") or require_env("JWT_SECRET")


def decode_token(token: str) -> dict[str, Any]:
    """The verified claims of ``token`` (HS256, signature and ``exp`` checked, ``sub`` a string)."""
    try:
        claims = jwt.decode(token, _jwt_secret(), algorithms=[JWT_ALGORITHM], options={"require": ["sub"]})
    except jwt.PyJWTError:
        raise _unauthorized("Invalid or expired token.") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise _unauthorized("Invalid or expired token.")
    return claims


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _as_user_id(sub: str) -> int | str:
    return int(sub) if sub.isdigit() else sub


def authenticate_request() -> int | str:
    """Verify the request's bearer token and remember its identity in ``g``; 401 otherwise."""
    if "user_id" in g and g.get("_wb_authenticated"):
        return g.user_id
    token = _bearer_token()
    if token is None:
        raise _unauthorized()
    claims = decode_token(token)
    g.user_id = _as_user_id(claims["sub"])
    g.jwt_claims = claims
    g._wb_authenticated = True
    return g.user_id


def require_auth(view: Callable) -> Callable:
    """Route decorator: 401 unless the request carries a valid bearer token.

    Sets ``g.user_id`` (an int when the ``sub`` claim is digits) and ``g.jwt_claims``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        authenticate_request()
        return view(*args, **kwargs)

    return wrapper


def current_user_id() -> int | str:
    """The authenticated user's id (verifies the token when no decorator has yet)."""
    return authenticate_request()


def optional_user_id() -> int | str | None:
    """The authenticated user's id when the request carries a bearer token (401 when that
    token is invalid), else None: for hooks that run before public and private routes alike."""
    return authenticate_request() if _bearer_token() is not None else None


def bearer_identity() -> int | str | None:
    """The user id of a valid bearer JWT on this request (remembered in ``g`` as by
    :func:`require_auth`), else None -- never an error, because the same header may carry
    the project's older credential (an API key): for the project's own guards, which
    then fall back to their own check and refuse what neither accepts."""
    if _bearer_token() is None:
        return None
    try:
        return authenticate_request()
    except HTTPException:
        return None


def _bearer_logs_flask_login_users_in() -> None:
    login_manager = getattr(current_app, "login_manager", None)
    if login_manager is not None and not getattr(login_manager, "_wb_bearer_loader", False):
        # (the loader is passed, not called: this hook itself never refuses a request)
        login_manager._wb_own_request_loader = getattr(login_manager, "_request_callback", None)
        login_manager.request_loader(_flask_login_user_from_bearer)
        login_manager._wb_bearer_loader = True


def _flask_login_user_from_bearer(request_: Any) -> Any:
    """Flask-Login's ``current_user`` from a valid bearer token (through the app's
    ``user_loader``); the app's own request loader, if any, still runs without one."""
    login_manager = current_app.login_manager
    user_loader = getattr(login_manager, "_user_callback", None)
    user_id = bearer_identity() if user_loader is not None else None
    if user_id is not None:
        return user_loader(str(user_id))
    own_loader = getattr(login_manager, "_wb_own_request_loader", None)
    return own_loader(request_) if own_loader is not None else None


# --- validation -------------------------------------------------------------------------------


def _validate(model: type[BaseModel], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise RequestValidationError([{"field": "body", "message": "Expected a JSON object.", "type": "dict_type"}])
    try:
        # exclude_unset: a field the client did not send stays absent, so the handler's own
        # `.get(key, default)` keeps working as before
        return model.model_validate(data).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise RequestValidationError(_details(exc)) from None


def validate_json(model: type[BaseModel]) -> dict[str, Any]:
    """The request's JSON body validated by ``model``, as a dict (400 ``validation_error`` otherwise)."""
    return _validate(model, request.get_json(silent=True))


def validate_query(model: type[BaseModel]) -> dict[str, Any]:
    """The query string validated by ``model``, as a dict."""
    return _validate(model, request.args.to_dict())


def validate_form(model: type[BaseModel]) -> dict[str, Any]:
    """The form fields validated by ``model``, as a dict."""
    return _validate(model, request.form.to_dict())


def validate_values(model: type[BaseModel]) -> dict[str, Any]:
    """The query string and form fields together (``request.values``) validated by ``model``."""
    return _validate(model, request.values.to_dict())


# --- outbound URLs (SSRF) -------------------------------------------------------------------------

METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


class UnsafeURL(HTTPException):
    """An outbound URL chosen by the client that points somewhere it must not."""

    code = 400
    error_code = "unsafe_url"


def _forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if mapped is not None and _forbidden_address(mapped):
            return True
    return (address in METADATA_ADDRESSES or address.is_loopback or address.is_private
            or address.is_link_local or address.is_multicast or address.is_reserved
            or address.is_unspecified or not address.is_global)


def safe_url(url: str, *, allowed_schemes: Iterable[str] = ("http", "https")) -> str:
    """``url`` unchanged when it is safe to fetch; a 400 ``unsafe_url`` otherwise.

    Only http/https; every address the host resolves to (IPv4 and IPv6, odd spellings
    such as ``0x7f000001`` or ``127.1`` included, since the resolver normalises them)
    must be public: no loopback, private, link-local, multicast, reserved or cloud
    metadata address."""
    try:
        parts = urlsplit(str(url).strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        raise UnsafeURL(description="The URL is not valid.") from None
    if parts.scheme.lower() not in allowed_schemes or not host:
        raise UnsafeURL(description="Only http and https URLs are allowed.")
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme.lower() == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL(description="The URL's host cannot be resolved.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if _forbidden_address(address):
            raise UnsafeURL(description="The URL points to a private or reserved address.")
    return url


# --- uploads --------------------------------------------------------------------------------------


class UnsupportedUpload(HTTPException):
    """An upload whose name or type is not on the allow-list."""

    code = 415


#: The largest upload :func:`validate_upload` accepts unless told otherwise (the app-wide
#: ``MAX_CONTENT_LENGTH`` also stops larger request bodies before the handler runs).
MAX_UPLOAD_BYTES = DEFAULT_MAX_CONTENT_LENGTH


def validate_upload(file: Any, allowed_extensions: Iterable[str] | None = None,
                    max_bytes: int | None = MAX_UPLOAD_BYTES) -> str:
    """A safe, unique file name for the uploaded ``file`` (a werkzeug ``FileStorage``).

    Rejects (415) names without an allowed extension, double extensions
    (``photo.php.png``) and a MIME type that does not match the extension. The size limit
    is ``MAX_CONTENT_LENGTH`` (werkzeug answers 413 before the handler runs)."""
    allowed = {e.lower().lstrip(".") for e in (allowed_extensions or _allowed_extensions())}
    original = getattr(file, "filename", None) or ""
    name = secure_filename(original)
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower()
    if not dot or not stem or extension not in allowed:
        raise UnsupportedUpload(description="This file type is not allowed.")
    if "." in stem or original.count(".") > 1:
        raise UnsupportedUpload(description="File names with several extensions are not allowed.")
    expected_type = mimetypes.guess_type(f"x.{extension}")[0]
    sent_type = (getattr(file, "mimetype", None) or "").lower()
    if expected_type and sent_type and sent_type != "application/octet-stream" and sent_type != expected_type:
        raise UnsupportedUpload(description="The file's type does not match its extension.")
    stream = getattr(file, "stream", None)
    if max_bytes is not None and stream is not None and stream.seekable():
        position = stream.tell()
        size = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        if size > max_bytes:
            raise RequestEntityTooLarge(description="The file is too large.")
    return f"{stem}-{secrets.token_hex(8)}.{extension}"


def _allowed_extensions() -> Iterable[str]:
    return current_app.config.get("UPLOAD_ALLOWED_EXTENSIONS") or DEFAULT_UPLOAD_EXTENSIONS


# --- passwords --------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 12
_LEGACY_HASHES = {32: hashlib.md5, 40: hashlib.sha1, 64: hashlib.sha256}


def password_problems(password: Any) -> list[str]:
    """Why ``password`` is too weak (empty when it is acceptable)."""
    if not isinstance(password, str):
        return ["must be a string"]
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    classes = [any(c.islower() for c in password), any(c.isupper() for c in password),
               any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
    if sum(classes) < 2:
        problems.append("must mix at least two of: lower case, upper case, digits, symbols")
    return problems


def require_strong_password(password: Any, field: str = "password") -> str:
    """``password`` when it meets the policy (at least 12 characters, not all one kind of
    character); a 400 ``validation_error`` naming ``field`` otherwise. Wraps every password
    a user sets or changes."""
    problems = password_problems(password)
    if problems:
        raise RequestValidationError([{"field": field, "message": p, "type": "weak_password"} for p in problems])
    return password


def secure_password_hash(password: str) -> str:
    """A slow salted hash of ``password`` (werkzeug's default: scrypt)."""
    return generate_password_hash(password)


class PasswordCheck:
    """The result of :func:`verify_password`: true when the password matches;
    ``needs_rehash`` when the stored value is a legacy (plain or fast) hash."""

    __slots__ = ("ok", "needs_rehash")

    def __init__(self, ok: bool, needs_rehash: bool = False) -> None:
        self.ok, self.needs_rehash = ok, ok and needs_rehash

    def __bool__(self) -> bool:
        return self.ok


def verify_password(stored: str | None, given: Any) -> PasswordCheck:
    """Check ``given`` against ``stored``: a werkzeug hash, or a legacy plain/md5/sha1/sha256
    value (then ``needs_rehash`` tells the caller to store :func:`secure_password_hash` instead)."""
    if not stored or not isinstance(given, str):
        return PasswordCheck(False)
    if re.match(r"^(scrypt|pbkdf2|argon2|bcrypt)[:$]", stored):
        try:
            return PasswordCheck(check_password_hash(stored, given))
        except ValueError:
            return PasswordCheck(False)
    legacy = _LEGACY_HASHES.get(len(stored))
    if legacy is not None and re.fullmatch(r"[0-9a-fA-F]+", stored):
        digest = legacy(given.encode()).hexdigest()
        return PasswordCheck(hmac.compare_digest(digest, stored.lower()), needs_rehash=True)
    return PasswordCheck(hmac.compare_digest(stored.encode(), given.encode()), needs_rehash=True)


def check_and_upgrade_password(obj: Any, attribute: str, given: Any) -> bool:
    """Verify ``given`` against ``obj.<attribute>``; a legacy hash that matches is replaced
    by a slow salted one (saved through the object's SQLAlchemy session, if any), so that no
    user is locked out and none stays on the weak hash."""
    if obj is None:
        return False
    result = verify_password(getattr(obj, attribute, None), given)
    if result.needs_rehash:
        setattr(obj, attribute, secure_password_hash(given))
        _save(obj)
    return bool(result)


def _save(obj: Any) -> None:
    try:
        from sqlalchemy.orm import object_session
    except ImportError:  # not a SQLAlchemy app: the caller keeps the object
        return
    try:
        session = object_session(obj)
    except Exception:  # not a mapped object
        return
    if session is not None:
        session.commit()


# --- logging ------------------------------------------------------------------------------------

_REDACTED_WORDS = r"password|passwd|pwd|secret|token|api[_-]?key|authorization|access[_-]?key|private[_-]?key"
_REDACTIONS = [
    (re.compile(rf"(?i)((?:{_REDACTED_WORDS})[\"']?\s*[:=]\s*[\"']?)([^\s\"',;}}]+)"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[REDACTED]"),
]


def redact(text: str) -> str:
    """``text`` with password/token/secret values and bearer tokens replaced by ``[REDACTED]``."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter that redacts secrets from the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error path
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction(logger: logging.Logger) -> logging.Logger:
    """Attach :class:`RedactSecrets` to ``logger`` and its handlers (once)."""
    for target in [logger, *logger.handlers]:
        if not any(isinstance(f, RedactSecrets) for f in target.filters):
            target.addFilter(RedactSecrets())
    return logger


def get_logger(name: str) -> logging.Logger:
    """The module logger for ``name``, with secret redaction."""
    return install_log_redaction(logging.getLogger(name))


# --- Socket.IO ------------------------------------------------------------------------------------

_socket_users: dict[str, int | str] = {}
_room_check: Callable[[int | str, Any], bool] | None = None


def authenticate_socket(auth: Any = None) -> int | str:
    """Call first thing in the ``connect`` handler: the token comes from the client's
    ``auth={"token": ...}`` or the ``token`` query parameter; a bad one refuses the connection."""
    from flask_socketio import ConnectionRefusedError

    token = auth.get("token") if isinstance(auth, dict) else None
    token = token or request.args.get("token") or _bearer_token()
    if not token:
        raise ConnectionRefusedError("unauthorized")
    try:
        claims = decode_token(str(token))
    except HTTPException:
        raise ConnectionRefusedError("unauthorized") from None
    user_id = _as_user_id(claims["sub"])
    _socket_users[request.sid] = user_id
    g.user_id = user_id
    return user_id


def socket_identity() -> int | str | None:
    """The identity authenticated on this Socket.IO connection, if any."""
    return _socket_users.get(getattr(request, "sid", None))


def set_room_membership_check(check: Callable[[int | str, Any], bool]) -> None:
    """Install the app's rule ``check(user_id, room) -> bool`` for joining/reading a room."""
    global _room_check
    _room_check = check


def room_allowed(room: Any) -> bool:
    """Whether this Socket.IO connection is authenticated and may join, read or write ``room``.

    The app's rule decides (:func:`set_room_membership_check`). Without one, a room named
    after a user (``user:7``, ``user_7``) is open to that user only, and any other room is
    refused: membership is the app's notion, so nothing is opened by guessing. Setting
    ``SOCKETIO_OPEN_ROOMS = True`` (app config or environment) lets any authenticated user in."""
    user_id = socket_identity()
    if user_id is None:
        return False
    if _room_check is not None:
        return bool(_room_check(user_id, room))
    match = re.fullmatch(r"(?i)user[:_-](\w+)", str(room))
    if match is not None:
        return match.group(1) == str(user_id)
    return _open_rooms()


def _open_rooms() -> bool:
    value = current_app.config.get("SOCKETIO_OPEN_ROOMS", os.environ.get("SOCKETIO_OPEN_ROOMS", ""))
    return value is True or str(value).strip().lower() in ("1", "true", "yes")
