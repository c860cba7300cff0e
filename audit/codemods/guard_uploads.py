"""GuardUploadsCommand: uploaded files are type-checked and saved under a sanitised name."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..model import Category
from . import MigrationCommand
from ._traversal import findall
from ._route_handlers import dotted

_READS_FILES = m.Attribute(value=m.Name("request"), attr=m.Name("files"))


def _upload_names(func: cst.FunctionDef) -> list[str]:
    """Names bound to an uploaded file (``f = request.files["file"]``, ``.get(...)``)."""
    names = []
    for assign in findall(func.body, m.Assign(targets=[m.AssignTarget(target=m.Name())])):
        if findall(assign.value, _READS_FILES):
            names.append(assign.targets[0].target.value)
    return names


def _upload_loops(body: list[cst.BaseStatement]) -> list[cst.For]:
    """``for f in request.files.getlist(...)`` / ``.values()`` loops."""
    return [loop for stmt in body for loop in findall(stmt, m.For(target=m.Name()))
            if findall(loop.iter, _READS_FILES)]


def _saves(node: cst.CSTNode, name: str) -> bool:
    return bool(findall(node, m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("save")))))


def _uses_filename(stmt: cst.BaseStatement, name: str) -> bool:
    target = m.Attribute(value=m.Name(name), attr=m.Name("filename"))
    if isinstance(stmt, cst.If):  # a test like `if f.filename == ""` is a check, not a use
        return bool(findall(stmt.body, target))
    return bool(findall(stmt, target))


class _UseStoredName(cst.CSTTransformer):
    def __init__(self, upload: str, stored: str) -> None:
        super().__init__()
        self.upload, self.stored = upload, stored

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        if m.matches(updated_node, m.Attribute(value=m.Name(self.upload), attr=m.Name("filename"))):
            return cst.Name(self.stored)
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call):
        # secure_filename(stored) is already the sanitised name
        if dotted(updated_node.func).endswith("secure_filename") and len(updated_node.args) == 1 and \
                m.matches(updated_node.args[0].value, m.Name(self.stored)):
            return cst.Name(self.stored)
        return updated_node


class _ReplaceNode(cst.CSTTransformer):
    def __init__(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        super().__init__()
        self.old, self.new = old, new

    def on_leave(self, original_node, updated_node):
        return self.new if original_node is self.old else updated_node


class GuardUploadsCommand(MigrationCommand):
    """Before an uploaded file is saved, ``safe_name = validate_upload(f)`` checks its
    extension and MIME type against the allow-list (415 otherwise; double extensions such
    as ``photo.php.png`` rejected) and gives a sanitised, unique name
    (``secure_filename`` plus a random suffix); the handler then uses that name wherever
    it used the client's ``f.filename``. The size limit is ``MAX_CONTENT_LENGTH``, set by
    ``init_security`` (413)."""

    DESCRIPTION = "Check uploads against a type allow-list and save them under sanitised names."
    NAME = "guard-uploads"
    ORDER = 75
    FIXES = (Category.UNRESTRICTED_UPLOAD,)
    APPLIES_TO = r"request\.files"

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if findall(updated_node.body, m.Call(func=m.Name("validate_upload"))):
            return updated_node
        body = list(updated_node.body.body)
        changed = False
        for upload in _upload_names(updated_node):
            if not _saves(updated_node.body, upload):
                continue
            first_use = next((i for i, stmt in enumerate(body)
                              if _saves(stmt, upload) or _uses_filename(stmt, upload)), None)
            if first_use is None:
                continue
            stored = "safe_name" if not changed else f"safe_{upload}_name"
            check = cst.parse_statement(f"{stored} = validate_upload({upload}, max_bytes=MAX_UPLOAD_BYTES)")
            rewritten = [stmt.visit(_UseStoredName(upload, stored)) for stmt in body[first_use:]]
            body = body[:first_use] + [check] + rewritten
            changed = True
        for loop in _upload_loops(body):
            upload = loop.target.value
            if not _saves(loop.body, upload) or findall(loop.body, m.Call(func=m.Name("validate_upload"))):
                continue
            name = f"safe_{upload}_name"
            inner = [cst.parse_statement(f"{name} = validate_upload({upload}, max_bytes=MAX_UPLOAD_BYTES)"),
                     *[stmt.visit(_UseStoredName(upload, name)) for stmt in loop.body.body]]
            new_loop = loop.with_changes(body=loop.body.with_changes(body=inner))
            body = [new_loop if stmt is loop else stmt.visit(_ReplaceNode(loop, new_loop)) for stmt in body]
            changed = True
        if not changed:
            return updated_node
        self.import_security("validate_upload", "MAX_UPLOAD_BYTES")
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))
