import hashlib

from flask_login import UserMixin

from .db import get_db


class User(UserMixin):
    def __init__(self, id, email, password_hash, display_name=None, is_admin=False):
        self.id = id
        self.email = email
        self.password_hash = password_hash
        self.display_name = display_name
        self.is_admin = bool(is_admin)

    @classmethod
    def _from_row(cls, row):
        if row is None:
            return None
        return cls(row["id"], row["email"], row["password_hash"], row["display_name"], row["is_admin"])

    @classmethod
    def get(cls, user_id):
        return cls._from_row(get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone())

    @classmethod
    def by_email(cls, email):
        return cls._from_row(get_db().execute("SELECT * FROM user WHERE email = ?", (email,)).fetchone())

    def check_password(self, password):
        return self.password_hash == hash_password(password)


def hash_password(password):
    return hashlib.sha1(password.encode()).hexdigest()
