"""An endpoint found by a framework gatherer, before its flags are judged.

Both gatherers (:mod:`.flask`, :mod:`.fastapi`) produce :class:`Endpoint` objects; the
route flags are then computed in one place (:mod:`.flags`), so Flask and FastAPI routes
are judged by the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .facts import FileFacts, FunctionFacts

__all__ = ["Endpoint", "GuardRef", "join_flask_rule"]


@dataclass(frozen=True)
class GuardRef:
    """A decorator, dependency or before_request function as written in ``module``."""

    module: str
    value: Any  # Ref or Call summary
    scope: str = ""
    where: str = "decorator"  # decorator, before_request, dependency, middleware, class decorators


@dataclass
class Endpoint:
    method: str
    path: str
    framework: str
    file: FileFacts
    function: FunctionFacts
    handler: str
    guards: list[GuardRef] = field(default_factory=list)
    limited: bool = False  # a limit decorator, blueprint limit or app default applies
    exempt: bool = False  # limiter.exempt
    typed_reads: list[str] = field(default_factory=list)  # FastAPI: parameters validated by their type
    untyped_reads: list[str] = field(default_factory=list)  # FastAPI: parameters without a usable type
    uploads: bool = False


def join_flask_rule(prefix: str | None, rule: str) -> str:
    """Join a blueprint prefix and a rule exactly as Flask's BlueprintSetupState.add_url_rule does."""
    if prefix is not None:
        if rule:
            return "/".join((prefix.rstrip("/"), rule.lstrip("/")))
        return prefix
    return rule
