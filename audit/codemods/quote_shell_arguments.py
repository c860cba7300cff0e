"""QuoteShellArgumentsCommand: request data formatted into a shell command line is quoted."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted

# Calls that hand their command line to a shell: always, or with shell=True.
_ALWAYS_SHELL = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
_SHELL_WHEN_ASKED = {"run", "call", "check_call", "check_output", "Popen"}
_VALIDATED = {"validate_json", "validate_query", "validate_form", "validate_values"}


def _from_request(node: cst.CSTNode, derived: set[str]) -> bool:
    """Whether an expression reads request data (raw, validated, or through a local name holding it)."""
    for found in findall(node, m.Name() | m.Call()):
        if isinstance(found, cst.Name) and (found.value == "request" or found.value in derived):
            return True
        if isinstance(found, cst.Call) and dotted(found.func).rsplit(".", 1)[-1] in _VALIDATED:
            return True
    return False


def _runs_a_shell(call: cst.Call) -> bool:
    name = dotted(call.func)
    if name in _ALWAYS_SHELL:
        return True
    shell = any(a.keyword and a.keyword.value == "shell" and m.matches(a.value, m.Name("True")) for a in call.args)
    return shell and (name.startswith("subprocess.") or name in _SHELL_WHEN_ASKED) and \
        name.rsplit(".", 1)[-1] in _SHELL_WHEN_ASKED


class QuoteShellArgumentsCommand(MigrationCommand):
    """In route handlers, a value read from the request and formatted into a shell command
    line (``subprocess.run(f"tar czf {BACKUPS}/{name}.tgz data", shell=True)``, ``os.system(f"...")``)
    becomes ``shlex.quote(str(value))``: one shell word whatever it holds (no ``;``, ``|``,
    ``$(...)``, no word splitting), while the command's own redirections and pipes keep
    working and a plain value (``report-2024``) gives the same command as before. Values
    between quotes of the command text, and command lines built with ``%``/``.format`` or
    elsewhere, are left for a human (noted). It narrows the injection, it is not its fix
    (running no shell is), so the ``injection`` category stays a human's."""

    DESCRIPTION = "Quote request data formatted into shell command lines (shlex.quote)."
    NAME = "quote-shell-arguments"
    ORDER = 65
    FIXES = ()
    APPLIES_TO = r"shell\s*=\s*True|os\.system|os\.popen|getoutput|getstatusoutput"

    def __init__(self, context, migration=None) -> None:
        super().__init__(context, migration)
        self._derived: list[set[str] | None] = []  # per function: names holding request data (None: not a handler)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self.routes_of(node):
            self._derived.append(None)
            return
        derived: set[str] = set()
        for assign in findall(node.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
            if _from_request(assign.value, derived):
                derived.add(assign.targets[0].target.value)
        self._derived.append(derived)

    def leave_FunctionDef(self, original_node, updated_node):
        self._derived.pop()
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        derived = self._derived[-1] if self._derived else None
        if derived is None or not updated_node.args or not _runs_a_shell(updated_node):
            return updated_node
        command = updated_node.args[0].value
        if not isinstance(command, cst.FormattedString):
            if _from_request(command, derived):
                self.note(f"line {self.line_of(original_node)}: a shell command line built from request data "
                          "(not an f-string) is left for a human: pass a list of arguments, without a shell")
            return updated_node
        parts, quote, changed, left = [], None, False, False
        for part in command.parts:
            if isinstance(part, cst.FormattedStringText):
                for char in part.value:  # which shell quote the text leaves open
                    if quote is None and char in "'\"":
                        quote = char
                    elif char == quote:
                        quote = None
            elif (isinstance(part, cst.FormattedStringExpression) and _from_request(part.expression, derived)
                  and not m.matches(part.expression, m.Call(func=m.Attribute(value=m.Name("shlex"), attr=m.Name("quote"))))):
                if quote is not None or part.conversion or part.format_spec:
                    left = True
                else:
                    part = part.with_changes(expression=cst.Call(
                        func=cst.Attribute(value=cst.Name("shlex"), attr=cst.Name("quote")),
                        args=[cst.Arg(cst.Call(func=cst.Name("str"), args=[cst.Arg(part.expression)]))]))
                    changed = True
            parts.append(part)
        if left:
            self.note(f"line {self.line_of(original_node)}: request data inside quotes (or formatted) in a shell "
                      "command line is left for a human: pass a list of arguments, without a shell")
        if not changed:
            return updated_node
        self.add_needed_import("shlex")
        self.note(f"line {self.line_of(original_node)}: request data in a shell command line is quoted "
                  "(shlex.quote); the command still runs through a shell: a human should pass a list of arguments")
        args = [updated_node.args[0].with_changes(value=command.with_changes(parts=parts)), *updated_node.args[1:]]
        return updated_node.with_changes(args=args)
