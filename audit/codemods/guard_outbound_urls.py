"""GuardOutboundUrlsCommand: URLs from the request go through the SSRF guard before any fetch."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._route_handlers import dotted, keyword

_HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
_CLIENTS = {"requests", "httpx"}
_URLOPEN = {"urllib.request.urlopen", "request.urlopen", "urlopen", "urllib2.urlopen"}
_VALIDATED = {"validate_json", "validate_query", "validate_form"}


def _reads_request(node: cst.CSTNode, tainted: set[str]) -> bool:
    for found in m.findall(node, m.Name() | m.Call()):
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
    for node in m.findall(func.body, m.Assign() | m.AnnAssign() | m.For() | m.WithItem() | m.NamedExpr()):
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
                    for name in m.findall(target, m.Name()):
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
    APPLIES_TO = r"requests|httpx|urlopen"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._tainted: list[set[str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._tainted.append(tainted_names(node))

    def leave_FunctionDef(self, original_node, updated_node):
        self._tainted.pop()
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
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
