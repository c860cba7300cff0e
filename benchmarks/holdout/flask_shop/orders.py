import logging
import subprocess

import requests
from flask import Blueprint, Response, abort, current_app, request, session
from flask_login import current_user, login_required

from .db import get_db

bp = Blueprint("orders", __name__, url_prefix="/api/orders")
log = logging.getLogger(__name__)


@bp.get("/")
@login_required
def list_orders():
    rows = get_db().execute("SELECT id, total, status, created FROM orders WHERE user_id = ? ORDER BY created DESC", (current_user.id,)).fetchall()
    return {"orders": [dict(r) for r in rows]}


@bp.post("/checkout")
@login_required
def checkout():
    data = request.get_json()
    address = data["shipping_address"]
    db = get_db()
    items = db.execute(
        "SELECT p.price, c.quantity FROM cart_item c JOIN product p ON p.id = c.product_id WHERE c.user_id = ?",
        (current_user.id,),
    ).fetchall()
    if not items:
        return {"error": "cart is empty"}, 400
    total = round(sum(i["price"] * i["quantity"] for i in items), 2)
    try:
        charge = requests.post(
            current_app.config["PAYMENT_API_URL"],
            json={"amount": int(total * 100), "currency": "eur", "customer": current_user.id},
            headers={"Authorization": f"Bearer {current_app.config['PAYMENT_API_KEY']}"},
            timeout=10,
        )
        charge.raise_for_status()
    except requests.RequestException as exc:
        log.exception("payment failed for user %s", current_user.id)
        return {"error": repr(exc)}, 500
    cur = db.execute("INSERT INTO orders (user_id, total, address) VALUES (?, ?, ?)", (current_user.id, total, address))
    db.execute("DELETE FROM cart_item WHERE user_id = ?", (current_user.id,))
    db.commit()
    log.info("order %s placed by user %s", cur.lastrowid, current_user.id)
    return {"id": cur.lastrowid, "status": "paid", "total": total}, 201


@bp.get("/<int:order_id>")
def get_order(order_id):
    user_id = session.get("user_id", 1)
    row = get_db().execute("SELECT * FROM orders WHERE id = ? AND user_id = ?", (order_id, user_id)).fetchone()
    if row is None:
        abort(404)
    return dict(row)


@bp.get("/<int:order_id>/invoice")
@login_required
def invoice(order_id):
    fmt = request.args.get("format", "pdf")
    row = get_db().execute("SELECT id FROM orders WHERE id = ? AND user_id = ?", (order_id, current_user.id)).fetchone()
    if row is None:
        abort(404)
    out = subprocess.check_output(f"render-invoice --order {order_id} --format {fmt}", shell=True)
    return Response(out, mimetype="application/pdf" if fmt == "pdf" else "text/html")
