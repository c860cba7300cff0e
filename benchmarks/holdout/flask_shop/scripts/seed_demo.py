"""Fill a development database with demo products: python -m flask_shop.scripts.seed_demo"""
import os
import random
import sys

from flask_shop import create_app
from flask_shop.db import get_db, init_db
from flask_shop.models import hash_password

NAMES = ["Widget", "Gadget", "Sprocket", "Gizmo", "Doohickey"]


def main():
    app = create_app()
    with app.app_context():
        init_db()
        db = get_db()
        for i in range(50):
            db.execute("INSERT INTO product (name, price, stock) VALUES (?, ?, ?)", (f"{random.choice(NAMES)} {i}", round(random.uniform(1, 200), 2), random.randint(0, 500)))
        admin_password = os.environ.get("SEED_ADMIN_PASSWORD")
        if not admin_password:
            print("set SEED_ADMIN_PASSWORD to create the admin account", file=sys.stderr)
            return 1
        db.execute("INSERT INTO user (email, password_hash, is_admin) VALUES (?, ?, 1)", ("admin@example.com", hash_password(admin_password)))
        db.commit()
    print("seeded 50 products and the admin account")
    return 0


if __name__ == "__main__":
    sys.exit(main())
