"""What a route's handler reads, and the requests ``verify`` sends it: an empty one, a
wrongly typed one and a valid one built from the handler's own pydantic schema.

Runs inside the probe subprocess (:mod:`audit.probe`), next to the live app: the handler
function is at hand, so the models it uses are the real classes (``func.__globals__``),
and a valid body is an instance built by polyfactory's ``ModelFactory`` for that model
(every field, optional ones too, inside its constraints: literals, lengths, bounds), with
the field's name as a hint where a type says too little: an ``email`` gets an address, a
``password`` a strong one, a ``url`` a public one, a plain number a small positive one
(handlers often check ``page >= 1`` beyond their schema). Values are seeded; a counter
keeps e-mails and user names unique, so a second valid ``register`` does not collide.
A model polyfactory cannot build falls back to a body built from its JSON schema.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["PNG_BYTES", "HandlerInputs", "handler_inputs", "required_fields", "sample_value", "valid_data",
           "valid_payload", "wrong_payload"]

# request attributes -> where the data comes from
_REQUEST_SOURCES = {
    "json": "json", "get_json": "json", "data": "json", "get_data": "json",
    "args": "query", "form": "form", "files": "files", "values": "query",
}
# A small valid PNG (1x1 pixel): uploads are sent as an image, the most commonly allowed type.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
_unique = itertools.count(1)


@dataclass
class HandlerInputs:
    """Where a handler reads request data from, and the pydantic models that check it."""

    sources: set[str] = field(default_factory=set)  # json | query | form | files
    models: dict[str, Any] = field(default_factory=dict)  # source -> pydantic model class
    file_fields: list[str] = field(default_factory=list)  # names read from request.files

    @property
    def reads(self) -> bool:
        return bool(self.sources)

    def schema(self, source: str) -> dict[str, Any] | None:
        """The JSON schema of the model reading ``source`` (None when there is none)."""
        model = self.models.get(source)
        if model is None:
            return None
        try:
            return model.model_json_schema()
        except Exception:  # a model with a type JSON schema cannot express
            return None

    def describe(self) -> str:
        parts = []
        for source in sorted(self.sources):
            model = self.models.get(source)
            parts.append(f"{source}:{model.__name__}" if model is not None else source)
        return ";".join(parts)


def handler_inputs(func: Any, framework: str = "flask") -> HandlerInputs:
    """Read ``func``'s source: which ``request`` attributes it reads, which pydantic models
    it names (resolved in its module's globals), and where each model's data comes from."""
    found = HandlerInputs()
    if framework == "fastapi":
        return _fastapi_inputs(func, found)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return found
    models = _models_named(tree, func)
    fed = _request_fed(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "request" \
                and node.attr in _REQUEST_SOURCES:
            found.sources.add(_REQUEST_SOURCES[node.attr])
        if isinstance(node, ast.Call):
            _model_call(node, models, found, fed)
    for node in ast.walk(tree):  # request.files["avatar"] / request.files.get("avatar")
        name = _files_key(node)
        if name and name not in found.file_fields:
            found.file_fields.append(name)
    if "files" in found.sources and not found.file_fields:
        found.file_fields.append("file")
    return found


def _models_named(tree: ast.AST, func: Any) -> dict[str, Any]:
    try:
        from pydantic import BaseModel
    except ImportError:
        return {}
    scope = dict(getattr(func, "__globals__", {}))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return {name: scope[name] for name in names
            if isinstance(scope.get(name), type) and issubclass(scope[name], BaseModel) and scope[name] is not BaseModel}


def _model_call(call: ast.Call, models: dict[str, Any], found: HandlerInputs, fed: set[str]) -> None:
    """``validate_json(M)``, ``M.model_validate(request.args...)``, ``M(**request.get_json())``,
    ``M.model_validate(body)`` where ``body`` came from the request. A model filled from a
    literal the handler assembles (``M.model_validate({"size": len(data)})``) checks the
    handler's own values, not the request's."""
    named = [n.id for n in ast.walk(call) if isinstance(n, ast.Name) and n.id in models]
    if not named:
        return
    func_name = ast.unparse(call.func).lower()
    args = [*call.args, *(k.value for k in call.keywords)]
    if args and all(isinstance(a, (ast.Dict, ast.Constant)) for a in args):
        return
    text = ast.unparse(call).lower()
    from_request = "request" in text or re.search(r"validate|parse|load", func_name.rsplit(".", 1)[-1]) \
        and not func_name.endswith(("model_validate", "parse_obj")) \
        or any(isinstance(n, ast.Name) and n.id in fed for n in ast.walk(call))
    if not from_request:
        return
    if "args" in text or "query" in func_name:
        source = "query"
    elif "form" in text:
        source = "form"
    else:
        source = "json"
    for name in named:
        if name.lower().endswith("query"):
            source = "query"
        found.models.setdefault(source, models[name])
        found.sources.add(source)


def _request_fed(tree: ast.AST) -> set[str]:
    """Names assigned from an expression that reads ``request`` (one level: ``body = request.json``)."""
    fed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and "request." in ast.unparse(node.value):
            fed |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return fed


def _files_key(node: ast.AST) -> str | None:
    def is_files(value: ast.AST) -> bool:
        return (isinstance(value, ast.Attribute) and value.attr == "files" and isinstance(value.value, ast.Name)
                and value.value.id == "request")

    if isinstance(node, ast.Subscript) and is_files(node.value) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getlist") \
            and is_files(node.func.value) and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value)
    return None


def _fastapi_inputs(func: Any, found: HandlerInputs) -> HandlerInputs:
    try:
        from pydantic import BaseModel

        parameters = inspect.signature(func).parameters.values()
    except (ImportError, TypeError, ValueError):
        return found
    for parameter in parameters:
        annotation = parameter.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.sources.add("json")
            found.models.setdefault("json", annotation)
    return found


# --- values -------------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _resolve(target, root) | {k: v for k, v in schema.items() if k != "$ref"}
    for key in ("anyOf", "oneOf"):  # Optional[X] and unions: the first non-null branch
        branches = [b for b in schema.get(key, []) if b.get("type") != "null"]
        if branches:
            merged = {k: v for k, v in schema.items() if k != key}
            return _resolve(branches[0], root) | merged
    if "allOf" in schema and schema["allOf"]:
        return _resolve(schema["allOf"][0], root) | {k: v for k, v in schema.items() if k != "allOf"}
    return schema


def _hinted_string(name: str, fmt: str = "") -> str | None:
    """A string the field's name (or JSON-schema format) asks for, or None when it says nothing."""
    n = next(_unique)
    word = name.lower()
    if fmt == "email" or "email" in word:
        value = f"probe{n}@example.com"
    elif fmt in ("date-time",) or word.endswith(("_at", "_time", "datetime")) or word in ("starts", "ends", "when"):
        value = (datetime.now(timezone.utc) + timedelta(days=7)).replace(microsecond=0).isoformat()
    elif fmt == "date" or word.endswith("date"):
        value = (datetime.now(timezone.utc) + timedelta(days=7)).date().isoformat()
    elif fmt in ("uri", "url") or re.search(r"(^|_)(url|uri|link|href|website|webhook)($|_)", word):
        value = "https://93.184.215.14/"  # a public address written as an IP: no DNS needed
    elif "password" in word or word in ("pwd", "passwd"):
        value = "Probe-Passw0rd-2026!"
    elif re.search(r"(^|_)(user_?name|login|handle|nick)", word):
        value = f"probe_user_{n}"
    elif fmt == "uuid" or word.endswith("uuid"):
        value = f"00000000-0000-4000-8000-{n:012d}"
    else:
        value = None
    return value


def _string_for(name: str, schema: dict[str, Any]) -> str:
    value = _hinted_string(name, schema.get("format", "")) or f"probe {name.lower() or 'text'} {next(_unique)}"
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if len(value) < low:
        value = value + "x" * (low - len(value))
    if high is not None and len(value) > high:
        value = value[:high]
    return value


def sample_value(name: str, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A value ``schema`` accepts for the field ``name`` (its name guides strings)."""
    root = root or schema
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2) - 1)
        return int(max(low, min(1, high)))
    if kind == "number":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 0.5)
        return float(max(low, 1.0))
    if kind == "boolean":
        return True
    if kind == "array":
        item = sample_value(name.rstrip("s"), schema.get("items", {}), root)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "object":
        return valid_payload(schema, root)
    if kind == "null":
        return None
    if kind == "string" or kind is None:  # Any: a string fits most handlers
        return _string_for(name, schema)
    return None


def valid_data(model: Any, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Valid data for the pydantic ``model`` (JSON-ready), built by polyfactory; the JSON-schema
    builder (:func:`valid_payload`) when polyfactory cannot build the model."""
    try:
        return _factory(model).build().model_dump(mode="json")
    except Exception:  # a type polyfactory cannot produce, a validator it cannot satisfy
        return valid_payload(schema if schema is not None else model.model_json_schema())


def _factory(model: Any) -> Any:
    from polyfactory import Use
    from polyfactory.factories.pydantic_factory import ModelFactory

    class ProbeFactory(ModelFactory):
        __is_base_factory__ = True
        __allow_none_optionals__ = False  # optional fields get values: handlers often need them
        __random_seed__ = 2026

        @classmethod
        def get_provider_map(cls) -> dict[Any, Any]:
            # small positive numbers and plain words: what an app's own checks beyond its schema
            # (page >= 1, a sensible quantity) accept; constrained fields keep polyfactory's values
            return {**super().get_provider_map(), int: lambda: 1, float: lambda: 1.0, bool: lambda: True,
                    str: lambda: f"probe text {next(_unique)}", Any: lambda: f"probe text {next(_unique)}"}

    overrides = {}
    for name, info in model.model_fields.items():
        annotation = str(info.annotation)
        if "str" in annotation or "Any" in annotation:
            hinted = _hinted_string(name)
            if hinted is not None:
                overrides[name] = Use(lambda value=hinted: value)
    return type(f"{model.__name__}ProbeFactory", (ProbeFactory,), {"__model__": model, **overrides})


def valid_payload(schema: dict[str, Any], root: dict[str, Any] | None = None) -> dict[str, Any]:
    """A body with every property of an object schema (optional ones too: handlers often
    need fields their schema left optional)."""
    root = root or schema
    schema = _resolve(schema, root)
    return {name: sample_value(name, prop, root) for name, prop in schema.get("properties", {}).items()}


_WRONG = {"string": 12345, "integer": "not-a-number", "number": "not-a-number", "boolean": "not-a-boolean",
          "array": 7, "object": "not-an-object"}


def wrong_payload(schema: dict[str, Any] | None, for_query: bool = False) -> Any:
    """A body whose typed fields all carry a value of the wrong type; when nothing is typed
    (no schema, or only ``Any`` fields), a JSON array instead of an object (None for a query,
    where every value is a string anyway)."""
    wrong: dict[str, Any] = {}
    if schema:
        for name, prop in _resolve(schema, schema).get("properties", {}).items():
            prop = _resolve(prop, schema)
            kind = prop.get("type")
            if for_query and kind not in ("integer", "number", "boolean"):
                continue  # a query string value is a string: only numbers and flags can be wrong
            if kind in _WRONG:
                wrong[name] = _WRONG[kind] if not for_query else "not-a-" + kind
    if wrong:
        return wrong
    return None if for_query else ["not", "an", "object"]


def required_fields(schema: dict[str, Any] | None) -> list[str]:
    """The fields a schema requires (an empty request must be refused only when there are some)."""
    return list(_resolve(schema, schema).get("required", [])) if schema else []
