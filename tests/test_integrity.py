"""audit.integrity: imports (in a subprocess), docs naming files, empty modules, lost files."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from audit.integrity import app_modules, check_integrity, static_problems

FIXTURES = Path(__file__).parent / "fixtures"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def shop(tmp_path):
    """A small package app with one broken import, one doc naming a missing file, one empty module."""
    return write(tmp_path / "shop", {
        "__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
        "routes/__init__.py": "",
        "routes/orders.py": "from ..storage import save_order\n",
        "routes/broken.py": "from ..storage import missing_function\n",
        "storage.py": "def save_order(order):\n    return order\n",
        "placeholder.py": '"""To be written."""\n# nothing yet\n',
        "docs/GUIDE.md": "Orders live in `routes/orders.py`, payments in shop/routes/payments.py.\n"
                         "See https://example.com/x/y.py and ../storage.py for more.\n",
        "__main__.py": "raise SystemExit('never imported by the check')\n",
        "tests/test_x.py": "import nothing_here\n",
    })


def test_modules_of_a_package_and_of_a_flat_folder():
    assert "flask_methodview.api.items" in app_modules(FIXTURES / "flask_methodview")
    assert "flask_methodview" in app_modules(FIXTURES / "flask_methodview")
    assert app_modules(FIXTURES / "flask_login_app") == ["app", "db", "previews"]


def test_entry_points_and_tests_are_not_imported(shop):
    modules = app_modules(shop)
    assert "shop.__main__" not in modules and not any("test" in m for m in modules)
    assert {"shop", "shop.routes", "shop.routes.orders", "shop.routes.broken", "shop.storage"} <= set(modules)


def test_broken_import_found_once_with_its_line(shop):
    """Read from the source (line-precise); the import failure it causes is not listed twice."""
    report = check_integrity(shop)
    broken = [(p.kind, p.file, p.line) for p in report.problems if "import" in p.kind]
    assert broken == [("broken-import", "routes/broken.py", 1)]
    assert "missing_function" in report.problems[0].detail or any("missing_function" in p.detail
                                                                   for p in report.problems)
    assert not report.ok


def test_a_module_failing_at_import_for_another_reason_is_found_by_importing(shop):
    (shop / "settings.py").write_text("import os\nPORT = int(os.environ.get('NO_SUCH_VARIABLE_X', 'eighty'))\n")
    (shop / "lazy.py").write_text("def later():\n    from .storage import nothing_like_this\n")
    problems = {(p.kind, p.file) for p in check_integrity(shop).problems}
    assert ("import-error", "settings.py") in problems  # ValueError at import time: only importing shows it
    assert ("broken-import", "lazy.py") in problems  # inside a function: only reading the source shows it


def test_doc_naming_a_missing_file(shop):
    problems = [p for p in static_problems(shop) if p.kind == "doc-missing-file"]
    assert [(p.file, p.line) for p in problems] == [("docs/GUIDE.md", 1)]
    assert "shop/routes/payments.py" in problems[0].detail  # routes/orders.py exists; the URL is not a file


def test_empty_module_is_a_warning_and_empty_init_is_fine(shop):
    empty = [p for p in static_problems(shop) if p.kind == "empty-module"]
    assert [(p.file, p.severity) for p in empty] == [("placeholder.py", "warning")]


def test_files_lost_against_legacy(shop, tmp_path):
    import shutil

    target = tmp_path / "target"
    shutil.copytree(shop, target)
    (target / "storage.py").unlink()
    (target / "extra.py").write_text("X = 1\n")
    lost = [p for p in static_problems(target, legacy=shop) if p.kind == "missing-file"]
    assert [p.file for p in lost] == ["storage.py"]


def test_syntax_error_module(tmp_path):
    app = write(tmp_path / "flat", {"app.py": "def broken(:\n    pass\n"})
    problems = static_problems(app)
    assert [(p.kind, p.file, p.line) for p in problems] == [("syntax-error", "app.py", 1)]


def test_import_time_server_start_and_network_do_not_hang(tmp_path):
    app = write(tmp_path / "flat", {
        "server.py": "from flask import Flask\napp = Flask(__name__)\napp.run(port=5999)\n",
        "fetch.py": "import socket\nsocket.create_connection(('203.0.113.9', 80), timeout=30)\n",
    })
    started = time.perf_counter()
    report = check_integrity(app)
    assert time.perf_counter() - started < 20
    errors = {p.file: p.detail for p in report.problems if p.kind == "import-error"}
    assert list(errors) == ["fetch.py"] and "network disabled" in errors["fetch.py"]


@pytest.mark.parametrize("name", ["flask_methodview", "flask_login_app", "fastapi_app"])
def test_fixture_apps_problems_are_their_broken_import_flaws(name):
    """Every module imports; the only problems are the lazy (in-function) broken imports
    that each fixture's EXPECTED.yml lists, found by reading the source."""
    import yaml

    flaws = yaml.safe_load((FIXTURES / name / "EXPECTED.yml").read_text())["flaws"]
    report = check_integrity(FIXTURES / name)
    assert sorted((p.kind, p.file, p.line) for p in report.problems) == sorted(
        (f["category"], f["file"], f["line"]) for f in flaws if f["category"] == "broken-import")
    assert report.modules_checked == len(app_modules(FIXTURES / name))


def test_the_workbench_process_never_imports_the_app(shop):
    check_integrity(shop)
    assert "shop" not in sys.modules and "shop.storage" not in sys.modules


def test_not_a_directory(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        check_integrity(tmp_path / "nope")


# --- the critical-files registry, compile, the CLI gate --------------------------------

from audit.cli import main as workbench  # noqa: E402
from audit.integrity import critical_files, local_import_problems  # noqa: E402


def test_registry_from_a_file_the_config_and_inference(tmp_path):
    app = write(tmp_path / "site", {
        "__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
        "__main__.py": "from . import create_app\ncreate_app().run()\n",
        "security.py": "KEY = 1\n",
        "templates/base.html": "<html></html>\n",
        ".workbench-critical": "# files the app cannot start without\nsecurity.py\ntemplates/*.html  # any layout\n",
        "MIGRATION.json": '{"added_modules": {"workbench_security.py": "security setup"}}',
    })
    config = write(tmp_path / "conf", {"workbench.toml": '[integrity]\ncritical_files = ["settings.ini"]\n'})
    registry = critical_files(app, config / "workbench.toml")
    assert set(registry) == {"security.py", "templates/*.html", "settings.ini", "workbench_security.py",
                             "__init__.py", "__main__.py"}
    assert registry["__init__.py"] == "holds the app factory"
    problems = {(p.kind, p.file) for p in check_integrity(app, imports=False, config=config / "workbench.toml").problems}
    assert problems == {("critical-file-missing", "settings.ini"), ("critical-file-missing", "workbench_security.py")}
    (app / "security.py").write_text("\n\n")
    (app / "templates" / "base.html").unlink()
    problems = {(p.kind, p.file) for p in check_integrity(app, imports=False).problems}
    assert {("critical-file-empty", "security.py"), ("critical-file-missing", "templates/*.html")} <= problems


def test_a_bad_registry_table_is_a_usage_error(tmp_path, capsys):
    app = write(tmp_path / "flat", {"app.py": "X = 1\n", "workbench.toml": "[integrity]\ncritical_files = 'app.py'\n"})
    assert workbench(["integrity", str(app), "--no-imports"]) == 2
    assert "critical_files must be a list" in capsys.readouterr().err


def test_compile_errors_that_parse(tmp_path):
    app = write(tmp_path / "flat", {"jobs.py": "def run():\n    pass\nreturn 1\n", "ok.py": "X = 1\n"})
    assert [(p.kind, p.file, p.line) for p in static_problems(app)] == [("syntax-error", "jobs.py", 3)]


def test_cli_gate_exit_status(shop, tmp_path, capsys):
    assert workbench(["integrity", str(shop), "--no-imports"]) == 1
    err = capsys.readouterr().err
    assert "broken-import" in err and "routes/broken.py:1" in err and "doc-missing-file" in err
    clean = write(tmp_path / "clean", {"app.py": "from flask import Flask\napp = Flask(__name__)\n",
                                       "README.md": "Start with `app.py`.\n"})
    assert workbench(["integrity", str(clean)]) == 0
    with pytest.raises(SystemExit) as exit_status:  # argparse refuses a missing SRC
        workbench(["integrity", str(tmp_path / "nope")])
    assert exit_status.value.code == 2


def test_relative_imports_of_names_defined_in_blocks_and_star_modules_resolve(tmp_path):
    app = write(tmp_path / "pkg", {
        "__init__.py": "",
        "compat.py": "try:\n    import json as fast_json\nexcept ImportError:\n    fast_json = None\n"
                     "if True:\n    def helper():\n        return 1\nclass Model:\n    pass\n",
        "star.py": "from os.path import *\n",
        "views.py": "from .compat import fast_json, helper, Model\nfrom .star import join\nfrom . import compat\n"
                    "import pkg.compat\nfrom pkg.compat import nothing_here\n",
    })
    problems = [(p.kind, p.file, p.line, p.detail) for p in static_problems(app) + local_import_problems(app)]
    assert problems == [("broken-import", "views.py", 5, "from pkg.compat import nothing_here: pkg.compat has no "
                                                            "nothing_here")]


def test_name_lookups_fail_at_once_in_the_probe(tmp_path):
    app = write(tmp_path / "flat", {
        "lookup.py": "import socket\nsocket.getaddrinfo('service.internal.example', 443)\n",
        "local.py": "import socket\nsocket.getaddrinfo('localhost', 80)\nsocket.getaddrinfo('127.0.0.1', 80)\n",
    })
    started = time.perf_counter()
    errors = {p.file: p.detail for p in check_integrity(app).problems if p.kind == "import-error"}
    assert time.perf_counter() - started < 20
    assert list(errors) == ["lookup.py"] and "looked up service.internal.example" in errors["lookup.py"]


def test_the_probe_environment_sets_every_variable_a_migrated_app_requires(tmp_path):
    from audit.integrity import probe_env

    app = tmp_path / "app"
    app.mkdir()
    (app / "MIGRATION.json").write_text('{"required_env": ["JWT_SECRET", "PROBE_TEST_API_KEY"]}')
    env = probe_env(None, tmp_path, app)
    assert env["PROBE_TEST_API_KEY"] and env["PROBE_TEST_API_KEY"] != env["JWT_SECRET"]
    assert probe_env({"PROBE_TEST_API_KEY": "given"}, tmp_path, app)["PROBE_TEST_API_KEY"] == "given"
    assert "PROBE_TEST_API_KEY" not in probe_env(None, tmp_path, tmp_path)  # not a migrated app
