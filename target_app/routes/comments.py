from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select

from ..auth import token_required
from ..db import db_session
from ..models import Comment, Notification, Post
from ..schemas import CommentCreate
from werkzeug.exceptions import Forbidden
from ..workbench_security import error_response

comments_bp = Blueprint("comments", __name__, url_prefix="/api")


@comments_bp.route("/posts/<int:post_id>/comments", methods=["GET"])
@token_required
def list_comments(post_id):
    stmt = select(Comment).where(Comment.post_id == post_id).order_by(Comment.created_at, Comment.id)
    comments = db_session.execute(stmt).scalars().all()
    return jsonify([c.to_dict() for c in comments])


@comments_bp.route("/posts/<int:post_id>/comments", methods=["POST"])
@token_required
def add_comment(post_id):
    try:
        body = CommentCreate.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return error_response(400, "invalid comment", code="validation_error", details=exc.errors(include_url=False, include_context=False))
    post = db_session.get(Post, post_id)
    if post is None:
        return error_response(404, "post not found")
    comment = Comment(post_id=post_id, user_id=g.user_id, body=body.body)
    db_session.add(comment)
    if post.user_id != g.user_id:
        db_session.add(Notification(user_id=post.user_id, kind="comment", text=f"{g.user.username} commented on your memory"))
    db_session.commit()
    return jsonify(comment.to_dict()), 201


@comments_bp.route("/comments/<int:comment_id>", methods=["DELETE"])
@token_required
def delete_comment(comment_id):
    comment = db_session.get(Comment, comment_id)
    if comment is None:
        return error_response(404, "comment not found")
    if comment.user_id != g.user_id:
        raise Forbidden("You can only delete your own comments")
    db_session.delete(comment)
    db_session.commit()
    return jsonify(deleted=comment_id)
