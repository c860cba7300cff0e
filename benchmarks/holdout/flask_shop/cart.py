from flask import Blueprint, jsonify, request, session
from flask_login import current_user, login_required

from .db import get_db

cart = Blueprint("cart", __name__)


@cart.get("/")
@login_required
def view_cart():
    rows = get_db().execute(
        "SELECT c.id, p.name, p.price, c.quantity FROM cart_item c JOIN product p ON p.id = c.product_id WHERE c.user_id = ?",
        (current_user.id,),
    ).fetchall()
    return jsonify(items=[dict(r) for r in rows], coupon=session.get("coupon"))


@cart.post("/items")
@login_required
def add_item():
    data = request.get_json(silent=True) or {}
    product_id = data.get("product_id")
    quantity = data.get("quantity", 1)
    if not isinstance(product_id, int) or not isinstance(quantity, int) or not 1 <= quantity <= 99:
        return jsonify(error="product_id and quantity (1-99) must be integers"), 400
    db = get_db()
    db.execute("INSERT INTO cart_item (user_id, product_id, quantity) VALUES (?, ?, ?)", (current_user.id, product_id, quantity))
    db.commit()
    return jsonify(status="added"), 201


@cart.post("/coupon")
@login_required
def apply_coupon():
    code = request.values.get("code", "").strip().upper()
    row = get_db().execute("SELECT percent FROM coupon WHERE code = ?", (code,)).fetchone()
    if row is None:
        return jsonify(message="Unknown coupon"), 404
    session["coupon"] = code
    return jsonify(percent=row["percent"])
