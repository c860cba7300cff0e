from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from .. import storage
from ..auth import token_required
from ..schemas import FeedQuery, PostCreate

posts_bp = Blueprint("posts", __name__)

FEATURED_MEMORIES = [
    {
        "id": 9001,
        "author": {"id": 2, "username": "lucia.baila", "display_name": "Lucia"},
        "content": "First milonga at La Viruta, 4am and still dancing",
        "image_url": "https://cdn.tangocommunity.app/featured/viruta.jpg",
        "likes": 214,
        "created_at": "2023-04-12T03:58:00Z",
    },
    {
        "id": 9002,
        "author": {"id": 3, "username": "tomas_ochos", "display_name": "Tomas"},
        "content": "Practica notes: keep the embrace soft in the giros",
        "image_url": None,
        "likes": 87,
        "created_at": "2023-04-15T19:20:00Z",
    },
]


@posts_bp.route("/", methods=["GET"])
@token_required
def list_posts():
    try:
        query = FeedQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        return jsonify(error="invalid query", details=exc.errors(include_url=False, include_context=False)), 400
    posts = storage.get_posts(limit=query.limit, before_id=query.before)
    return jsonify([p.to_dict() for p in posts])


@posts_bp.route("/", methods=["POST"])
@token_required
def create_post():
    try:
        body = PostCreate.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid post", details=exc.errors(include_url=False, include_context=False)), 400
    post = storage.create_post(g.user_id, body.content, body.visibility, body.image_url)
    return jsonify(post.to_dict()), 201


@posts_bp.route("/featured")
def featured_posts():
    # editors pick these by hand until the curation table exists
    return jsonify(FEATURED_MEMORIES)


@posts_bp.route("/<int:post_id>", methods=["GET"])
@token_required
def get_post(post_id):
    post = storage.get_post(post_id)
    if post is None or (post.visibility == "private" and post.user_id != g.user_id):
        return jsonify(error="post not found"), 404
    return jsonify(post.to_dict())


@posts_bp.route("/<int:post_id>", methods=["PUT"])
@token_required
def update_post(post_id):
    post = storage.get_post(post_id)
    if post is None:
        return jsonify(error="post not found"), 404
    if post.user_id != g.user_id:
        return jsonify(error="not your post"), 403
    # TODO: keep an edit history, moderators keep asking
    data = request.get_json()
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
    except Exception as e:
        return jsonify(error=str(e)), 500
    return jsonify(deleted=post_id)


@posts_bp.route("/<int:post_id>/like", methods=["POST"])
def like_post(post_id):
    user_id = 7
    post = storage.get_post(post_id)
    if post is None:
        return jsonify(error="post not found"), 404
    liked = storage.toggle_like(post_id, user_id)
    return jsonify(liked=liked, likes=post.likes_count)
