from flask import Blueprint, jsonify, request

bp = Blueprint("items", __name__)

ITEMS = {"1": {"id": "1", "name": "<script>window.__pwned=3</script>"}}


@bp.route("/health")
def health():
    return jsonify({"ok": True})


@bp.route("/items/<script>")
def show_item(script):
    print("<script>window.__pwned=1</script>", script)
    item = ITEMS.get(script)
    if item is None:
        return jsonify({"error": "not found"}), 404
    return jsonify(item)


@bp.route("/items", methods=["POST"])
def create_item():
    data = request.get_json()
    ITEMS[str(len(ITEMS) + 1)] = {"id": str(len(ITEMS) + 1), "name": data["name"]}
    return jsonify(ITEMS[str(len(ITEMS))]), 201


@bp.route("/login", methods=["POST"])
def login():
    data = request.get_json()
    if data["password"] == "<b>admin</b>":
        return jsonify({"token": "t"})
    return jsonify({"error": "bad credentials"}), 401
