"""WB230 unrestricted-upload: an uploaded file saved without a type check, a size limit or a safe name."""

from __future__ import annotations

import ast
import re
from typing import Iterable

from ..model import Category, Finding, Severity
from . import Example, Rule, RuleContext
from ._syntax import FunctionNode, body_walk, dotted, functions, last_name, mentions, names_in, own_nodes, str_value

TYPE_CHECK = re.compile(r"mimetype|content_type|allowed|splitext|suffix|extension|rsplit|endswith|mime|"
                        r"imghdr|magic|filetype|guess_type|what|verify_image|is_image|validate_(file|upload|image)",
                        re.I)
SIZE_CHECK = re.compile(r"content_length|MAX_CONTENT_LENGTH|max_size|max_bytes|MAX_\w*(SIZE|BYTES|LENGTH)|size_limit|"
                        r"too_large|RequestEntityTooLarge|file_size|tell|getsize", re.I)
SANITISERS = re.compile(r"secure_filename|sanitize|sanitise|safe_name|slugify|uuid|token_hex|token_urlsafe|"
                        r"basename|clean_filename|get_valid_filename", re.I)
SCHEMA_CALL = re.compile(r"model_validate|parse_obj|validate|load", re.I)
# Whole-app body limits (Flask, Starlette/FastAPI middlewares, Quart). (The lookahead on the first
# letters halves the time of a search through a whole file; it matches the same texts.)
APP_LIMIT = re.compile(r"(?=[mcl])(?:MAX_CONTENT_LENGTH|max_content_length|max_body_size|ContentSizeLimit|"
                       r"LimitUploadSize)", re.I)
_APP_LIMIT_WORDS = ("max_content_length", "max_body_size", "contentsizelimit", "limituploadsize")


def sets_upload_limit(text: str) -> bool:
    """Whether ``text`` sets a whole-app body limit: ``APP_LIMIT.search(text)``, faster (for ASCII
    text, where ignoring case is lower-casing, as a plain substring search)."""
    if not text.isascii():
        return bool(APP_LIMIT.search(text))
    lowered = text.lower()
    return any(word in lowered for word in _APP_LIMIT_WORDS)


class UnrestrictedUpload(Rule):
    """Flags uploaded files saved or processed without a type check, a size limit, or a sanitised name.

    ## What it does
    Follows uploaded files (`request.files[...]`, `.get()`, `.getlist()`, FastAPI
    `UploadFile` parameters) inside a handler to where they are saved (`f.save(path)`,
    `shutil.copyfileobj(f.file, out)`, `out.write(f.read())`; a file opened for writing is
    reported at its `open(...)` line). The save is flagged when the
    path uses the client's `f.filename` without `secure_filename()` (or a generated name),
    or when the function checks neither the type (extension allow-list, `mimetype`,
    `content_type`, a magic-number test) or the size (`content_length`, a `MAX_..._BYTES`
    comparison, an app-wide `MAX_CONTENT_LENGTH`). A schema validating the file's metadata
    counts as both checks. A file processed without being saved is flagged on the `def`
    line when a check is missing.

    ## Why is this bad?
    `../../app/__init__.py` as a file name overwrites code; an `.html` or `.svg` file
    served back is stored XSS; a 10 GB upload fills the disk.

    ## Example
    ```python
    f = request.files["file"]
    f.save(os.path.join(UPLOAD_DIR, f.filename))
    ```

    ## Use instead
    ```python
    f = request.files["file"]
    ext = f.filename.rsplit(".", 1)[-1].lower()
    if ext not in {"png", "jpg"} or request.content_length > 5 * 1024 * 1024:
        abort(400)
    f.save(os.path.join(UPLOAD_DIR, f"{uuid4().hex}.{ext}"))
    ```
    """

    id = "WB230"
    name = "unrestricted-upload"
    category = Category.UNRESTRICTED_UPLOAD
    severity = Severity.HIGH
    confidence = Severity.MEDIUM
    cwe = 434
    fixed_by = "guard_uploads"

    VALID = (
        Example(
            "import os\n"
            "from flask import Flask, request, abort\n"
            "from werkzeug.utils import secure_filename\n"
            "app = Flask(__name__)\n"
            "ALLOWED = {'png', 'jpg'}\n"
            "@app.route('/api/upload', methods=['POST'])\n"
            "def upload():\n"
            "    f = request.files['file']\n"
            "    if f.filename.rsplit('.', 1)[-1].lower() not in ALLOWED:\n"
            "        abort(400)\n"
            "    if request.content_length > 5_000_000:\n"
            "        abort(413)\n"
            "    f.save(os.path.join('/data', secure_filename(f.filename)))\n"
            "    return {}\n"
        ),
        Example(
            "import uuid\n"
            "from fastapi import FastAPI, UploadFile, HTTPException\n"
            "app = FastAPI()\n"
            "@app.post('/avatar')\n"
            "async def avatar(file: UploadFile):\n"
            "    if file.content_type not in ('image/png', 'image/jpeg') or file.size > 1_000_000:\n"
            "        raise HTTPException(status_code=400)\n"
            "    with open(f'/data/{uuid.uuid4().hex}', 'wb') as out:\n"
            "        out.write(await file.read())\n"
        ),
    )
    INVALID = (
        Example(
            "import os\n"
            "from flask import Flask, request\n"
            "app = Flask(__name__)\n"
            "@app.route('/api/upload', methods=['POST'])\n"
            "def upload():\n"
            "    f = request.files['file']\n"
            "    f.save(os.path.join('/data', f.filename))\n"
            "    for extra in request.files.getlist('extra'):\n"
            "        name = extra.filename\n"
            "        extra.save('/data/' + name)\n"
            "    return {}\n",
            lines=(7, 10),
        ),
        Example(
            "import shutil\n"
            "from fastapi import FastAPI, UploadFile, File\n"
            "app = FastAPI()\n"
            "@app.post('/files')\n"
            "async def upload(file: UploadFile = File(...)):\n"
            "    with open(f'/data/{file.filename}', 'wb') as out:\n"
            "        shutil.copyfileobj(file.file, out)\n"
            "@app.post('/import')\n"
            "async def import_csv(data: UploadFile):\n"
            "    rows = (await data.read()).decode().splitlines()\n"
            "    return {'rows': len(rows)}\n",
            lines=(6, 9),
        ),
    )

    def check(self, ctx: RuleContext) -> Iterable[Finding]:
        if not mentions(ctx, "files", "UploadFile", "FileStorage", "File("):
            return  # nothing this rule looks for can be in the file
        if ctx.in_test_file:
            return
        app_limit = None  # (a search of the whole text: only for a file that takes an upload)
        for fn in functions(ctx.tree):
            files = _upload_names(fn)
            if not files:
                continue
            if app_limit is None:
                app_limit = ctx.project.upload_size_limit_set or sets_upload_limit(ctx.source)
            yield from self._check_function(ctx, fn, files, app_limit)

    def _check_function(self, ctx: RuleContext, fn: FunctionNode, files: set[str], app_limit: bool
                        ) -> Iterable[Finding]:
        nodes = list(own_nodes(fn))
        text_names = set()
        for n in nodes:
            if isinstance(n, (ast.Compare, ast.Call, ast.If, ast.Assert)):
                text_names |= names_in(n)
                if isinstance(n, ast.Call):
                    text_names.add(last_name(n.func))
        schema = any(isinstance(n, ast.Call) and SCHEMA_CALL.search(last_name(n.func)) and (
            {"filename", "content_type", "mimetype", "size"} & names_in(n)) for n in nodes)
        typed = schema or any(TYPE_CHECK.search(x) for x in text_names)
        sized = schema or app_limit or any(SIZE_CHECK.search(x) for x in text_names) or _compares_size(nodes)
        unsafe_names = _client_name_vars(nodes, files)
        saved = False
        opened = _opened_files(nodes)
        for node in nodes:
            save = _save_target(node, files)
            if save is None:
                continue
            saved = True
            # `with open(path, "wb") as out: shutil.copyfileobj(f.file, out)`: the destination is named,
            # and the file created, where it is opened.
            line = node.lineno
            if isinstance(save, ast.Name) and save.id in opened:
                line, save = opened[save.id]
            problems = []
            if _uses_client_name(save, files, unsafe_names):
                problems.append("the client's file name")
            if not typed:
                problems.append("no type check")
            if not sized:
                problems.append("no size limit")
            if problems:
                yield self.finding(ctx, line, "upload saved with " + ", ".join(problems))
        if not saved and (not typed or not sized) and _consumes(nodes, files):
            missing = [p for p, ok in (("type check", typed), ("size limit", sized)) if not ok]
            yield self.finding(ctx, fn.lineno, f"uploaded file processed without a {' or '.join(missing)}")


def _is_upload_source(node: ast.AST) -> bool:
    """``request.files[...]``, ``request.files.get(...)``, ``request.files.getlist(...)``, ``(await request.form())[...]``."""
    evidence = _files_evidence(node)
    if evidence == _NO_FILES:
        return False  # the pattern needs "files", which only a name or a literal can put in the text
    if evidence == _REQUEST_FILES:
        return True  # its text holds `request.files` / `req.files` between non-word characters: no unparse needed
    text = ast.unparse(node)
    return bool(re.search(r"\b(request|req)\.files\b|\bfiles\[|\.files\.get", text))


def _may_read_files(fn: FunctionNode) -> bool:
    """Whether ``fn`` can hold an upload source at all: the text of one has a name or an attribute
    ``files``, or a literal with "files" in it (no other part of an expression's text can match)."""
    name, attribute, constant = ast.Name, ast.Attribute, ast.Constant
    for node in body_walk(fn):
        kind = node.__class__
        if kind is name:
            if node.id == "files":
                return True
        elif kind is attribute:
            if node.attr == "files":
                return True
        elif kind is constant:
            value = node.value
            if (value.__class__ is str and "files" in value) or (value.__class__ is bytes and b"files" in value):
                return True
    return False


_NO_FILES, _SOME_FILES, _REQUEST_FILES = 0, 1, 2  # what _files_evidence finds


def _files_evidence(node: ast.AST) -> int:
    """What the text of ``node`` says about "files" (cheaper than unparsing it): _REQUEST_FILES when
    it holds ``request.files`` or ``req.files``; else _SOME_FILES when a name, attribute, keyword or
    literal inside contains "files"; else _NO_FILES."""
    found = _NO_FILES
    stack = [node]
    while stack:
        node = stack.pop()
        kind = node.__class__
        if kind is ast.Name:
            if "files" in node.id:
                found = _SOME_FILES
            continue
        if kind is ast.Attribute and node.attr == "files" and node.value.__class__ is ast.Name and \
                node.value.id in ("request", "req"):
            return _REQUEST_FILES
        for value in node.__dict__.values():  # the fields, and the positions (ints)
            kind = value.__class__
            if kind is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        stack.append(item)
                    elif item.__class__ is str and "files" in item:
                        found = _SOME_FILES
            elif isinstance(value, ast.AST):
                stack.append(value)
            elif (kind is str and "files" in value) or (kind is bytes and b"files" in value):
                found = _SOME_FILES
    return found


def _upload_names(fn: FunctionNode) -> set[str]:
    names: set[str] = set()
    for arg in fn.args.args + fn.args.kwonlyargs:
        # (a plain or dotted name unparses to itself: skip the costly unparse for it)
        ann = "" if arg.annotation is None else dotted(arg.annotation) or ast.unparse(arg.annotation)
        if "UploadFile" in ann or "FileStorage" in ann:
            names.add(arg.arg)
    defaults = fn.args.defaults
    for arg, default in zip(fn.args.args[len(fn.args.args) - len(defaults):], defaults):
        if isinstance(default, ast.Call) and last_name(default.func) == "File":
            names.add(arg.arg)
    sourced = _may_read_files(fn)
    if not sourced and not names:
        return names  # (nothing below could add one)
    for node in own_nodes(fn):
        kind = node.__class__
        if kind is ast.Assign:
            if sourced and _is_upload_source(node.value) and not isinstance(node.value, ast.Compare):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif (kind is ast.For or kind is ast.comprehension) and (
                sourced and _is_upload_source(node.iter) or names and names_in(node.iter) & names):
            if isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def _save_target(node: ast.AST, files: set[str]) -> ast.AST | None:
    """The destination expression when ``node`` writes an uploaded file to disk, else None."""
    if not isinstance(node, ast.Call):
        return None
    name = last_name(node.func)
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    if name == "save" and receiver is not None and names_in(receiver) & files:
        return node.args[0] if node.args else ast.Constant("")
    if name in ("copyfileobj", "copy", "move") and node.args and names_in(node.args[0]) & files:
        return node.args[1] if len(node.args) > 1 else ast.Constant("")
    if name in ("write", "write_bytes") and node.args and names_in(node.args[0]) & files:
        return receiver if receiver is not None else ast.Constant("")
    if name in ("upload_fileobj", "put_object", "upload_file") and any(names_in(a) & files for a in node.args):
        return ast.Tuple(elts=list(node.args), ctx=ast.Load())
    return None


def _opened_files(nodes: list[ast.AST]) -> dict[str, tuple[int, ast.AST]]:
    """Names bound to files opened for writing -> (line of the open, its path expression)."""
    found: dict[str, tuple[int, ast.AST]] = {}
    for n in nodes:
        pairs = []
        if isinstance(n, ast.withitem) and n.optional_vars is not None:
            pairs = [(n.optional_vars, n.context_expr)]
        elif isinstance(n, ast.Assign):
            pairs = [(t, n.value) for t in n.targets]
        for target, value in pairs:
            if isinstance(target, ast.Name) and isinstance(value, ast.Call) and last_name(value.func) in (
                    "open", "NamedTemporaryFile") and value.args:
                mode = str_value(value.args[1]) if len(value.args) > 1 else str_value(
                    next((k.value for k in value.keywords if k.arg == "mode"), None))
                if mode and any(c in mode for c in "wax"):
                    found[target.id] = (value.lineno, value.args[0])
    return found


def _client_name_vars(nodes: list[ast.AST], files: set[str]) -> set[str]:
    """Variables holding the client's file name unsanitised (``name = f.filename``)."""
    found: set[str] = set()
    for n in nodes:
        if isinstance(n, ast.Assign) and _raw_filename(n.value, files, found):
            found.update(t.id for t in n.targets if isinstance(t, ast.Name))
    return found


def _raw_filename(expr: ast.AST, files: set[str], raw_vars: set[str]) -> bool:
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Call) and SANITISERS.search(last_name(sub.func)):
            return False
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Attribute) and sub.attr == "filename" and names_in(sub.value) & files:
            return True
        if isinstance(sub, ast.Name) and sub.id in raw_vars:
            return True
    return False


def _uses_client_name(target: ast.AST, files: set[str], raw_vars: set[str]) -> bool:
    # `with open(path, "wb") as out: out.write(...)`: the destination is where `out` was opened.
    return _raw_filename(target, files, raw_vars)


def _compares_size(nodes: list[ast.AST]) -> bool:
    for n in nodes:
        if isinstance(n, ast.Compare) and any(
                isinstance(s, ast.Call) and last_name(s.func) == "len" or isinstance(s, ast.Attribute) and s.attr in (
                    "size", "content_length") for s in [n.left, *n.comparators]):
            return True
    return False


def _consumes(nodes: list[ast.AST], files: set[str]) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr in ("read", "stream", "file", "readlines") and names_in(
        n.value) & files for n in nodes)
