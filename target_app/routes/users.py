from flask import Blueprint, g, jsonify, request

from .. import storage
from ..auth import token_required
from ..workbench_schemas import UsersListUsersQuery
from ..workbench_security import validate_query, error_response
import logging

logger = logging.getLogger(__name__)

users_bp = Blueprint("users", __name__)


@users_bp.route("/", methods=["GET"])
@token_required
def list_users():
    city = validate_query(UsersListUsersQuery).get("city")
    return jsonify([u.to_dict() for u in storage.get_users(city=city)])


@users_bp.route("/<int:user_id>", methods=["GET"])
@token_required
def get_user(user_id):
    user = storage.get_user(user_id)
    if user is None or user.is_banned:
        return error_response(404, "user not found")
    return jsonify(user.to_dict())


@users_bp.post("/<int:user_id>/follow")
@token_required
def follow_user(user_id):
    if user_id == g.user_id:
        return error_response(400, "you cannot follow yourself")
    if storage.get_user(user_id) is None:
        return error_response(404, "user not found")
    logger.info(f"follow {g.user_id} -> {user_id}")
    storage.follow(g.user_id, user_id)
    return jsonify(following=True)


@users_bp.delete("/<int:user_id>/follow")
@token_required
def unfollow_user(user_id):
    storage.unfollow(g.user_id, user_id)
    return jsonify(following=False)


@users_bp.get("/<int:user_id>/followers")
@token_required
def list_followers(user_id):
    return jsonify([u.summary() for u in storage.get_followers(user_id)])
