"""ReplacePrintWithLoggingCommand: debug prints become module-logger calls; secrets never logged."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted

_SECRET = re.compile(r"(?i)(pass(word|wd)?|pwd|secret|token|api_?key|credential|authorization|private_?key|otp|"
                     r"^headers$|^cookies$)")
_NOT_SECRET = re.compile(r"(?i)(_id|_count|_len|_length|_expiry|_ttl|_type)$")
_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
_LOGGER_NAMES = re.compile(r"(^|\.)(logger|log|logging|_log|_logger|LOGGER|LOG)$")
REDACTED = '"[REDACTED]"'


def _names_secret(node: cst.CSTNode) -> bool:
    """Whether an expression reads a password/token/secret (by the names it uses)."""
    for found in findall(node, m.Name() | m.Attribute() | m.SimpleString()):
        if isinstance(found, cst.Name):
            text = found.value
        elif isinstance(found, cst.Attribute):
            text = found.attr.value
        else:
            if not _inside_subscript(node, found):
                continue
            text = found.evaluated_value if isinstance(found.evaluated_value, str) else ""
        if _SECRET.search(text) and not _NOT_SECRET.search(text):
            return True
    return False


def _whole_request(node: cst.CSTNode) -> bool:
    """``request.json``/``request.get_json()``/``request.form``/``request.headers``...: all of it."""
    if isinstance(node, cst.Call):
        node = node.func
    return m.matches(node, m.Attribute(value=m.Name("request"), attr=m.Name(
        m.MatchIfTrue(lambda n: n in ("json", "get_json", "form", "values", "data", "headers", "cookies")))))


def request_payload_names(func: cst.FunctionDef) -> frozenset[str]:
    """Names bound to a whole request body (``data = request.get_json() or {}``)."""
    names = set()
    for assign in findall(func.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
        value = assign.value
        if isinstance(value, cst.BooleanOperation):
            value = value.left
        if _whole_request(value) or (isinstance(value, cst.Call) and dotted(value.func) in (
                "validate_json", "validate_form")):
            names.add(assign.targets[0].target.value)
    return frozenset(names)


def _inside_subscript(root: cst.CSTNode, string: cst.CSTNode) -> bool:
    return any(string in [e.slice.value for e in sub.slice if isinstance(e.slice, cst.Index)]
               for sub in findall(root, m.Subscript()))


def _redact_fstring(node: cst.FormattedString) -> tuple[cst.FormattedString, bool]:
    parts, changed = [], False
    for part in node.parts:
        if isinstance(part, cst.FormattedStringExpression) and _names_secret(part.expression):
            parts.append(cst.FormattedStringText("[REDACTED]"))
            changed = True
        else:
            parts.append(part)
    return node.with_changes(parts=parts), changed


def redact_argument(arg: cst.Arg, payloads: frozenset[str] = frozenset()) -> tuple[cst.Arg, bool]:
    """The argument of a log call with any secret it carries replaced by ``"[REDACTED]"``
    (``payloads``: names holding a whole request body, which may carry a password)."""
    value = arg.value
    if isinstance(value, cst.Name) and value.value in payloads or _whole_request(value):
        return arg.with_changes(value=cst.parse_expression(REDACTED)), True
    if isinstance(value, cst.FormattedString):
        new, changed = _redact_fstring(value)
        return arg.with_changes(value=new), changed
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.Integer)):
        return arg, False
    if _names_secret(value):
        return arg.with_changes(value=cst.parse_expression(REDACTED)), True
    return arg, False


class ReplacePrintWithLoggingCommand(MigrationCommand):
    """Turn ``print(...)``, ``pprint(...)`` and ``traceback.print_exc()`` in application
    code into calls on the module logger (``logger = logging.getLogger(__name__)``, reused
    when the module has one), and redact passwords, tokens and secrets from every log call
    (``logger.info("new password %s", pw)`` logs ``[REDACTED]``). Prints under
    ``if __name__ == "__main__":`` and in ``__main__.py`` (command-line output) stay."""

    DESCRIPTION = "Replace print/pprint/traceback.print_exc with a module logger; redact secrets in logs."
    NAME = "replace-print-with-logging"
    ORDER = 60
    FIXES = (Category.DEBUG_LOGGING,)
    APPLIES_TO = r"print|pprint|\bpp\(|log"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._logger = "logger"
        self._has_logger = False
        self._used = False
        self._main_guard = 0
        self._except_depth = 0
        self._payloads: list[frozenset[str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._payloads.append(request_payload_names(node))

    def leave_FunctionDef(self, original_node, updated_node):
        self._payloads.pop()
        return updated_node

    def visit_Module(self, node: cst.Module) -> bool:
        if self.migration.file.endswith("__main__.py"):
            return False
        for stmt in node.body:
            if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(
                    targets=[m.AssignTarget(target=m.Name())],
                    value=m.Call(func=m.Attribute(attr=m.Name("getLogger")) | m.Name("getLogger")))])):
                self._logger = stmt.body[0].targets[0].target.value
                self._has_logger = True
                break
        return True

    def visit_If(self, node: cst.If) -> None:
        if m.matches(node.test, m.Comparison(left=m.Name("__name__"))):
            self._main_guard += 1

    def leave_If(self, original_node, updated_node):
        if m.matches(original_node.test, m.Comparison(left=m.Name("__name__"))):
            self._main_guard -= 1
        return updated_node

    def visit_ExceptHandler(self, node) -> None:
        self._except_depth += 1

    def leave_ExceptHandler(self, original_node, updated_node):
        self._except_depth -= 1
        return updated_node

    def _log_call(self, level: str, args: list[cst.Arg]) -> cst.Call:
        self._used = True
        return cst.Call(func=cst.Attribute(value=cst.Name(self._logger), attr=cst.Name(level)), args=args)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        callee = dotted(updated_node.func)
        if self._main_guard:
            return updated_node
        if callee == "print":
            return self._from_print(updated_node)
        if callee in ("pprint", "pprint.pprint", "pp", "pprint.pp"):
            self.remove_unused_import("pprint", callee if "." not in callee else None)
            positional = [a for a in updated_node.args if a.keyword is None][:1]
            payloads = self._payloads[-1] if self._payloads else frozenset()
            redacted = [redact_argument(a.with_changes(comma=cst.MaybeSentinel.DEFAULT), payloads) for a in positional]
            if redacted and redacted[0][1]:  # the whole request body: say so instead of logging it
                return self._log_call("debug", [cst.Arg(cst.SimpleString('"request data received (not logged)"'))])
            return self._log_call("debug", _commas([cst.Arg(cst.SimpleString('"%r"'))] + [a for a, _ in redacted]))
        if callee in ("traceback.print_exc", "print_exc"):
            self.remove_unused_import("traceback", None if "." in callee else "print_exc")
            if self._except_depth:
                return self._log_call("exception", [cst.Arg(cst.SimpleString('"unexpected error"'))])
            return self._log_call("error", _commas([cst.Arg(cst.SimpleString('"unexpected error"')),
                                                    cst.ensure_type(cst.parse_expression("f(exc_info=True)"), cst.Call).args[0]]))
        method = callee.rsplit(".", 1)[-1]
        if method in _LOG_METHODS and _LOGGER_NAMES.search(callee.rsplit(".", 1)[0] if "." in callee else ""):
            args, changed = [], False
            payloads = self._payloads[-1] if self._payloads else frozenset()
            for arg in updated_node.args:
                if arg.keyword is None:
                    arg, did = redact_argument(arg, payloads)
                    changed |= did
                args.append(arg)
            if changed:
                self.note(f"line {self.line_of(original_node)}: a secret was removed from a log call")
                return updated_node.with_changes(args=args)
        return updated_node

    def _from_print(self, call: cst.Call) -> cst.Call:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword}
        level = "warning" if "file" in keywords and "stderr" in dotted(keywords["file"]) else "info"
        if any(a.star for a in call.args):
            return call  # print(*items): left as is (rare; the rule still reports it)
        payloads = self._payloads[-1] if self._payloads else frozenset()
        redacted = [redact_argument(a.with_changes(comma=cst.MaybeSentinel.DEFAULT), payloads)[0] for a in positional]
        if len(redacted) == 1 and isinstance(redacted[0].value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
            return self._log_call(level, redacted)
        separator = string_of(keywords.get("sep")) if "sep" in keywords else " "
        if separator is None:
            separator = " "
        template = separator.join(["%s"] * len(redacted)).replace('"', '\\"')
        return self._log_call(level, _commas([cst.Arg(cst.SimpleString(f'"{template}"')), *redacted]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._used or self._has_logger:
            return updated_node
        self.add_needed_import("logging")
        body = list(updated_node.body)
        position = 0
        for index, stmt in enumerate(body):
            if m.matches(stmt, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()])) or (
                    index == 0 and m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString())]))):
                position = index + 1
            elif not isinstance(stmt, cst.SimpleStatementLine) or position:
                break
        logger = cst.parse_statement(f"{self._logger} = logging.getLogger(__name__)")
        logger = logger.with_changes(leading_lines=[cst.EmptyLine()])
        body.insert(position, logger)
        return updated_node.with_changes(body=body)


def string_of(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


def _commas(args: list[cst.Arg]) -> list[cst.Arg]:
    return [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in args[:-1]] + args[-1:]
