"""Fixtures for inventory tests. The helpers live in ``url_maps.py`` (a unique module name,
importable whatever pytest's import mode: this folder is put on sys.path here)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from url_maps import write_tree  # noqa: E402


@pytest.fixture
def app_tree(tmp_path, request):
    """``app_tree(files, package)`` writes ``files`` under tmp_path/<package>/ and returns
    (src, import_object) where import_object("module:attr") imports from the tree."""
    added: list[str] = []

    def make(files: dict[str, str], package: str = "") -> tuple[Path, callable]:
        pkg = package or f"wbapp_{abs(hash(request.node.nodeid)) % 10**8}"
        src = write_tree(tmp_path / pkg, files)

        def load(spec: str):
            module, _, attr = spec.partition(":")
            if str(tmp_path) not in sys.path:
                sys.path.insert(0, str(tmp_path))
                added.append(str(tmp_path))
            obj = importlib.import_module(f"{pkg}.{module}" if module else pkg)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
            return obj

        return src, load

    yield make
    for p in added:
        sys.path.remove(p)
    for name in [m for m in sys.modules if m.startswith("wbapp_")]:
        del sys.modules[name]
