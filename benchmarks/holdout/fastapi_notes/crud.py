"""Repository functions: all SQL lives here, the routes only call these."""
import sqlite3

from .core.security import get_password_hash, verify_password
from .models import NoteCreate, NoteUpdate, UserCreate


def get_user(db: sqlite3.Connection, user_id: int) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def get_user_by_email(db: sqlite3.Connection, email: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()


def create_user(db: sqlite3.Connection, user_in: UserCreate) -> int:
    cur = db.execute("INSERT INTO users (email, hashed_password, full_name) VALUES (?, ?, ?)", (user_in.email, get_password_hash(user_in.password), user_in.full_name))
    db.commit()
    return cur.lastrowid


def authenticate(db: sqlite3.Connection, email: str, password: str) -> sqlite3.Row | None:
    user = get_user_by_email(db, email)
    if user is None or not verify_password(password, user["hashed_password"]):
        return None
    return user


def set_password(db: sqlite3.Connection, user_id: int, new_password: str) -> None:
    db.execute("UPDATE users SET hashed_password = ? WHERE id = ?", (get_password_hash(new_password), user_id))
    db.commit()


def list_users(db: sqlite3.Connection, skip: int, limit: int) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?", (limit, skip)).fetchall()


def list_notes(db: sqlite3.Connection, owner_id: int, skip: int = 0, limit: int = 100) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM notes WHERE owner_id = ? ORDER BY id DESC LIMIT ? OFFSET ?", (owner_id, limit, skip)).fetchall()


def public_notes(db: sqlite3.Connection, limit: int = 20) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM notes WHERE is_public = 1 ORDER BY id DESC LIMIT ?", (limit,)).fetchall()


def get_note(db: sqlite3.Connection, note_id: int) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()


def create_note(db: sqlite3.Connection, note_in: NoteCreate, owner_id: int) -> int:
    cur = db.execute(
        "INSERT INTO notes (owner_id, title, body, tag, is_public) VALUES (?, ?, ?, ?, ?)",
        (owner_id, note_in.title, note_in.body, note_in.tag, int(note_in.is_public)),
    )
    db.commit()
    return cur.lastrowid


def update_note(db: sqlite3.Connection, note_id: int, note_in: NoteUpdate) -> None:
    fields = note_in.model_dump(exclude_unset=True)
    if not fields:
        return
    # column names come from the pydantic model, values are bound
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.execute(f"UPDATE notes SET {assignments} WHERE id = ?", (*fields.values(), note_id))
    db.commit()


def delete_note(db: sqlite3.Connection, note_id: int) -> None:
    db.execute("DELETE FROM notes WHERE id = ?", (note_id,))
    db.commit()


def search_notes(db: sqlite3.Connection, owner_id: int, term: str) -> list[sqlite3.Row]:
    query = "SELECT * FROM notes WHERE owner_id = %d AND (title LIKE '%%%s%%' OR body LIKE '%%%s%%')" % (owner_id, term, term)
    return db.execute(query).fetchall()


def notes_by_tag(db: sqlite3.Connection, owner_id: int, tag: str) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM notes WHERE owner_id = ? AND tag = ?", (owner_id, tag)).fetchall()


def add_attachment(db: sqlite3.Connection, note_id: int, filename: str, fingerprint: str) -> int:
    cur = db.execute("INSERT INTO attachments (note_id, filename, fingerprint) VALUES (?, ?, ?)", (note_id, filename, fingerprint))
    db.commit()
    return cur.lastrowid


def count_all(db: sqlite3.Connection) -> dict[str, int]:
    users = db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    notes = db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    return {"users": users, "notes": notes}
