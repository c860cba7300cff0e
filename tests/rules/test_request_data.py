"""The request-data taint the injection/SSRF/password rules share: sources, propagation, schema
field names, and parameters fed by route handlers of other modules (ProjectFacts.request_fed_params)."""

from __future__ import annotations

import ast

from audit.rules import ProjectFacts, RuleContext
from audit.rules._request_data import RequestData, request_fed_parameters
from audit.rules.ssrf_request_url import SsrfRequestUrl
from audit.rules.sql_built_from_request import SqlBuiltFromRequest

ROUTES = '''
from flask import Blueprint, request
from pydantic import BaseModel
from .. import storage
from ..previews import fetch_title as title_of

bp = Blueprint("x", __name__)

class Search(BaseModel):
    q: str

@bp.post("/preview")
def preview():
    data = request.get_json() or {}
    return {"title": title_of(data["url"], timeout=5)}

@bp.get("/search")
def search(body: Search):
    return storage.find(body.q, limit=request.args.get("limit"))

@bp.get("/static")
def static():
    return storage.find("constant")
'''


def _fn(tree: ast.Module, name: str):
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def test_handlers_record_which_project_parameters_get_request_data() -> None:
    fed = request_fed_parameters(ast.parse(ROUTES), "app.routes.api", is_package=False)
    assert "app.previews.fetch_title#0" in fed  # relative import, alias resolved
    assert "app.previews.fetch_title:timeout" not in fed  # a constant is not request data
    assert "app.storage.find#0=Search" in fed  # the value came from the Search schema
    assert "app.storage.find:limit" in fed
    assert not any(key.startswith("app.storage.find#0") and "constant" in key for key in fed)


def test_propagation_through_assignments_fstrings_and_calls() -> None:
    tree = ast.parse(
        "from flask import request\n"
        "def f():\n"
        "    data = request.get_json() or {}\n"
        "    base = data.get('host').strip()\n"
        "    url = f'https://{base}/x'\n"
        "    for item in request.args.getlist('id'):\n"
        "        ids = [item]\n"
        "    fields = model.model_dump()\n"
        "    cols = ', '.join(f'{k} = ?' for k in fields)\n"
        "    safe = 'constant'\n"
    )
    data = RequestData(_fn(tree, "f"), tree, handler=False)
    assert {"data", "base", "url", "item", "ids"} <= data.tainted
    assert "safe" not in data.tainted
    cols = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.targets[0].id == "cols")
    assert not data.is_tainted(cols)  # field names of a validated schema


def test_fastapi_parameters_are_request_data_but_injected_ones_are_not() -> None:
    tree = ast.parse(
        "from fastapi import Depends, Request\n"
        "def h(item_id: int, body: ImportRequest, request: Request, db: SessionDep,\n"
        "      user=Depends(current_user), q: str | None = None):\n"
        "    pass\n"
    )
    data = RequestData(_fn(tree, "h"), tree, handler=True)
    assert data.tainted == {"item_id", "body", "q"}
    assert "request" in data.request_names


def test_fed_parameters_reach_rules_in_another_module() -> None:
    source = (
        "import requests\n"
        "def fetch_title(url, timeout=5):\n"
        "    return requests.get(url, timeout=timeout).text\n"
        "def run(sql):\n"
        "    return db.execute(sql)\n"
    )
    tree = ast.parse(source)
    facts = ProjectFacts(request_fed_params=frozenset({"app.previews.fetch_title#0", "app.previews.run#0"}))
    ctx = RuleContext(file="previews.py", module="app.previews", source=source, tree=tree, project=facts)
    assert [f.line for f in SsrfRequestUrl().check(ctx)] == [3]
    # SQL text handed in by a caller is flagged where the caller builds it, not here.
    assert list(SqlBuiltFromRequest().check(ctx)) == []
    alone = RuleContext(file="previews.py", module="app.previews", source=source, tree=tree)
    assert list(SsrfRequestUrl().check(alone)) == []


def test_project_functions_returning_request_data_are_sources_for_injection_not_identity(tmp_path) -> None:
    """``data = validate_json(Model)`` (a function of the project returning the checked body) still
    carries the client's text into SQL and shell commands; an identity looked up by such a
    function is not 'client-supplied' (judged on explicit request reads only)."""
    from audit.mapping import run_map

    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "checks.py").write_text(
        "from flask import request\n"
        "def validate_json(model):\n"
        "    return model.model_validate(request.get_json(silent=True) or {}).model_dump()\n"
        "def identify_caller():\n"
        "    token = request.headers.get('Authorization', '')\n"
        "    return lookup_user(token)\n"
        "def lookup_user(token):\n"
        "    return None\n"
        "def constant():\n"
        "    return {'q': 'fixed'}\n")
    (app / "routes.py").write_text(
        "import subprocess\n"
        "from flask import Blueprint, g\n"
        "from .checks import validate_json, identify_caller, constant\n"
        "from .db import db\n"
        "bp = Blueprint('r', __name__)\n"
        "@bp.post('/backup')\n"
        "def backup():\n"
        "    name = validate_json(Body)['name']\n"
        "    subprocess.run(f'tar czf /tmp/{name}.tgz data', shell=True)\n"
        "    return {}\n"
        "@bp.get('/users')\n"
        "def users():\n"
        "    sort = validate_json(Query).get('sort', 'id')\n"
        "    return db.execute(f'SELECT * FROM users ORDER BY {sort}').fetchall()\n"
        "@bp.get('/fixed')\n"
        "def fixed():\n"
        "    sort = constant()['q']\n"
        "    return db.execute(f'SELECT * FROM users ORDER BY {sort}').fetchall()\n"
        "@bp.get('/me')\n"
        "def me():\n"
        "    user_id = identify_caller()\n"
        "    g.user_id = user_id\n"
        "    return {}\n")
    result = run_map(app, jobs=1, bandit=False, semgrep=False, cache=False, progress=False, formats="none")
    found = {(f.rule_id, f.file, f.line) for f in result.finding_list}
    assert ("WB221", "routes.py", 9) in found  # shell command from the validated body
    assert ("WB220", "routes.py", 14) in found  # SQL text from the validated query
    assert not {f for f in found if f[1] == "routes.py" and f[2] in (18, 22)}  # constant; looked-up identity
