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


def _empty_file_name(test: cst.BaseExpression, reads: dict[str, str]) -> str | None:
    """The request field of ``f.filename == ""`` / ``not f.filename`` (a file sent without one)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        target = test.expression
    elif (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
          and isinstance(test.comparisons[0].operator, cst.Equal) and string_value(test.comparisons[0].comparator) == ""):
        target = test.left
    else:
        return None
    if m.matches(target, m.Attribute(value=m.Name(), attr=m.Name("filename"))):
        return reads.get(target.value.value)
    return None


def _missing_field(test: cst.BaseExpression, reads: dict[str, str]) -> str | None:
    """The request field an ``if`` finds missing: ``"k" not in request.files``, ``f is None``,
    ``not f`` (``f = request.files.get("k")``), ``not request.form.get("k")``; either side of
    an ``or`` (``f is None or f.filename == ""``)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        sides = [_missing_field(test.left, reads) or _empty_file_name(test.left, reads),
                 _missing_field(test.right, reads) or _empty_file_name(test.right, reads)]
        return sides[0] if sides[0] and sides[0] == sides[1] else None  # both sides: that field is missing
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


# Client errors that a storage or service layer raises, and the status they mean: a catch-all
# ``except`` of a route handler that answers 500 answers these instead.
_CLIENT_ERRORS = (("PermissionError", 403, {"PermissionError", "OSError", "IOError", "EnvironmentError"}),
                  ("LookupError", 404, {"LookupError"}))
_CATCH_ALL = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
# Calls whose PermissionError / LookupError is the server's problem (a file it cannot write, a
# process, a socket), not the client's.
_IO_ROOTS = {"os", "open", "subprocess", "shutil", "pathlib", "Path", "io", "tempfile", "socket", "requests",
             "urllib", "httpx", "sqlite3"}
_LOG_METHODS = {"exception", "error", "warning", "warn", "critical", "info", "debug", "log"}


def _caught(handler: cst.ExceptHandler) -> set[str]:
    """The exception names an ``except`` clause names (``{"*"}`` for a bare ``except:``)."""
    if handler.type is None:
        return {"*"}
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    return {dotted(t) for t in types}


def _answers_500(body: cst.BaseSuite) -> bool:
    """The block ends with ``return error_response(500...)`` and returns nowhere else."""
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return False
    last = body.body[-1]
    if not (isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 and isinstance(last.body[0], cst.Return)):
        return False
    value = last.body[0].value
    if not (isinstance(value, cst.Call) and dotted(value.func) == "error_response" and value.args
            and m.matches(value.args[0].value, m.Integer("500"))):
        return False
    return not any(findall(stmt, m.Return() | m.Raise()) for stmt in body.body[:-1])


def _is_log_call(stmt: cst.BaseStatement) -> bool:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)):
        return False
    call = stmt.body[0].value
    if not isinstance(call, cst.Call):
        return False
    name = dotted(call.func)
    return name == "print" or ("." in name and name.rsplit(".", 1)[1] in _LOG_METHODS)


class UnifyErrorsCommand(MigrationCommand):
    """Rewrite error responses to ``error_response(status, message)``, the app's single JSON
    envelope ``{"success": false, "error": {"code", "message"}}``:
    ``return jsonify({"error": "Not found"}), 404``, ``return {"msg": ...}, 400``,
    ``make_response(jsonify(...), 409)``; and in ``except`` blocks any response that carries
    the exception (``str(e)``, ``repr(e)``, ``traceback.format_exc()``) becomes a 500 with a
    generic message (the exception is logged by the error handler instead). ``abort(code,
    str(e))`` keeps the status and loses the text. In a route handler, a catch-all ``except``
    (``Exception``, bare) that answers 500 is preceded by ``except PermissionError`` (403) and
    ``except LookupError`` (404) clauses doing the same work when the ``try`` calls the project's
    own modules (relative imports) and no file, process or network API: a storage layer's "not
    yours" and "no such record" are the client's errors, not the server's (logging calls are
    not copied)."""

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
        self._in_route: list[bool] = []  # per enclosing function: whether it is a route handler

    def visit_Module(self, node: cst.Module) -> None:
        # names bound by the project's own (relative) imports: the layer below the route handlers
        self._project_names = {(a.asname.name.value if a.asname else dotted(a.name).split(".")[0])
                               for imp in findall(node, m.ImportFrom(relative=[m.AtLeastN(n=1)]))
                               if isinstance(imp.names, (list, tuple)) for a in imp.names if isinstance(a, cst.ImportAlias)
                               and (a.asname is None or isinstance(a.asname.name, cst.Name))}
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
        self._in_route.append(bool(self.routes_of(node)))
        registered = any(dotted(d.decorator).rsplit(".", 1)[-1] in _HANDLER_REGISTRARS for d in node.decorators)
        self._in_error_handler.append(registered or node.name.value in self._error_handlers)

    def leave_FunctionDef(self, original_node, updated_node):
        self._in_error_handler.pop()
        self._request_reads.pop()
        self._in_route.pop()
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

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        if not (self._in_route and self._in_route[-1]):
            return updated_node
        handlers = list(updated_node.handlers)
        index = next((i for i, h in enumerate(handlers) if _caught(h) & (_CATCH_ALL | {"*"})), None)
        if index is None or not _answers_500(handlers[index].body):
            return updated_node
        roots = {dotted(c.func).split(".")[0] for c in findall(updated_node.body, m.Call())}
        if not roots & self._project_names or roots & _IO_ROOTS:
            return updated_node  # only errors raised by the project's own layer below are the client's
        earlier = set().union(*(_caught(h) for h in handlers[:index]))
        catch_all = handlers[index]
        work = [stmt for stmt in catch_all.body.body[:-1] if not _is_log_call(stmt)]
        added = []
        for exception, status, covered in _CLIENT_ERRORS:
            if earlier & covered:
                continue
            answer = cst.parse_statement(f"return error_response({status})")
            body = catch_all.body.with_changes(body=[*work, answer])
            name = catch_all.name
            if name is not None and isinstance(name.name, cst.Name) and not findall(
                    cst.IndentedBlock(body=work), m.Name(name.name.value)):
                name = None  # the copied work does not use the exception
            added.append(catch_all.with_changes(type=cst.Name(exception), name=name, body=body,
                                                leading_lines=()))
        if not added:
            return updated_node
        self.note(f"line {self.line_of(original_node)}: the catch-all except answering 500 now lets "
                  f"{' and '.join(e for e, s, _ in _CLIENT_ERRORS if not earlier & _)} answer "
                  "403/404 (a permission or lookup error of the layer below is the client's error)")
        return updated_node.with_changes(handlers=[*handlers[:index], *added, *handlers[index:]])

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
