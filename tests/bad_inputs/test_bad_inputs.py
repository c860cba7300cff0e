"""A tree full of bad inputs: the map never crashes, analyses what it can, and lists every
other file in summary.json with its reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import audit

GOOD = 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/api/ok")\ndef ok():\n    return "ok"\n'


def build_bad_tree(root: Path, outside: Path) -> Path:
    src = root / "src"
    src.mkdir()
    (src / "app.py").write_text(GOOD, encoding="utf-8")
    (src / "broken.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    (src / "legacy2.py").write_text('print "hello"\ntry:\n    x = 1\nexcept ValueError, e:\n    pass\n', encoding="utf-8")
    (src / "latin_cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\n")
    (src / "latin_nocookie.py").write_bytes(b"NAME = 'caf\xe9'\n")
    (src / "bad_cookie.py").write_bytes(b"# -*- coding: no-such-codec -*-\nx = 1\n")
    (src / "binary.py").write_bytes(b"\x00\x01\x02binary\x00")
    (src / "huge.py").write_text("x = 1\n" * 200_000, encoding="utf-8")
    (src / "empty.py").write_text("", encoding="utf-8")
    (src / "deep.py").write_text("x = " + "(" * 300 + "1" + ")" * 300 + "\n", encoding="utf-8")
    (src / "loop").mkdir()
    os.symlink(src / "loop", src / "loop" / "again")  # a directory link to its own parent
    os.symlink(src / "self_a.py", src / "self_b.py")
    os.symlink(src / "self_b.py", src / "self_a.py")  # a file link loop
    outside.mkdir()
    (outside / "secret.py").write_text("PASSWORD = 'x'\n", encoding="utf-8")
    os.symlink(outside, src / "outside_dir")
    os.symlink(outside / "secret.py", src / "outside_file.py")
    os.symlink(src / "missing.py", src / "dangling.py")
    (src / "node_modules" / "pkg").mkdir(parents=True)
    (src / "node_modules" / "pkg" / "index.js").write_text("console.log(1)\n", encoding="utf-8")
    (src / ".venv" / "lib").mkdir(parents=True)
    (src / ".venv" / "lib" / "x.py").write_text("x = 1\n", encoding="utf-8")
    (src / "generated").mkdir()
    (src / "generated" / "gen.py").write_text("x = 1\n", encoding="utf-8")
    (src / "notes.py").write_text("x = 1\n", encoding="utf-8")
    (src / ".gitignore").write_text("generated/\nnotes.py\n", encoding="utf-8")
    (src / "static").mkdir()
    (src / "static" / "app.js").write_text("console.log('hi')\n", encoding="utf-8")
    return src


def tree_digest(root: Path) -> dict[str, str]:
    import hashlib

    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("jobs", [1, 2])
def test_bad_inputs_never_crash_and_are_listed(tmp_path, jobs):
    src = build_bad_tree(tmp_path, tmp_path / "outside")
    before = tree_digest(src)
    config = tmp_path / "workbench.toml"
    config.write_text("[paths]\nmax_file_bytes = 100000\n", encoding="utf-8")
    result = audit.map(src, out=tmp_path / "out", config=config, jobs=jobs, bandit=False, semgrep=False,
                       cache=False, progress=False)
    assert tree_digest(src) == before  # read only
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    reasons = {s["file"]: s["reason"] for s in summary["skipped"]}
    assert reasons["broken.py"] == "syntax-error"
    assert reasons["legacy2.py"] == "python2"
    assert reasons["latin_cookie.py"] == "encoding"
    assert reasons["latin_nocookie.py"] == "encoding"
    assert reasons["bad_cookie.py"] == "encoding"
    assert reasons["binary.py"] == "binary"
    assert reasons["huge.py"] == "too-large"
    assert reasons["empty.py"] == "empty"
    assert reasons["loop/again/"] == "symlink-loop"
    assert reasons["self_a.py"] == "symlink-loop" and reasons["self_b.py"] == "symlink-loop"
    assert reasons["outside_dir/"] == "outside-src"
    assert reasons["outside_file.py"] == "outside-src"
    assert reasons["dangling.py"] == "broken-symlink"
    assert reasons["node_modules/"] == "ignored"
    assert reasons[".venv/"] == "ignored"
    assert reasons["generated/"] == "ignored"
    assert reasons["notes.py"] == "ignored"
    # analysed despite the note: the encodings were honoured / fell back, the empty file counts
    analysed = {s["file"] for s in summary["skipped"] if s["analysed"]}
    assert {"latin_cookie.py", "latin_nocookie.py", "empty.py"} <= analysed
    assert "deep.py" not in reasons or reasons["deep.py"] in ("syntax-error", "too-deep")
    assert [r.path for r in result.route_list] == ["/api/ok"]
    assert summary["script_files"] == 1  # static/app.js goes to semgrep; node_modules does not
    assert not any(f.file.startswith(("outside", "node_modules")) for f in result.finding_list)


def test_unreadable_file_is_listed(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.py").write_text("x = 1\n", encoding="utf-8")
    locked = src / "locked.py"
    locked.write_text("x = 1\n", encoding="utf-8")
    if os.geteuid() == 0:  # root reads everything: simulate the permission error the OS would raise
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw))
    else:
        locked.chmod(0)
    result = audit.map(src, jobs=1, bandit=False, semgrep=False, cache=False, progress=False)
    reasons = {s.file: s.reason for s in result.skipped}
    assert reasons["locked.py"] == "unreadable"


def test_missing_or_unreadable_src_is_a_clear_error(tmp_path):
    from audit.mapping import MapInputError

    with pytest.raises(MapInputError, match="no such directory"):
        audit.map(tmp_path / "nope", bandit=False, semgrep=False, cache=False)
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(MapInputError, match="not a directory"):
        audit.map(tmp_path / "file.py", bandit=False, semgrep=False, cache=False)
