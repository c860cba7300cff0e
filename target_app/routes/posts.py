from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from .. import storage
from ..auth import token_required
from ..schemas import FeedQuery, PostCreate
from ..workbench_security import current_user_id, validate_json, error_response
from ..workbench_schemas import PostsUpdatePostBody
from werkzeug.exceptions import Forbidden

posts_bp = Blueprint("posts", __name__)


@posts_bp.route("/", methods=["GET"])
@token_required
def list_posts():
    try:
        query = FeedQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return error_response(400, "invalid query", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    posts = storage.get_posts(limit=query.limit, before_id=query.before)
    return jsonify([p.to_dict() for p in posts])


@posts_bp.route("/", methods=["POST"])
@token_required
def create_post():
    try:
        body = PostCreate.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return error_response(400, "invalid post", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    post = storage.create_post(g.user_id, body.content, body.visibility, body.image_url)
    return jsonify(post.to_dict()), 201


@posts_bp.route("/featured")
@token_required
def featured_posts():
    # editors pick these by hand until the curation table exists
    return error_response(503, "This data is not available right now.")


@posts_bp.route("/<int:post_id>", methods=["GET"])
@token_required
def get_post(post_id):
    post = storage.get_post(post_id)
    if post is None or (post.visibility == "private" and post.user_id != g.user_id):
        return error_response(404, "post not found")
    return jsonify(post.to_dict())


@posts_bp.route("/<int:post_id>", methods=["PUT"])
@token_required
def update_post(post_id):
    post = storage.get_post(post_id)
    if post is None:
        return error_response(404, "post not found")
    if post.user_id != g.user_id:
        raise Forbidden("not your post")
    # TODO: keep an edit history, moderators keep asking
    data = validate_json(PostsUpdatePostBody)
    post.content = data.get("content", post.content)
    post.visibility = data.get("visibility", post.visibility)
    post.image_url = data.get("image_url", post.image_url)
    storage.save_post(post)
    return jsonify(post.to_dict())


@posts_bp.route("/<int:post_id>", methods=["DELETE"])
@token_required
def delete_post(post_id):
    try:
        storage.delete_post(post_id, g.user_id)
    except PermissionError:
        return error_response(403)
    except LookupError:
        return error_response(404)
    except Exception as e:
        return error_response(500)
    return jsonify(deleted=post_id)


@posts_bp.route("/<int:post_id>/like", methods=["POST"])
@token_required
def like_post(post_id):
    user_id = current_user_id()
    post = storage.get_post(post_id)
    if post is None:
        return error_response(404, "post not found")
    liked = storage.toggle_like(post_id, user_id)
    return jsonify(liked=liked, likes=post.likes_count)
