"""A small app full of flaws, annotated for the adapter tests (`ruleid:` = semgrep must flag the next line)."""
import hashlib
import os
import pickle
import subprocess
import traceback

import jwt
import requests
from flask import Flask, request
from sqlalchemy import text

app = Flask(__name__)
# ruleid: wb-py-secret-env-fallback
JWT_SECRET = os.getenv("JWT_SECRET", "dev-secret")
# ok: wb-py-secret-env-fallback
DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///app.db")
TOKEN_TYPE = "bearer"
ADMIN_PASSWORD = "hunter2-admin"


def hash_password(password):
    return hashlib.md5(password.encode()).hexdigest()


def etag(body):
    return hashlib.md5(body).hexdigest()


@app.route("/fetch", methods=["POST"])
def fetch():
    url = request.get_json()["url"]
    # ruleid: wb-py-ssrf-request-url
    return requests.get(url, timeout=5).text


@app.route("/search")
def search(db):
    q = request.args.get("q", "")
    # ruleid: wb-py-sql-from-request
    return db.execute(text(f"SELECT * FROM posts WHERE title LIKE '%{q}%'")).all()


@app.route("/ping")
def ping():
    host = request.args["host"]
    # ruleid: wb-py-shell-from-request
    return subprocess.check_output(f"ping -c 1 {host}", shell=True)


@app.route("/refresh", methods=["POST"])
def refresh():
    token = request.headers.get("Authorization", "")
    # ruleid: wb-py-jwt-decode-unverified
    return jwt.decode(token, options={"verify_signature": False})


@app.route("/state", methods=["POST"])
def state():
    try:
        return pickle.loads(request.data)
    except Exception:
        # ruleid: wb-py-traceback-print
        traceback.print_exc()
        # ruleid: wb-py-tls-verify-false
        return requests.get("https://example.com", verify=False).text


if __name__ == "__main__":
    # ruleid: wb-py-debug-run
    app.run(debug=True)
