"""UnifyErrorsCommand: every error response goes through one envelope; no exception text."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted, string_value

_MESSAGE_KEYS = ("message", "error", "msg", "detail", "description", "reason")
_LEAKY_CALLS = re.compile(r"(^|\.)(format_exc|format_exception|print_exc|exc_info)$")


def _status(node: cst.CSTNode) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value)
    name = dotted(node)  # HTTPStatus.NOT_FOUND
    if name.startswith(("HTTPStatus.", "http.HTTPStatus.")):
        from http import HTTPStatus

        member = name.rsplit(".", 1)[1]
        return HTTPStatus[member].value if member in HTTPStatus.__members__ else None
    return None


# Decorators/calls that register a function answering an error (Flask, Flask-Login, Flask-Limiter).
_HANDLER_REGISTRARS = {"errorhandler", "app_errorhandler", "register_error_handler", "unauthorized_handler",
                       "needs_refresh_handler", "request_filter"}


_REQUEST_SOURCES = {"files", "form", "args", "values", "json"}


def _request_field(node: cst.CSTNode) -> str | None:
    """``"file"`` for ``request.files.get("file")`` / ``request.form["file"]`` / ``request.get_json().get("k")``."""
    if isinstance(node, cst.Call) and m.matches(node.func, m.Attribute(attr=m.Name("get"))) and node.args:
        holder, key = node.func.value, string_value(node.args[0].value)
    elif isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        holder, key = node.value, string_value(node.slice[0].slice.value)
    else:
        return None
    source = dotted(holder)
    if key and (source in {f"request.{s}" for s in _REQUEST_SOURCES} or source == "request.get_json"):
        return key
    return None


def _request_reads(func: cst.FunctionDef) -> dict[str, str]:
    reads = {}
    for assign in findall(func.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
        key = _request_field(assign.value)
        if key:
            reads[assign.targets[0].target.value] = key
    return reads


def _missing_field(test: cst.BaseExpression, reads: dict[str, str]) -> str | None:
    """The request field an ``if`` finds missing: ``"k" not in request.files``, ``f is None``,
    ``not f`` (``f = request.files.get("k")``), ``not request.form.get("k")``."""
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.operator, cst.NotIn) and dotted(target.comparator) in {f"request.{s}" for s in _REQUEST_SOURCES}:
            return string_value(test.left)
        if isinstance(target.operator, cst.Is) and m.matches(target.comparator, m.Name("None")):
            test = test.left
        else:
            return None
    elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    else:
        return None
    if isinstance(test, cst.Name):
        return reads.get(test.value)
    return _request_field(test)


class UnifyErrorsCommand(MigrationCommand):
    """Rewrite error responses to ``error_response(status, message)``, the app's single JSON
    envelope ``{"success": false, "error": {"code", "message"}}``:
    ``return jsonify({"error": "Not found"}), 404``, ``return {"msg": ...}, 400``,
    ``make_response(jsonify(...), 409)``; and in ``except`` blocks any response that carries
    the exception (``str(e)``, ``repr(e)``, ``traceback.format_exc()``) becomes a 500 with a
    generic message (the exception is logged by the error handler instead). ``abort(code,
    str(e))`` keeps the status and loses the text."""

    DESCRIPTION = "Route every error response through one JSON envelope; never send exception text."
    NAME = "unify-errors"
    ORDER = 90
    FIXES = (Category.INCONSISTENT_ERROR,)
    APPLIES_TO = r"return|abort"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._exception_names: list[str] = []
        self._derived: list[int] = []
        self._error_handlers: set[str] = set()  # functions registered by call as error handlers
        self._in_error_handler: list[bool] = []
        self._request_reads: list[dict[str, str]] = []  # per function: local name -> request field it holds
        self._missing: list[str | None] = []  # per enclosing if: the request field it finds missing

    def visit_Module(self, node: cst.Module) -> None:
        # app.register_error_handler(404, not_found) / login_manager.unauthorized_handler(fn)
        self._error_handlers = {dotted(c.args[-1].value) for c in findall(node, m.Call(func=m.Attribute(
            attr=m.Name(m.MatchIfTrue(lambda n: n in _HANDLER_REGISTRARS))))) if c.args}

    def visit_If(self, node: cst.If) -> None:
        self._missing.append(_missing_field(node.test, self._request_reads[-1] if self._request_reads else {}))

    def leave_If(self, original_node, updated_node):
        self._missing.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._request_reads.append(_request_reads(node))
        registered = any(dotted(d.decorator).rsplit(".", 1)[-1] in _HANDLER_REGISTRARS for d in node.decorators)
        self._in_error_handler.append(registered or node.name.value in self._error_handlers)

    def leave_FunctionDef(self, original_node, updated_node):
        self._in_error_handler.pop()
        self._request_reads.pop()
        return updated_node

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        name = node.name.name.value if node.name and isinstance(node.name.name, cst.Name) else ""
        self._exception_names.append(name)
        self._derived.append(0)
        if name:  # message = f"failed: {e}" carries the exception as well
            for assign in findall(node.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
                if self._leaks(assign.value):
                    self._exception_names.append(assign.targets[0].target.value)
                    self._derived[-1] += 1

    def leave_ExceptHandler(self, original_node, updated_node):
        del self._exception_names[len(self._exception_names) - 1 - self._derived.pop():]
        return updated_node

    # --- what a response body says ---------------------------------------------------------------

    def _leaks(self, node: cst.CSTNode) -> bool:
        names = {n for n in self._exception_names if n}
        for found in findall(node, m.Name() | m.Call()):
            if isinstance(found, cst.Name) and found.value in names:
                return True
            if isinstance(found, cst.Call) and _LEAKY_CALLS.search(dotted(found.func)):
                return True
        return False

    def _message_and_code(self, body: cst.CSTNode) -> tuple[cst.BaseExpression | None, str | None, bool]:
        """(message expression, code, recognised) of a response body."""
        if isinstance(body, cst.Call) and dotted(body.func).rsplit(".", 1)[-1] in ("jsonify", "make_response"):
            positional = [a.value for a in body.args if a.keyword is None]
            if positional:
                return self._message_and_code(positional[0])
            fields = {a.keyword.value: a.value for a in body.args if a.keyword}
            return self._from_fields(fields)
        if isinstance(body, cst.Dict):
            fields = {}
            for element in body.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key):
                    fields[string_value(element.key)] = element.value
            return self._from_fields(fields)
        if string_value(body) is not None or isinstance(body, cst.FormattedString):
            return body, None, True
        return None, None, False

    def _from_fields(self, fields: dict[str, cst.BaseExpression]) -> tuple[cst.BaseExpression | None, str | None, bool]:
        self._details = next((fields[k] for k in ("details", "errors", "fields") if k in fields), None)
        code = string_value(fields.get("code")) if "code" in fields else None
        error = fields.get("error")
        if isinstance(error, cst.Dict):  # already {"error": {"code": ..., "message": ...}}
            return self._from_fields({string_value(e.key): e.value for e in error.elements
                                      if isinstance(e, cst.DictElement) and string_value(e.key)})
        for key in _MESSAGE_KEYS:
            if key in fields:
                return fields[key], code if code and re.fullmatch(r"[a-z][a-z0-9_]*", code) else None, True
        return None, code, True

    def _envelope(self, status: int, body: cst.CSTNode) -> cst.Call | None:
        self._details = None
        message, code, recognised = self._message_and_code(body)
        details = self._details
        if details is not None and status == 400:
            code = "validation_error"  # pydantic's exc.errors(): one entry per bad field
        elif details is not None and self._leaks(details) and not m.matches(
                details, m.Call(func=m.Attribute(attr=m.Name("errors")))):
            details = None
        if not recognised:
            return None
        if message is not None and (self._leaks(message) or status >= 500):
            message = None
        args = [cst.Arg(cst.Integer(str(status)))]
        if message is not None:
            args.append(cst.Arg(message))
        keywords = [("code", cst.SimpleString(f'"{code}"') if code else None),
                    ("details", details if status == 400 else None)]
        for name, value in keywords:
            if value is not None:
                call = cst.ensure_type(cst.parse_expression(f"f({name}=x)"), cst.Call)
                args.append(call.args[0].with_changes(value=value))
        args = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args[:-1]] + [args[-1]]
        self.import_security("error_response")
        return cst.Call(func=cst.Name("error_response"), args=args)

    # --- rewrites --------------------------------------------------------------------------------

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return | cst.Raise:
        value = updated_node.value
        if value is None:
            return updated_node
        if isinstance(value, cst.Call) and dotted(value.func) == "error_response":
            return updated_node
        status, body = None, value
        if isinstance(value, cst.Tuple) and 2 <= len(value.elements) <= 3:
            status, body = _status(value.elements[1].value), value.elements[0].value
        elif isinstance(value, cst.Call) and dotted(value.func).rsplit(".", 1)[-1] == "make_response":
            positional = [a.value for a in value.args if a.keyword is None]
            if len(positional) >= 2:
                status, body = _status(positional[1]), positional[0]
        if status is None and self._exception_names and self._leaks(value):
            status = 500  # an except block answering with the exception text (and a 200)
        if status is None or status < 400:
            return updated_node
        # an error handler answers the error: raising it again from there would loop
        if status in (401, 403) and not self._exception_names and not (self._in_error_handler and self._in_error_handler[-1]):
            refusal = self._refusal(status, body)
            if refusal is not None:
                return refusal
        envelope = self._envelope(status, body)
        missing = next((k for k in reversed(self._missing) if k), None)
        if envelope is not None and status == 400 and missing and not any(
                a.keyword and a.keyword.value in ("code", "details") for a in envelope.args):
            # if "file" not in request.files: return ..., 400 -> a validation error naming the field
            extra = cst.ensure_type(cst.parse_expression(
                f'f(code="validation_error", details=[{{"field": "{missing}", "message": "Field required", '
                f'"type": "missing"}}])'), cst.Call).args
            args = [*envelope.args[:-1], envelope.args[-1].with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), *extra]
            envelope = envelope.with_changes(args=args)
        return updated_node.with_changes(value=envelope) if envelope is not None else updated_node

    def _refusal(self, status: int, body: cst.CSTNode) -> cst.Raise | None:
        """``raise Unauthorized("missing token")``: a refusal reads as one (auth guards are
        recognised by it), and the app's error handler renders the same envelope."""
        self._details = None
        message, code, recognised = self._message_and_code(body)
        if not recognised or code or self._details is not None or (message is not None and self._leaks(message)):
            return None
        name = "Unauthorized" if status == 401 else "Forbidden"
        self.add_needed_import("werkzeug.exceptions", name)
        args = [cst.Arg(message)] if message is not None else []
        return cst.Raise(exc=cst.Call(func=cst.Name(name), args=args))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        # abort(500, str(e)) / abort(400, description=f"bad: {e}") -> abort(500)
        if dotted(updated_node.func) not in ("abort", "flask.abort") or len(updated_node.args) < 2:
            return updated_node
        if any(self._leaks(a.value) for a in updated_node.args[1:]):
            return updated_node.with_changes(args=[updated_node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        return updated_node
