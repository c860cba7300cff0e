"""AddValidationCommand: request data is validated by pydantic models generated from what handlers read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider

from ..model import Category
from . import SCHEMAS_KEY, MigrationCommand
from ._traversal import findall, transform
from ._route_handlers import dotted, string_value

# request.<source> -> (validating helper, model suffix)
_SOURCES = {"json": ("validate_json", "Body"), "args": ("validate_query", "Query"), "form": ("validate_form", "Form"),
            "values": ("validate_values", "Values")}
_SOURCE_WORDS = {"json": "JSON body", "args": "query string", "form": "form", "values": "query string and form"}
_CASTS = {"int": "int", "float": "float", "str": "str", "bool": "bool"}
_STR_METHODS = {"strip", "lower", "upper", "split", "encode", "startswith", "endswith", "replace", "lstrip", "rstrip", "title"}
_VALIDATING = re.compile(r"(model_validate|parse_obj|validate|load|loads)$")


@dataclass
class _Field:
    required: bool = False
    default: str | None = None  # source of a literal default
    types: set[str] = field(default_factory=set)


def _raw_source(node: cst.CSTNode) -> str | None:
    """``json``/``args``/``form`` when ``node`` is a raw read of request data."""
    if m.matches(node, m.Call(func=m.Attribute(value=m.Name("request"), attr=m.Name("get_json")))):
        return "json"
    if isinstance(node, cst.Attribute) and m.matches(node.value, m.Name("request")):
        return {"json": "json", "args": "args", "form": "form", "values": "values"}.get(node.attr.value)
    if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or) and \
            m.matches(node.right, m.Dict(elements=[])):
        return _raw_source(node.left)
    return None


def _literal_type(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString):
        return "str"
    if isinstance(node, cst.Integer):
        return "int"
    if isinstance(node, cst.Float):
        return "float"
    if m.matches(node, m.Name("True") | m.Name("False")):
        return "bool"
    return None


_ORDER_BY_TAIL = re.compile(r"(?is)\border\s+by\s+(?:[\w.]+(?:\s+(?:asc|desc))?\s*,\s*)*$")
_SELECT_LIST = re.compile(r"(?is)\bselect\s+(?:distinct\s+)?(.+?)\s+from\s")
_COLUMN = re.compile(r"(?i)^([A-Za-z_][\w.]*)(?:\s+as\s+([A-Za-z_]\w*))?$")


def _sort_columns(fstring: cst.FormattedString, expression: cst.FormattedStringExpression) -> str | None:
    """``Literal["id", "name"]`` when ``expression`` is the column of an ``ORDER BY`` in a SQL
    f-string that selects those columns by name: the value a client may send is one of them
    (a column formatted from the request is SQL injection, and any other value a 500)."""
    index = next((i for i, part in enumerate(fstring.parts) if part is expression), None)
    if index is None or any(not isinstance(p, cst.FormattedStringText) for p in fstring.parts[:index]):
        return None
    before = "".join(p.value for p in fstring.parts[:index])
    selected = _SELECT_LIST.search(before)
    if not _ORDER_BY_TAIL.search(before) or not selected:
        return None
    names: list[str] = []
    for item in selected.group(1).split(","):
        column = _COLUMN.match(item.strip())
        if not column:
            return None  # SELECT *, expressions: the allowed columns are not written here
        for name in (column.group(1), column.group(2), column.group(1).rsplit(".", 1)[-1]):
            if name and name not in names:
                names.append(name)
    return "Literal[" + ", ".join(f'"{n}"' for n in names) + "]"


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


class AddValidationCommand(MigrationCommand):
    """Validate the request data each route handler reads with a pydantic model generated
    from the reads themselves: ``data["k"]`` is a required field, ``data.get("k", d)`` an
    optional one; types come from casts (``int(data["x"])``), string methods, comparisons
    with numbers, literal defaults, and the ORM columns the value is written to
    (``Post(title=data["title"])``, ``post.title = ...``), the columns a SQL f-string selects
    when the value is its ``ORDER BY`` column (``Literal[...]``); otherwise ``Any`` (listed in
    MIGRATION.json). The handler then reads ``validate_json(Model)`` (or
    ``validate_query``/``validate_form``) instead of the raw request: a missing or
    mistyped field answers 400 ``validation_error`` with one detail per field. Reads
    already inside a ``Model.model_validate(...)`` are left alone."""

    DESCRIPTION = "Validate request bodies, query strings and forms with generated pydantic models."
    NAME = "add-validation"
    ORDER = 45
    FIXES = (Category.UNVALIDATED_INPUT,)
    APPLIES_TO = r"request\.(json|get_json|args|form|values)"
    ONLY_IN_HANDLERS = True  # (perf: nothing outside route handlers is changed; see MigrationCommand)
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._plans: dict[int, dict[str, tuple[str, dict[str, _Field], bool]]] = {}

    # --- analysis (on the original tree, with parents) --------------------------------------------

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        try:
            return self.get_metadata(ParentNodeProvider, node)
        except KeyError:
            return None

    def _inside_validation(self, node: cst.CSTNode) -> bool:
        parent = self._parent(node)
        while parent is not None and not isinstance(parent, cst.FunctionDef):
            if isinstance(parent, cst.Call) and _VALIDATING.search(dotted(parent.func)):
                return True
            parent = self._parent(parent)
        return False

    def _usage_types(self, node: cst.CSTNode, func: cst.FunctionDef, depth: int = 0) -> set[str]:
        """Types suggested by how the value of ``node`` is used."""
        parent = self._parent(node)
        if parent is None:
            return set()
        if isinstance(parent, cst.BooleanOperation):
            return self._usage_types(parent, func, depth)
        if isinstance(parent, cst.Arg):
            call = self._parent(parent)
            if isinstance(call, cst.Call):
                name = dotted(call.func).rsplit(".", 1)[-1]
                if name in _CASTS and parent.keyword is None:
                    return {_CASTS[name]}
                if parent.keyword is not None:
                    column = self.migration.column_type(name, parent.keyword.value) if name[:1].isupper() else None
                    kinds = {column} if column else self.migration.column_types(parent.keyword.value)
                    return kinds if len(kinds) == 1 else set()
            return set()
        if isinstance(parent, cst.FormattedStringExpression):
            fstring = self._parent(parent)
            columns = _sort_columns(fstring, parent) if isinstance(fstring, cst.FormattedString) else None
            return {columns} if columns else set()
        if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in _STR_METHODS:
            return {"str"}
        if isinstance(parent, cst.ComparisonTarget) or isinstance(parent, cst.Comparison):
            comparison = parent if isinstance(parent, cst.Comparison) else self._parent(parent)
            others = [comparison.left, *(t.comparator for t in comparison.comparisons)]
            kinds = {_literal_type(o) for o in others if o is not node} - {None}
            return kinds if kinds <= {"int", "float"} else set()
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            target = parent.targets[0].target
            if isinstance(target, cst.Attribute):
                kinds = self.migration.column_types(target.attr.value)
                return kinds if len(kinds) == 1 else set()
            if isinstance(target, cst.Name) and depth == 0:
                kinds: set[str] = set()
                for use in findall(func.body, m.Name(target.value)):
                    if use is not target:
                        kinds |= self._usage_types(use, func, depth + 1)
                return kinds
        return set()

    def _is_variable_use(self, name: cst.Name) -> bool:
        parent = self._parent(name)
        if isinstance(parent, cst.AssignTarget):
            return False
        if isinstance(parent, cst.Arg) and parent.keyword is name:
            return False
        return not (isinstance(parent, cst.Attribute) and parent.attr is name)

    def _analyse(self, func: cst.FunctionDef) -> dict[str, tuple[str, dict[str, _Field], bool]]:
        """source -> (model name, fields, open) for the raw reads of ``func``."""
        aliases: dict[str, str] = {}  # variable -> source
        raw: list[tuple[cst.CSTNode, str]] = []
        for node in findall(func.body, m.Call() | m.Attribute() | m.BooleanOperation()):
            source = _raw_source(node)
            if source and not self._inside_validation(node):
                parent = self._parent(node)
                if isinstance(parent, cst.BooleanOperation) and _raw_source(parent):
                    continue  # the `request.get_json() or {}` around it is the read
                raw.append((node, source))
                if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                    aliases[parent.targets[0].target.value] = source
        if not raw:
            return {}
        fields: dict[str, dict[str, _Field]] = {s: {} for _, s in raw}
        open_sources: set[str] = set()
        readers = [(n, s) for n, s in raw] + [(n, aliases[n.value]) for n in findall(func.body, m.Name())
                                               if n.value in aliases and self._is_variable_use(n)]
        for node, source in readers:
            parent = self._parent(node)
            if isinstance(parent, cst.Subscript) and len(parent.slice) == 1 and isinstance(parent.slice[0].slice, cst.Index):
                key = string_value(parent.slice[0].slice.value)
                if key is None:
                    open_sources.add(source)
                    continue
                entry = fields[source].setdefault(key, _Field())
                entry.required = True
                entry.types |= self._usage_types(parent, func)
            elif isinstance(parent, cst.Attribute) and parent.attr.value == "get":
                call = self._parent(parent)
                key = string_value(call.args[0].value) if isinstance(call, cst.Call) and call.args else None
                if key is None:
                    open_sources.add(source)
                    continue
                entry = fields[source].setdefault(key, _Field())
                positional = [a for a in call.args[1:] if a.keyword is None]
                type_kw = next((a.value for a in call.args if a.keyword and a.keyword.value == "type"), None)
                if positional and _literal_type(positional[0].value):
                    entry.default = self.module.code_for_node(positional[0].value)
                    entry.types.add(_literal_type(positional[0].value))
                if type_kw is not None and dotted(type_kw) in _CASTS:
                    entry.types.add(_CASTS[dotted(type_kw)])
                entry.types |= self._usage_types(call, func)
            elif isinstance(parent, cst.Assign) and parent.value is node:
                continue  # data = request.get_json(): the alias, followed above
            else:
                open_sources.add(source)  # Model(**data), `k in data`, data passed on: used whole
        qualname = (self.qualname_of(func) or func.name.value).replace(".", "_")
        prefix = _camel(self.migration.module.rsplit(".", 1)[-1] if self.migration.module else "")
        return {s: (f"{prefix}{_camel(qualname)}{_SOURCES[s][1]}", f, s in open_sources) for s, f in fields.items()}

    # --- rewrite ------------------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.routes_of(node):
            plan = self._analyse(node)
            if plan:
                self._plans[id(node)] = plan

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        plan = self._plans.get(id(original_node))
        if not plan:
            return updated_node
        for source, (model, fields, is_open) in sorted(plan.items()):
            helper = _SOURCES[source][0]
            self._emit_model(model, fields, is_open, source)
            self.import_security(helper)
            self.import_schema(model)
            updated_node = transform(updated_node, _ReplaceRawReads(source, f"{helper}({model})"))
        return updated_node

    def _emit_model(self, model: str, fields: dict[str, _Field], is_open: bool, source: str) -> None:
        where = f"{self.migration.file or 'this module'}"
        lines = [f"class {model}(BaseModel):",
                 f'    """Request {_SOURCE_WORDS[source]} '
                 f'read by a handler of {where}."""', "",
                 f'    model_config = ConfigDict(extra="{"allow" if is_open else "ignore"}")']
        if fields:
            lines.append("")
        untyped = []
        for key in sorted(fields):
            entry = fields[key]
            kinds = entry.types - {None}
            if "float" in kinds and kinds <= {"int", "float"}:
                kinds = {"float"}
            choices = {k for k in kinds if k.startswith("Literal[")}
            if len(choices) == 1 and kinds - choices <= {"str"}:
                kinds = choices  # sort = args.get("sort", "id") ... ORDER BY {sort}: one of the columns
                self.note(f"{model}: {key} is formatted into an ORDER BY; only the selected columns are accepted")
            pytype = next(iter(kinds)) if len(kinds) == 1 else "Any"
            if pytype == "Any":
                untyped.append(key)
            if not key.isidentifier():
                self.note(f"{model}: field {key!r} is not a Python name; not validated")
                continue
            if entry.required:
                lines.append(f"    {key}: {pytype}")
            else:
                default = entry.default if entry.default is not None else "None"
                annotation = pytype if pytype == "Any" else f"{pytype} | None"
                lines.append(f"    {key}: {annotation} = {default}")
        if untyped:
            self.note(f"{model}: no type could be inferred for {', '.join(untyped)} (Any: presence checked only)")
        if is_open:
            self.note(f"{model}: the handler also uses the {source} data as a whole; unknown fields are kept")
        self.context.scratch.setdefault(SCHEMAS_KEY, {})[model] = "\n".join(lines) + "\n"


class _ReplaceRawReads(cst.CSTTransformer):
    """Replaces raw reads of one request source by the validated dict (outside validations)."""

    def __init__(self, source: str, replacement: str) -> None:
        super().__init__()
        self.source = source
        self.replacement = cst.parse_expression(replacement)
        self._validating = 0

    def visit_Call(self, node: cst.Call) -> None:
        if _VALIDATING.search(dotted(node.func)):
            self._validating += 1

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        if _VALIDATING.search(dotted(original_node.func)):
            self._validating -= 1
        # request.args.get("page", 1, type=int): the model converts now
        if not self._validating and updated_node.func.deep_equals(cst.Attribute(value=self.replacement, attr=cst.Name("get"))):
            args = [a for a in updated_node.args if not (a.keyword and a.keyword.value == "type")]
            if len(args) != len(updated_node.args):
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated_node.with_changes(args=args)
        return self._swap(original_node, updated_node)

    def leave_Attribute(self, original_node, updated_node):
        return self._swap(original_node, updated_node)

    def leave_BooleanOperation(self, original_node, updated_node):
        if _raw_source(original_node) == self.source and not self._validating:
            return self.replacement
        return updated_node

    def _swap(self, original_node, updated_node):
        if not self._validating and _raw_source(original_node) == self.source:
            return self.replacement
        return updated_node
