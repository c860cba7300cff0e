"""RemoveMockDataCommand: routes stop returning invented records."""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from ..model import Category
from ..rules.mock_data_response import MOCK_NAME
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted

# Keys of a dict of numbers that are settings or paging, not statistics.
_NOT_FIGURES = re.compile(r"(?i)page|limit|offset|size|version|count_per|max|min|ttl|timeout|retry")


def _literal(node: cst.CSTNode) -> bool:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation):
        return _literal(node.expression)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(_literal(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _literal(e.key) and _literal(e.value) for e in node.elements)
    return False


def _is_record(node: cst.CSTNode) -> bool:
    """A dict literal of literal values with at least two string keys: an invented record
    (a dict built from variables is real data)."""
    return isinstance(node, cst.Dict) and _literal(node) and sum(
        isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString) for e in node.elements) >= 2


def is_mock_literal(node: cst.CSTNode) -> bool:
    """A list/tuple of fake records, or one fake record holding an ``id``."""
    if isinstance(node, (cst.List, cst.Tuple)):
        return bool(node.elements) and all(_is_record(e.value) for e in node.elements)
    if _is_record(node):
        keys = {e.key.evaluated_value for e in node.elements if isinstance(e, cst.DictElement)
                and isinstance(e.key, cst.SimpleString)}
        return "id" in keys
    return False


def made_up_figures(node: cst.CSTNode) -> bool:
    """A dict of two or more numbers written out (``{"users": 7, "notes": 42}``): statistics
    nobody computed (zeros, ones and paging values are not figures)."""
    if not isinstance(node, cst.Dict) or len(node.elements) < 2:
        return False
    keys, numbers = [], []
    for element in node.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
            return False
        keys.append(str(element.key.evaluated_value))
        value = element.value
        sign = -1 if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus) else 1
        value = value.expression if isinstance(value, cst.UnaryOperation) else value
        if not isinstance(value, (cst.Integer, cst.Float)):
            return False
        numbers.append(sign * value.evaluated_value)
    return not any(_NOT_FIGURES.search(k) for k in keys) and any(abs(n) > 1 for n in numbers)


def _figures_call(node: cst.CSTNode) -> bool:
    """``jsonify(users=7, notes=42)``: figures passed as keywords."""
    if not isinstance(node, cst.Call) or node.args and any(a.keyword is None for a in node.args) or not node.args:
        return False
    as_dict = cst.Dict([cst.DictElement(cst.SimpleString(f'"{a.keyword.value}"'), a.value) for a in node.args])
    return made_up_figures(as_dict)


def _error(status: int) -> cst.SimpleStatementLine:
    message = {404: "Not found.", 503: "This data is not available right now."}[status]
    return cst.parse_statement(f'return error_response({status}, "{message}")')


class RemoveMockDataCommand(MigrationCommand):
    """Remove hard-coded fake records that route handlers return or fall back to.

    Where the fake data replaces a failed source (``except: return jsonify(MOCK)``) or is
    the route's only data, the route now answers 503 with the error body; where it fills
    in for an empty result (``if not items: return jsonify([...])``), 404. Module constants
    holding the records are deleted once nothing (in this module or another) uses them."""

    DESCRIPTION = "Replace mock-data fallbacks by explicit 503/404 errors and delete unused mock constants."
    NAME = "remove-mock-data"
    ORDER = 50
    FIXES = (Category.MOCK_DATA,)
    APPLIES_TO = r"\{"
    ONLY_IN_HANDLERS = True  # (perf: nothing outside route handlers is changed; see MigrationCommand)

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._constants: set[str] = set()
        self._removed_uses: set[str] = set()
        self._in_handler = 0
        self._branch: list[str] = []  # "except" / "empty-check" / "other"

    def visit_Module(self, node: cst.Module) -> None:
        for stmt in node.body:
            if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())])])):
                assign = stmt.body[0]
                name = assign.targets[0].target.value
                value = assign.value
                if name.isupper() and (is_mock_literal(value) or made_up_figures(value) or (
                        MOCK_NAME.search(name) and isinstance(value, (cst.List, cst.Tuple, cst.Dict)) and _literal(value))):
                    self._constants.add(name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.routes_of(node):
            self._in_handler += 1

    def leave_FunctionDef(self, original_node, updated_node):
        if self.routes_of(original_node):
            self._in_handler -= 1
        return updated_node

    def visit_ExceptHandler(self, node) -> None:
        self._branch.append("except")

    def leave_ExceptHandler(self, original_node, updated_node):
        self._branch.pop()
        return updated_node

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        empty_check = (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)) or m.matches(
            test, m.Comparison(comparisons=[m.ComparisonTarget(operator=m.Is() | m.Equal(),
                                                               comparator=m.Name("None") | m.Integer("0"))]))
        self._branch.append("empty-check" if empty_check else "other")

    def leave_If(self, original_node, updated_node):
        self._branch.pop()
        return updated_node

    def _mock_in(self, node: cst.CSTNode) -> set[str] | None:
        """The mock constants ``node`` uses (an empty set for an inline literal), else None."""
        used = {n.value for n in findall(node, m.Name()) if n.value in self._constants}
        if used:
            return used
        if any(is_mock_literal(x) or made_up_figures(x) for x in findall(node, m.List() | m.Tuple() | m.Dict())) \
                or any(_figures_call(c) for c in findall(node, m.Call())):
            return set()
        return None

    def _replacement(self, node: cst.CSTNode, used: set[str]) -> cst.SimpleStatementLine:
        self._removed_uses |= used
        self.import_security("error_response")
        status = 404 if self._branch and self._branch[-1] == "empty-check" else 503
        self.note(f"line {self.line_of(node)}: mock data removed; the route now answers {status}")
        return _error(status)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine) -> cst.BaseStatement:
        if not self._in_handler or len(updated_node.body) != 1:
            return updated_node
        stmt = updated_node.body[0]
        # return jsonify(MOCK) / return MOCK / return [{...}, {...}]
        if isinstance(stmt, cst.Return) and stmt.value is not None and not (
                isinstance(stmt.value, cst.Call) and dotted(stmt.value.func) == "error_response"):  # its details are not data
            used = self._mock_in(stmt.value)
            if used is not None:
                return self._replacement(original_node, used).with_changes(leading_lines=updated_node.leading_lines)
        # items = MOCK_ITEMS (a fallback assignment inside a branch)
        if isinstance(stmt, cst.Assign) and self._branch:
            used = self._mock_in(stmt.value)
            if used is not None and used:
                return self._replacement(original_node, used).with_changes(leading_lines=updated_node.leading_lines)
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._removed_uses:
            return updated_node
        body = []
        for stmt in updated_node.body:
            if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())])])):
                name = stmt.body[0].targets[0].target.value
                if name in self._removed_uses and name not in self.migration.imported_names and not any(
                        n.value == name for n in findall(cst.Module(body=[s for s in updated_node.body if s is not stmt]),
                                                           m.Name())):
                    continue
            body.append(stmt)
        return updated_node.with_changes(body=body)
