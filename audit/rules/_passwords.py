"""What password handling looks like: password-named values, hashing calls, strength checks.

Shared by the weak-password rules (private: not a rule module).
"""

from __future__ import annotations

import ast
import re

from ._syntax import body_walk, last_name, names_in

# A name or key holding a password (not its hash, its reset token or its policy).
PASSWORD_NAME = re.compile(r"pass(word)?s?($|_)|passwd|(^|_)pwd($|_)|(^|_)pw($|_)|passphrase", re.I)
NOT_PASSWORD = re.compile(r"hash|hashed|digest|salt|reset|token|changed|_at$|length|len|policy|strength|hint|"
                          r"expires|attempts|url|field|label|confirm_sent|required|min|max|forgot", re.I)
# Calls that turn a password into something to store (slow or fast).
HASH_CALL = re.compile(r"hash|hashpw|make_password|encrypt|crypt|digest|md5|sha\d*|set_password|argon|scrypt|bcrypt",
                       re.I)
# Calls that check a password against a stored one (login), not set it.
VERIFY_CALL = re.compile(r"check|verify|compare|matches|authenticate|login", re.I)
# Calls that check a password's strength.
STRENGTH_CALL = re.compile(r"strength|strong|complex|policy|zxcvbn|validate_password|check_password_(rules|policy)|"
                           r"password_validator|validate_new_password|is_valid_password|password_ok", re.I)


def is_password_name(name: str) -> bool:
    return bool(PASSWORD_NAME.search(name)) and not NOT_PASSWORD.search(name)


def password_names(node: ast.AST) -> set[str]:
    return {n for n in names_in(node) if is_password_name(n)}


def is_hash_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and bool(HASH_CALL.search(last_name(node.func))) and not VERIFY_CALL.search(
        last_name(node.func))


def hashed(node: ast.AST) -> bool:
    """Whether ``node`` contains a hashing call (its password is stored hashed)."""
    return any(is_hash_call(sub) for sub in ast.walk(node))


def has_strength_check(fn: ast.AST, passwords: set[str]) -> bool:
    """``len(password) < 12``, a strength/policy helper, or a regex test on the password."""
    for node in body_walk(fn):
        if isinstance(node, ast.Call):
            name = last_name(node.func)
            if STRENGTH_CALL.search(name):
                return True
            if name in ("match", "fullmatch", "search") and any(password_names(a) & passwords or password_names(a)
                                                                for a in node.args):
                return True
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Call) and last_name(side.func) == "len" and side.args and password_names(
                        side.args[0]):
                    return True
    return False


# SQL that writes a password column (INSERT ... (password) / UPDATE ... SET password = ?), not a hash column.
_SQL_PASSWORD_WRITE = re.compile(r"\b(insert\b.*\b(pass(word)?|passwd|pwd)\b|update\b.*\bset\b.*\b(pass(word)?|passwd|pwd)\s*=)",
                                 re.I | re.S)


def sql_password_write(call: ast.Call) -> list[ast.expr] | None:
    """The bound values of ``execute("INSERT INTO users (name, password) VALUES (?, ?)", (...))``, when the SQL
    writes a plain password column; None otherwise."""
    if last_name(call.func) not in ("execute", "executemany", "exec_driver_sql", "query") or not call.args:
        return None
    sql = call.args[0]
    text = sql.value if isinstance(sql, ast.Constant) and isinstance(sql.value, str) else None
    if text is None and isinstance(sql, ast.Call) and sql.args and isinstance(sql.args[0], ast.Constant):
        text = sql.args[0].value if isinstance(sql.args[0].value, str) else None  # text("...")
    if not text or not _SQL_PASSWORD_WRITE.search(text):
        return None
    return [*call.args[1:], *(k.value for k in call.keywords)]
