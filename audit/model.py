"""The workbench's vocabulary: every data shape that rules, adapters, codemods
and reports exchange lives here, and nowhere else.

CONTRACT.md section 3's category names appear in exactly one place in code:
the :class:`Category` enum below.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

__all__ = [
    "Category",
    "FileSkip",
    "Finding",
    "Location",
    "Route",
    "Severity",
    "ROUTE_COLUMNS",
    "FINDING_COLUMNS",
    "make_fingerprint",
]


class Category(str, Enum):
    """The finding categories of CONTRACT.md section 3 (values are the contract's names)."""

    AUTH_BYPASS = "auth-bypass"
    MISSING_AUTH = "missing-auth"
    UNVALIDATED_INPUT = "unvalidated-input"
    DEBUG_LOGGING = "debug-logging"
    MOCK_DATA = "mock-data"
    MISSING_RATE_LIMIT = "missing-rate-limit"
    HARDCODED_SECRET = "hardcoded-secret"
    SSRF = "ssrf"
    WEAK_PASSWORD = "weak-password"
    UNRESTRICTED_UPLOAD = "unrestricted-upload"
    INCONSISTENT_ERROR = "inconsistent-error"
    INJECTION = "injection"
    BROKEN_IMPORT = "broken-import"
    MISSING_SECURITY_HEADERS = "missing-security-headers"
    WS_UNAUTHORIZED = "ws-unauthorized"
    INSECURE_CONFIG = "insecure-config"
    OTHER = "other"

    def __str__(self) -> str:  # so f-strings and CSV cells show the contract name
        return self.value

    @property
    def plain_label(self) -> str:
        """How a stakeholder report names the category, in plain words."""
        return _PLAIN_LABELS[self]


_PLAIN_LABELS = {
    Category.AUTH_BYPASS: "Places that grant a user identity without checking credentials",
    Category.MISSING_AUTH: "Routes anyone can call without logging in",
    Category.UNVALIDATED_INPUT: "Routes that trust request data without validating it",
    Category.DEBUG_LOGGING: "Debug prints and logs that may leak secrets",
    Category.MOCK_DATA: "Routes that return invented (mock) data",
    Category.MISSING_RATE_LIMIT: "Sensitive routes without a rate limit",
    Category.HARDCODED_SECRET: "Secrets written in the code",
    Category.SSRF: "Server fetches of URLs chosen by the client (SSRF)",
    Category.WEAK_PASSWORD: "Weak password rules or weak password storage",
    Category.UNRESTRICTED_UPLOAD: "File uploads without type, size or name checks",
    Category.INCONSISTENT_ERROR: "Error responses that leak details or differ in shape",
    Category.INJECTION: "Injection risks (SQL, shell, eval)",
    Category.BROKEN_IMPORT: "Imports of project files that do not exist",
    Category.MISSING_SECURITY_HEADERS: "Apps without security headers",
    Category.WS_UNAUTHORIZED: "Chat/websocket handlers without login or room checks",
    Category.INSECURE_CONFIG: "Insecure settings (debug mode, open CORS, TLS off)",
    Category.OTHER: "Other scanner findings",
}


class Severity(str, Enum):
    """Finding severity (also used for confidence), ordered low < medium < high."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]

    @property
    def sarif_level(self) -> str:
        return {"low": "note", "medium": "warning", "high": "error"}[self.value]


@dataclass(frozen=True, order=True)
class Location:
    """A place in the audited tree: a path relative to SRC (forward slashes) and 1-based lines."""

    file: str
    line: int
    end_line: int | None = None


@dataclass
class Route:
    """One (method, path) the app serves; the first fields are routes.csv's contract columns."""

    method: str
    path: str
    file: str
    line: int
    handler: str
    framework: str
    auth: bool = False
    validated: bool = True
    rate_limited: bool = False
    public: bool = False
    categories: tuple[str, ...] = ()
    # Extra columns (after the contract's):
    module: str = ""
    data_access: str = "none"  # "storage" | "direct" | "none"
    sensitive: bool = False
    end_line: int | None = None  # last line of the handler, to attribute findings to routes
    reads: tuple[str, ...] = ()  # request data the handler reads ("json:title", "args:q", "files:avatar", ...)
    guards: tuple[str, ...] = ()  # the auth guards that cover it (qualified names)

    @property
    def key(self) -> str:
        """The route as findings name it: ``"POST /api/messages"``."""
        return f"{self.method} {self.path}"

    def contains(self, file: str, line: int) -> bool:
        """Whether ``file:line`` lies inside this route's handler."""
        return file == self.file and self.line <= line <= (self.end_line or self.line)

    def to_row(self) -> dict[str, Any]:
        # (fields read directly: dataclasses.asdict deep-copies every value, a cost on big maps)
        row = {col: getattr(self, col) for col in ROUTE_COLUMNS}
        row["categories"] = ";".join(sorted(self.categories))
        row["reads"] = ";".join(self.reads)
        row["guards"] = ";".join(self.guards)
        for flag in ("auth", "validated", "rate_limited", "public", "sensitive"):
            row[flag] = "true" if row[flag] else "false"
        return row


ROUTE_COLUMNS = [
    "method", "path", "file", "line", "handler", "framework",
    "auth", "validated", "rate_limited", "public", "categories",
    "module", "data_access", "sensitive", "end_line", "reads", "guards",
]


@dataclass
class Finding:
    """One problem at one place; the fields are findings.csv's contract columns plus extras."""

    rule_id: str
    category: Category
    severity: Severity
    confidence: Severity
    file: str
    line: int
    message: str
    end_line: int | None = None
    route: str = ""  # "POST /api/messages" when inside a route handler
    source: tuple[str, ...] = ("workbench",)  # tools that reported it: workbench, bandit, semgrep
    fingerprint: str = ""
    cwe: int | None = None
    snippet: str = ""  # the stripped source line, used for the fingerprint and in reports
    suppressed: bool = False
    tool_ids: tuple[str, ...] = ()  # every tool's own rule id (B105, python.flask.debug, WB301, ...)
    fixed_by: str | None = None  # the codemod that removes it, if any

    def __post_init__(self) -> None:
        # (class tests first: a map makes tens of thousands of findings, nearly all with enums already)
        if self.category.__class__ is not Category:
            self.category = Category(self.category)
        if self.severity.__class__ is not Severity:
            self.severity = Severity(self.severity)
        if self.confidence.__class__ is not Severity:
            self.confidence = Severity(self.confidence)
        if not self.tool_ids:
            self.tool_ids = (self.rule_id,)
        if not self.fingerprint:
            self.fingerprint = make_fingerprint(self.category, self.file, self.snippet, self.line)

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.end_line)

    def with_(self, **changes: Any) -> "Finding":
        return replace(self, **changes)

    def to_row(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "category": self.category.value,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "file": self.file,
            "line": self.line,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "route": self.route,
            "message": self.message,
            "source": ";".join(self.source),
            "fingerprint": self.fingerprint,
            "cwe": self.cwe if self.cwe is not None else "",
            "suppressed": "true" if self.suppressed else "false",
            "tool_ids": ";".join(self.tool_ids),
            "fixed_by": self.fixed_by or "",
            "snippet": self.snippet,
        }


FINDING_COLUMNS = [
    "rule_id", "category", "severity", "confidence", "file", "line", "end_line",
    "route", "message", "source", "fingerprint",
    "cwe", "suppressed", "tool_ids", "fixed_by", "snippet",
]


def make_fingerprint(category: Category | str, file: str, snippet: str, line: int) -> str:
    """A fingerprint stable across unrelated edits: it hashes the category, file and the
    whitespace-normalised source line, not the line number (unless there is no snippet).
    Findings of several tools at one place share it, which is how they merge."""
    text = " ".join(snippet.split()) if snippet.strip() else f"line:{line}"
    digest = hashlib.sha256(f"{category}|{file}|{text}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class FileSkip:
    """A file the map did not analyse (or analysed only partly), with the reason."""

    file: str
    reason: str  # short machine word: syntax-error, binary, too-large, encoding, symlink-loop, outside-src, ignored, empty, python2
    detail: str = ""

