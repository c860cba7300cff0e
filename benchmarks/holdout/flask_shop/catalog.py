import csv
import functools
import hashlib
import io
import json

from flask import Blueprint, Response, abort, jsonify, request
from flask_login import current_user

from .db import get_db

bp = Blueprint("catalog", __name__, url_prefix="/api/products")

PAGE_SIZE = 20


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return jsonify(error="authentication required"), 401


def admin_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def check_fields(data, spec):
    """Return the names of the fields of ``spec`` missing from ``data`` or of the wrong type."""
    return [name for name, kind in spec.items() if not isinstance(data.get(name), kind)]


@bp.route("/")
def list_products():
    page = request.args.get("page", 1, type=int)
    q = request.args.get("q", "")
    if page < 1 or len(q) > 100:
        abort(400)
    rows = get_db().execute(
        "SELECT id, name, price, stock FROM product WHERE name LIKE ? ORDER BY name LIMIT ? OFFSET ?",
        (f"%{q}%", PAGE_SIZE, (page - 1) * PAGE_SIZE),
    ).fetchall()
    return jsonify([dict(r) for r in rows])


@bp.route("/<int:product_id>")
def get_product(product_id):
    row = get_db().execute("SELECT id, name, price, stock FROM product WHERE id = ?", (product_id,)).fetchone()
    if row is None:
        abort(404)
    body = dict(row)
    response = jsonify(body)
    # the ETag only needs to change with the content; md5 is fine for that
    response.set_etag(hashlib.md5(json.dumps(body, sort_keys=True).encode()).hexdigest())
    return response


@bp.route("/", methods=["POST"])
@admin_required
def create_product():
    data = request.get_json(silent=True) or {}
    bad = check_fields(data, {"name": str, "price": (int, float), "stock": int})
    if bad:
        return jsonify(error=f"invalid fields: {', '.join(bad)}"), 400
    db = get_db()
    cur = db.execute("INSERT INTO product (name, price, stock) VALUES (?, ?, ?)", (data["name"], data["price"], data["stock"]))
    db.commit()
    return jsonify(id=cur.lastrowid), 201


@bp.route("/search")
def search():
    name = request.args.get("name", "")
    cur = get_db().cursor()
    cur.execute("SELECT id, name, price FROM product WHERE name = '%s'" % name)
    return jsonify([dict(r) for r in cur.fetchall()])


@bp.route("/export")
@admin_required
def export_products():
    sort = request.args.get("sort", "name")
    rows = get_db().execute(f"SELECT id, name, price, stock FROM product ORDER BY {sort}").fetchall()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "name", "price", "stock"])
    writer.writerows([tuple(r) for r in rows])
    return Response(buf.getvalue(), mimetype="text/csv")
