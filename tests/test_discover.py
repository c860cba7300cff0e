"""discover.py: the walk, module names, and decoding one file as Python would."""

from __future__ import annotations

from pathlib import Path

from audit.config import Config
from audit.discover import discover, looks_like_python2, module_names, read_source


def test_module_names_follow_package_folders():
    rels = ["__init__.py", "routes/__init__.py", "routes/posts.py", "scripts/tool.py", "src/pkg/__init__.py",
            "src/pkg/views.py", "app.py"]
    names = module_names(rels, "legacy_app")
    assert names["routes/posts.py"] == "legacy_app.routes.posts"
    assert names["__init__.py"] == "legacy_app"
    assert names["routes/__init__.py"] == "legacy_app.routes"
    assert names["scripts/tool.py"] == "tool"  # scripts/ is no package: its files are top-level modules
    assert names["src/pkg/views.py"] == "pkg.views"
    assert names["app.py"] == "legacy_app.app"
    assert module_names(["app.py", "views/x.py"], "")["app.py"] == "app"


def test_nested_gitignore_and_config_excludes(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for rel in ("a/keep.py", "a/b/skip_me.py", "a/b/keep2.py", "migrations.py", "x.ts"):
        (tmp_path / rel).write_text("x = 1\n")
    (tmp_path / "a" / ".gitignore").write_text("b/skip_*.py\n")
    found = discover(tmp_path, Config(exclude=("migrations.py",)))
    assert sorted(f.rel for f in found.python) == ["a/b/keep2.py", "a/keep.py"]
    assert [f.rel for f in found.scripts] == ["x.ts"]
    assert {s.file: s.reason for s in found.skipped} == {"a/b/skip_me.py": "ignored", "migrations.py": "ignored"}


def test_output_folder_inside_src_is_left_out(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.py").write_text("x = 1\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    found = discover(tmp_path, exclude_dirs=(tmp_path / "out",))
    assert [f.rel for f in found.python] == ["a.py"]


def test_read_source_encodings(tmp_path):
    def read(name: str, data: bytes):
        p = tmp_path / name
        p.write_bytes(data)
        return read_source(p, name)

    utf8 = read("u.py", "x = 'é'\n".encode())
    assert utf8.text == "x = 'é'\n" and utf8.skip is None
    bom = read("bom.py", b"\xef\xbb\xbfx = 1\n")
    assert bom.text == "x = 1\n" and bom.skip is None
    cookie = read("c.py", b"# coding: latin-1\nx = '\xe9'\n")
    assert "é" in cookie.text and cookie.encoding == "iso-8859-1" and cookie.skip.reason == "encoding"
    fallback = read("f.py", b"x = '\x93quoted\x94'\n")
    assert fallback.text == "x = '\u201cquoted\u201d'\n" and fallback.encoding == "cp1252"
    wrong_cookie = read("w.py", b"# coding: utf-8\nx = '\xe9'\n")
    assert wrong_cookie.text is None and wrong_cookie.skip.reason == "encoding"
    assert read("b.py", b"ab\x00cd").skip.reason == "binary"
    assert read("e.py", b"  \n").skip.reason == "empty"


def test_python2_detection():
    assert looks_like_python2('print "x"\n')
    assert looks_like_python2("try:\n    pass\nexcept ValueError, e:\n    pass\n")
    assert not looks_like_python2("print('x')\n")
    assert not looks_like_python2("def f(:\n")
