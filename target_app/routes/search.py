from flask import Blueprint, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select, text

from ..auth import token_required
from ..db import db_session
from ..models import Group, Post
from ..schemas import SearchQuery
from ..workbench_schemas import SearchSearchUsersQuery, SearchSuggestionsQuery
from ..workbench_security import validate_query, error_response

search_bp = Blueprint("search", __name__, url_prefix="/api/search")


@search_bp.route("/users", methods=["GET"])
@token_required
def search_users():
    # TODO: move to FTS5 once we are off the shared sqlite box
    q = validate_query(SearchSearchUsersQuery).get("q", "")
    rows = db_session.execute(text(f"SELECT id, username, display_name, city FROM users WHERE username LIKE '%{q}%' OR display_name LIKE '%{q}%' LIMIT 20")).mappings().all()
    return jsonify([dict(row) for row in rows])


@search_bp.route("/posts", methods=["GET"])
@token_required
def search_posts():
    try:
        query = SearchQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return error_response(400, "invalid query", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    stmt = (
        select(Post)
        .where(Post.visibility == "public", Post.content.ilike(f"%{query.q}%"))
        .order_by(Post.id.desc())
        .limit(query.limit)
    )
    return jsonify([p.to_dict() for p in db_session.execute(stmt).scalars()])


@search_bp.get("/suggestions")
@token_required
def suggestions():
    q = validate_query(SearchSuggestionsQuery).get("q", "")
    groups = db_session.execute(select(Group).where(Group.name.ilike(f"{q}%")).limit(5)).scalars().all()
    if not groups:
        return error_response(404, "Not found.")
    return jsonify([{"type": "group", "id": grp.id, "name": grp.name} for grp in groups])
