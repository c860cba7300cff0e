"""legacy_app/EXPECTED.yml is the ground truth every quality measure is scored against:
check that it describes the real app (routes from the live url_map, flaws on the lines
their snippets name) and that the app has the shape the issue promises."""
from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from audit.model import Category

ROOT = Path(__file__).resolve().parents[1]
APP_DIR = ROOT / "legacy_app"
if str(ROOT) not in sys.path:  # legacy_app is a sample app, not part of the installed package
    sys.path.insert(0, str(ROOT))
EXPECTED = yaml.safe_load((APP_DIR / "EXPECTED.yml").read_text())
ROUTE_KEYS = {"method", "path", "file", "line", "handler", "auth", "validated", "rate_limited", "public"}
DEF_LINE_CATEGORIES = {"missing-auth", "unvalidated-input", "missing-rate-limit", "ws-unauthorized"}


def _line(rel: str, number: int) -> str:
    lines = (APP_DIR / rel).read_text().splitlines()
    assert 1 <= number <= len(lines), f"{rel}:{number} is past the end of the file"
    return lines[number - 1]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from legacy_app import create_app

    tmp = tmp_path_factory.mktemp("legacy_expected")
    return create_app({"DATABASE_URL": f"sqlite:///{tmp}/app.db", "UPLOAD_FOLDER": str(tmp / "uploads")})


def test_header():
    assert EXPECTED["app"] == "legacy_app"
    assert EXPECTED["factory"] == "legacy_app:create_app"
    assert EXPECTED["framework"] == "flask"
    sio = EXPECTED["socketio"]
    module = importlib.import_module(f"legacy_app.{sio['module']}")
    assert getattr(module, sio["object"]).__class__.__name__ == "SocketIO"


def test_routes_equal_the_real_url_map(app):
    real = sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )
    labelled = sorted((r["method"], r["path"]) for r in EXPECTED["routes"])
    assert labelled == real


def test_every_route_points_at_its_handler_def():
    for route in EXPECTED["routes"]:
        assert set(route) == ROUTE_KEYS, route
        text = _line(route["file"], route["line"]).strip()
        assert text.startswith(f"def {route['handler']}("), (route, text)
        for flag in ("auth", "validated", "rate_limited", "public"):
            assert isinstance(route[flag], bool), (route, flag)


def test_route_handlers_match_the_app_view_functions(app):
    import inspect

    by_key = {(r["method"], r["path"]): r for r in EXPECTED["routes"]}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        rel = view.__module__.split(".", 1)[1].replace(".", "/") + ".py"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            route = by_key[(method, rule.rule)]
            assert (route["file"], route["handler"]) == (rel, view.__name__)


def test_every_flaw_snippet_sits_on_its_line():
    for flaw in EXPECTED["flaws"]:
        assert set(flaw) == {"category", "file", "line", "snippet"}, flaw
        assert flaw["snippet"] and flaw["snippet"] in _line(flaw["file"], flaw["line"]), flaw


def test_flaw_categories_are_the_contracts_and_each_appears_twice():
    counts = Counter(f["category"] for f in EXPECTED["flaws"])
    known = {c.value for c in Category}
    assert set(counts) <= known - {"other"}
    missing = {c.value for c in Category} - {"other"} - {c for c, n in counts.items() if n >= 2}
    assert not missing, f"categories present fewer than twice: {sorted(missing)}"


def test_no_duplicate_flaws():
    keys = [(f["category"], f["file"], f["line"]) for f in EXPECTED["flaws"]]
    assert len(keys) == len(set(keys))


def test_def_line_flaws_agree_with_route_flags():
    flaws = {(f["category"], f["file"], f["line"]) for f in EXPECTED["flaws"]}
    for route in EXPECTED["routes"]:
        where = (route["file"], route["line"])
        assert (("missing-auth", *where) in flaws) == (not route["auth"] and not route["public"]), route
        assert (("unvalidated-input", *where) in flaws) == (not route["validated"]), route
        if ("missing-rate-limit", *where) in flaws:
            assert not route["rate_limited"], route
    for flaw in EXPECTED["flaws"]:
        if flaw["category"] in DEF_LINE_CATEGORIES:
            assert flaw["snippet"].startswith("def "), flaw


def test_public_flag_follows_the_default_public_list():
    public = re.compile(r"(^|/)(login|logout|register|signup|refresh|password-reset|health|status|ping|version|docs)/?$")
    for route in EXPECTED["routes"]:
        assert route["public"] == bool(public.search(route["path"])), route


def test_size_and_mix_of_the_app():
    routes = EXPECTED["routes"]
    assert len(routes) >= 45
    assert len({r["file"] for r in routes}) >= 12
    flawed = {(f["file"], f["line"]) for f in EXPECTED["flaws"]}
    # a route is clean when no flaw sits at its def line or inside its body
    clean = [r for r in routes if not any(
        f == r["file"] and r["line"] <= line < _handler_end(r["file"], r["handler"]) for f, line in flawed
    )]
    assert 0.25 <= len(clean) / len(routes) <= 0.5, len(clean)


@functools.lru_cache(maxsize=None)
def _handler_end(rel: str, handler: str) -> int:
    tree = ast.parse((APP_DIR / rel).read_text())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == handler)
    return node.end_lineno + 1


def test_blueprint_prefixes_are_set_both_ways():
    at_blueprint = at_register = 0
    for path in [*APP_DIR.glob("routes/*.py"), APP_DIR / "__init__.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(k.arg == "url_prefix" for k in node.keywords):
                name = ast.unparse(node.func)
                at_blueprint += name == "Blueprint"
                at_register += name.endswith("register_blueprint")
    assert at_blueprint >= 3 and at_register >= 3


def test_integrity_problems_are_real(app):
    by_kind = {}
    for item in EXPECTED["integrity"]:
        by_kind.setdefault(item["kind"], []).append(item)
    for item in by_kind["missing-file-reference"]:
        assert item["reference"] in _line(item["file"], item["line"])
        assert not (ROOT / item["reference"]).exists()
    for item in by_kind["empty-module"]:
        assert (APP_DIR / item["file"]).stat().st_size == 0
    for item in by_kind["broken-import"]:
        module = "legacy_app." + item["file"][:-3].replace("/", ".")
        with pytest.raises(ImportError):
            importlib.import_module(module)


def test_expected_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("generate_expected", ROOT / "tests/legacy/generate_expected.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (APP_DIR / "EXPECTED.yml").read_text() == generator.build()
