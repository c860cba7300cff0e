import pytest
import textwrap

from audit.codemods import SCHEMAS_KEY
from audit.codemods.add_validation import AddValidationCommand as Command

SOURCE = '''
from flask import Blueprint, request
bp = Blueprint("x", __name__)

@bp.route("/api/groups", methods=["POST"])
def create_group():
    data = request.get_json() or {}
    group = Group(name=data["name"], size=int(data["size"]), city=data.get("city"), tag=data.get("tag", "x").strip())
    limit = request.args.get("limit", 50, type=int)
    return {"id": group.id, "extra": data.get("extra")}
'''


def test_model_generated_and_applied(apply_with_notes):
    out, context = apply_with_notes(Command, SOURCE, columns=(("Group", "name", "str"),), module="routes.groups")
    models = context.scratch[SCHEMAS_KEY]
    body = models["GroupsCreateGroupBody"]
    assert "    name: str\n" in body and "    size: int\n" in body
    assert "    city: str | None = None\n" in body or "    city: Any = None\n" in body
    assert '    tag: str | None = "x"\n' in body
    assert "    extra: Any = None\n" in body
    assert 'model_config = ConfigDict(extra="ignore")' in body
    assert "limit: int | None = 50" in models["GroupsCreateGroupQuery"]
    assert "data = validate_json(GroupsCreateGroupBody)" in out
    assert 'validate_query(GroupsCreateGroupQuery).get("limit", 50)' in out
    assert "from workbench_schemas import GroupsCreateGroupBody" in out
    assert any("no type could be inferred for" in w and "extra" in w for w in context.warnings)


def test_already_validated_unchanged(apply_with_notes):
    source = textwrap.dedent('''
        @bp.route("/api/posts", methods=["POST"])
        def create_post():
            body = PostCreate.model_validate(request.get_json(silent=True) or {})
            return {"content": body.content}
        ''')
    out, context = apply_with_notes(Command, source)
    assert out == source and SCHEMAS_KEY not in context.scratch


def test_request_values_validated(apply):
    out = apply(Command, '''
        @bp.post("/coupon")
        def apply_coupon():
            code = request.values.get("code", "").strip().upper()
            return {"code": code}
        ''')
    assert 'code = validate_values(' in out and '.get("code", "").strip().upper()' in out


def test_an_order_by_column_from_the_request_is_one_of_the_selected_columns(apply_with_notes):
    source = '''
        from flask import Blueprint, jsonify, request
        from sqlalchemy import text
        bp = Blueprint("admin", __name__)

        @bp.route("/users")
        def list_users():
            sort = request.args.get("sort", "id")
            rows = db.execute(text(f"SELECT id, username, u.email AS mail FROM users u ORDER BY {sort} LIMIT 5")).all()
            return jsonify(rows)

        @bp.route("/all")
        def list_all():
            sort = request.args.get("sort", "id")
            return jsonify(db.execute(text(f"SELECT * FROM users ORDER BY {sort}")).all())

        @bp.route("/where")
        def where():
            name = request.args.get("name", "x")
            return jsonify(db.execute(text(f"SELECT id FROM users WHERE name = '{name}' ORDER BY id")).all())
        '''
    _out, context = apply_with_notes(Command, source)
    models = context.scratch[SCHEMAS_KEY]
    assert 'sort: Literal["id", "username", "u.email", "mail", "email"] | None = "id"' in models["ListUsersQuery"]
    assert 'sort: str | None = "id"' in models["ListAllQuery"]  # SELECT *: the columns are not written here
    assert 'name: str | None = "x"' in models["WhereQuery"]  # not an ORDER BY column
    assert any("ORDER BY" in w for w in context.warnings)

    from pydantic import BaseModel, ConfigDict, ValidationError
    from typing import Any, Literal
    namespace = {"BaseModel": BaseModel, "ConfigDict": ConfigDict, "Any": Any, "Literal": Literal}
    exec(models["ListUsersQuery"], namespace)
    model = namespace["ListUsersQuery"]
    assert model.model_validate({"sort": "mail"}).sort == "mail"
    with pytest.raises(ValidationError):
        model.model_validate({"sort": "id; DROP TABLE users"})
