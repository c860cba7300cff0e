"""GuardOutboundUrlsCommand: URLs from the request go through the SSRF guard before any fetch."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted, keyword

_HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
_CLIENTS = {"requests", "httpx"}
_URLOPEN = {"urllib.request.urlopen", "request.urlopen", "urlopen", "urllib2.urlopen"}
_VALIDATED = {"validate_json", "validate_query", "validate_form", "validate_values"}


def _reads_request(node: cst.CSTNode, tainted: set[str]) -> bool:
    for found in findall(node, m.Name() | m.Call()):
        if isinstance(found, cst.Name) and (found.value in tainted or found.value == "request"):
            return True
        if isinstance(found, cst.Call) and dotted(found.func) in _VALIDATED:
            return True
    return False


def tainted_names(func: cst.FunctionDef) -> set[str]:
    """Names that hold request data inside ``func`` (assignments from ``request.*`` or from
    other such names, loop targets over them), to a fixed point."""
    tainted: set[str] = set()
    assignments: list[tuple[list[cst.CSTNode], cst.CSTNode]] = []
    for node in findall(func.body, m.Assign() | m.AnnAssign() | m.For() | m.WithItem() | m.NamedExpr()):
        if isinstance(node, cst.Assign):
            assignments.append(([t.target for t in node.targets], node.value))
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            assignments.append(([node.target], node.value))
        elif isinstance(node, cst.For):
            assignments.append(([node.target], node.iter))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            assignments.append(([node.asname.name], node.item))
        elif isinstance(node, cst.NamedExpr):
            assignments.append(([node.target], node.value))
    changed = True
    while changed:
        changed = False
        for targets, value in assignments:
            if _reads_request(value, tainted):
                for target in targets:
                    for name in findall(target, m.Name()):
                        if name.value not in tainted:
                            tainted.add(name.value)
                            changed = True
    return tainted


def outbound_url_arg(call: cst.Call) -> int | None:
    """Index in ``call.args`` of the URL of an outbound request, if ``call`` is one."""
    callee = dotted(call.func)
    head, _, verb = callee.rpartition(".")
    positional = [i for i, a in enumerate(call.args) if a.keyword is None and not a.star]
    url_kw = next((i for i, a in enumerate(call.args) if a.keyword and a.keyword.value == "url"), None)
    if (head in _CLIENTS and verb in _HTTP_VERBS) or callee in _URLOPEN:
        if url_kw is not None:
            return url_kw
        index = 1 if verb in ("request", "stream") and head in _CLIENTS else 0
        return positional[index] if len(positional) > index else None
    return None


def _imported_module(node: cst.ImportFrom, current: str, is_package: bool) -> str:
    """The dotted module (relative to the migrated root) an ``from ... import`` names."""
    name = dotted(node.module) if node.module is not None else ""
    level = len(node.relative)
    if not level:
        return name
    parts = current.split(".") if current else []
    parts = parts if is_package else parts[:-1]
    parts = parts[:len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, name] if name else parts)


class GuardOutboundUrlsCommand(MigrationCommand):
    """Wrap the URL of every outbound request built from request data (``requests``,
    ``httpx``, ``urllib.request.urlopen``) in ``safe_url(...)``: only http/https, and no
    loopback, private, link-local, multicast, reserved or cloud-metadata address after DNS
    resolution (400 ``unsafe_url`` otherwise). Also drops ``verify=False`` (TLS
    verification turned off) from those calls."""

    DESCRIPTION = "Send outbound URLs taken from the request through the SSRF guard safe_url()."
    NAME = "guard-outbound-urls"
    ORDER = 70
    FIXES = (Category.SSRF, Category.INSECURE_CONFIG)
    # request data (read here, or validated) is what gets guarded, also on its way to a project function
    APPLIES_TO = r"request|urlopen|validate_(json|query|form|values)|_create_unverified_context|CERT_NONE"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._tainted: list[set[str]] = []
        self._fetchers: dict[str, tuple[int, str]] = {}  # local callee name -> (URL parameter index, name)

    def visit_Module(self, node: cst.Module) -> None:
        # Project functions that fetch a URL parameter, as this module calls them
        # (from .previews import fetch_title / import previews -> previews.fetch_title).
        by_module: dict[str, dict[str, tuple[int, str]]] = {}
        for module, function, index, param in self.migration.url_fetchers:
            by_module.setdefault(module, {})[function] = (index, param)
        if not by_module:
            return
        is_package = self.migration.file.endswith("__init__.py")

        def known(module: str) -> dict[str, tuple[int, str]]:
            # an absolute import may carry the project's own package name first
            return by_module.get(module) or next((f for m_, f in by_module.items() if module.endswith("." + m_)), {})

        for stmt in findall(node, m.ImportFrom() | m.Import()):
            if isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
                module = _imported_module(stmt, self.migration.module, is_package)
                for alias in stmt.names:
                    name = dotted(alias.name)
                    local = alias.asname.name.value if alias.asname else name
                    if name in known(module):
                        self._fetchers[local] = known(module)[name]
                    for function, spec in known(f"{module}.{name}" if module else name).items():
                        self._fetchers[f"{local}.{function}"] = spec  # from . import previews
            elif isinstance(stmt, cst.Import):
                for alias in stmt.names:
                    module = dotted(alias.name)
                    local = alias.asname.name.value if alias.asname else module
                    for function, spec in known(module).items():
                        self._fetchers[f"{local}.{function}"] = spec

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._tainted.append(tainted_names(node))

    def leave_FunctionDef(self, original_node, updated_node):
        self._tainted.pop()
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        # ssl._create_unverified_context / ssl.CERT_NONE: certificates not checked on outbound TLS
        if dotted(updated_node) == "ssl._create_unverified_context":
            self.note(f"line {self.line_of(original_node)}: TLS verification turned back on (ssl.create_default_context)")
            return updated_node.with_changes(attr=cst.Name("create_default_context"))
        if dotted(updated_node) == "ssl.CERT_NONE":
            self.note(f"line {self.line_of(original_node)}: TLS verification turned back on (ssl.CERT_REQUIRED)")
            return updated_node.with_changes(attr=cst.Name("CERT_REQUIRED"))
        return updated_node

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        # try: fetch(safe_url(url)) / except Exception: return 502 -- the guard's 400 must not
        # be swallowed by a catch-all meant for network errors: let HTTP errors through first.
        if not findall(updated_node.body, m.Call(func=m.Name("safe_url"))):
            return updated_node
        handlers = list(updated_node.handlers)
        broad = next((i for i, h in enumerate(handlers) if h.type is None or dotted(h.type) in (
            "Exception", "BaseException")), None)
        if broad is None or any(h.type is not None and dotted(h.type).endswith("HTTPException") for h in handlers[:broad]):
            return updated_node
        self.add_needed_import("werkzeug.exceptions", "HTTPException")
        passthrough = cst.ensure_type(cst.parse_statement("try:\n    pass\nexcept HTTPException:\n    raise\n"),
                                      cst.Try).handlers[0]
        handlers.insert(broad, passthrough)
        return updated_node.with_changes(handlers=handlers)

    def _guard_fetcher_argument(self, call: cst.Call) -> cst.Call:
        """fetch_title(data["url"]) where fetch_title (another module) requests its parameter."""
        index, param = self._fetchers[dotted(call.func)]
        args = list(call.args)
        positional = [i for i, a in enumerate(args) if a.keyword is None and not a.star]
        at = next((i for i, a in enumerate(args) if a.keyword and a.keyword.value == param),
                  positional[index] if len(positional) > index else None)
        if at is None:
            return call
        url = args[at].value
        tainted = self._tainted[-1] if self._tainted else set()
        if m.matches(url, m.Call(func=m.Name("safe_url"))) or not _reads_request(url, tainted):
            return call
        self.import_security("safe_url")
        args[at] = args[at].with_changes(value=cst.Call(func=cst.Name("safe_url"), args=[cst.Arg(url)]))
        return call.with_changes(args=args)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if self._fetchers and dotted(updated_node.func) in self._fetchers:
            return self._guard_fetcher_argument(updated_node)
        index = outbound_url_arg(updated_node)
        if index is None:
            return updated_node
        args = list(updated_node.args)
        verify = keyword(updated_node, "verify")
        if verify is not None and m.matches(verify, m.Name("False")):
            drop = next(i for i, a in enumerate(args) if a.keyword and a.keyword.value == "verify")
            del args[drop]
            index -= drop < index
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            self.note(f"line {self.line_of(original_node)}: TLS verification turned back on for an outbound request")
        url = args[index].value
        tainted = self._tainted[-1] if self._tainted else set()
        if not m.matches(url, m.Call(func=m.Name("safe_url"))) and _reads_request(url, tainted):
            self.import_security("safe_url")
            args[index] = args[index].with_changes(value=cst.Call(func=cst.Name("safe_url"), args=[cst.Arg(url)]))
        return updated_node.with_changes(args=args)
