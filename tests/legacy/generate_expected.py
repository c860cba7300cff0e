"""Regenerate legacy_app/EXPECTED.yml from the labels below.

The labels (which route is validated, which flaw sits where) are hand-written
judgement, following CONTRACT.md section 3. This script only turns them into
file/line/snippet values, so edits to the legacy app do not silently shift
line numbers:

    .venv/bin/python tests/legacy/generate_expected.py > legacy_app/EXPECTED.yml

It fails loudly when a labelled handler or snippet no longer exists, when a
snippet is ambiguous within its file, or when a route of the real app has no
label.
"""
from __future__ import annotations

import ast
import inspect
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "legacy_app"

# The contract's default public list (CONTRACT.md, "Route flags").
PUBLIC_PATH = re.compile(
    r"(^|/)(login|logout|register|signup|refresh|password-reset|health|status|ping|version|docs|openapi(\.json)?)/?$"
)

# handler -> (validated, categories located at the handler's def line)
ROUTE_LABELS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "routes/auth.py:register": (False, ("unvalidated-input", "missing-rate-limit")),
    "routes/auth.py:login": (True, ()),
    "routes/auth.py:logout": (True, ()),
    "routes/auth.py:refresh_token": (True, ("missing-rate-limit",)),
    "routes/auth.py:me": (True, ()),
    "routes/auth.py:request_password_reset": (False, ("unvalidated-input", "missing-rate-limit")),
    "routes/auth.py:change_password": (False, ("unvalidated-input", "missing-rate-limit")),
    "routes/posts.py:list_posts": (True, ()),
    "routes/posts.py:create_post": (True, ()),
    "routes/posts.py:featured_posts": (True, ("missing-auth",)),
    "routes/posts.py:get_post": (True, ()),
    "routes/posts.py:update_post": (False, ("unvalidated-input",)),
    "routes/posts.py:delete_post": (True, ()),
    "routes/posts.py:like_post": (True, ("missing-auth",)),
    "routes/comments.py:list_comments": (True, ()),
    "routes/comments.py:add_comment": (True, ()),
    "routes/comments.py:delete_comment": (True, ()),
    "routes/groups.py:list_groups": (True, ("missing-auth",)),
    "routes/groups.py:create_group": (False, ("unvalidated-input",)),
    "routes/groups.py:get_group": (True, ()),
    "routes/groups.py:join_group": (True, ()),
    "routes/groups.py:leave_group": (True, ()),
    "routes/groups.py:group_members": (True, ("missing-auth",)),
    "routes/profile.py:my_profile": (True, ()),
    "routes/profile.py:update_profile": (False, ("unvalidated-input",)),
    "routes/profile.py:public_profile": (True, ("missing-auth",)),
    "routes/profile.py:upload_avatar": (False, ("unvalidated-input", "missing-rate-limit")),
    "routes/notifications.py:list_notifications": (True, ()),
    "routes/notifications.py:mark_read": (True, ()),
    "routes/notifications.py:mark_all_read": (True, ()),
    "routes/notifications.py:unread_count": (True, ()),
    "routes/messages.py:inbox": (True, ()),
    "routes/messages.py:send_message": (False, ("unvalidated-input",)),
    "routes/messages.py:thread": (False, ("unvalidated-input",)),
    "routes/messages.py:search_messages": (False, ("unvalidated-input",)),
    "routes/messages.py:delete_message": (True, ()),
    "routes/search.py:search_users": (False, ("missing-auth", "unvalidated-input")),
    "routes/search.py:search_posts": (True, ()),
    "routes/search.py:suggestions": (False, ("unvalidated-input",)),
    "routes/users.py:list_users": (False, ("unvalidated-input",)),
    "routes/users.py:get_user": (True, ()),
    "routes/users.py:follow_user": (True, ()),
    "routes/users.py:unfollow_user": (True, ()),
    "routes/users.py:list_followers": (True, ("missing-auth",)),
    "routes/events.py:list_events": (True, ()),
    "routes/events.py:create_event": (True, ()),
    "routes/events.py:get_event": (True, ()),
    "routes/events.py:rsvp": (False, ("unvalidated-input",)),
    "routes/events.py:delete_event": (True, ()),
    "routes/uploads.py:upload_file": (False, ("unvalidated-input", "missing-rate-limit")),
    "routes/uploads.py:upload_image": (True, ()),
    "routes/uploads.py:get_upload": (True, ("missing-auth",)),
    "routes/previews.py:create_preview": (False, ("unvalidated-input",)),
    "routes/previews.py:oembed": (False, ("missing-auth", "unvalidated-input")),
    "routes/admin.py:stats": (True, ()),
    "routes/admin.py:list_all_users": (False, ("unvalidated-input",)),
    "routes/admin.py:ban_user": (True, ()),
    "routes/admin.py:invite_user": (False, ("unvalidated-input",)),
    "routes/admin.py:test_webhook": (False, ("unvalidated-input",)),
    "routes/admin.py:backup_database": (False, ("unvalidated-input",)),
    "routes/health.py:health": (True, ()),
    "routes/health.py:version": (True, ()),
}

# Socket.IO handlers flagged at their def line.
WS_UNAUTHORIZED = ["on_join", "on_leave", "on_send_message"]

# (category, file, snippet): the snippet must occur on exactly one line of the file.
LINE_FLAWS: list[tuple[str, str, str]] = [
    # auth-bypass
    ("auth-bypass", "auth.py", 'if os.getenv("FLASK_ENV") == "development":'),
    ("auth-bypass", "routes/posts.py", "user_id = 7"),
    ("auth-bypass", "routes/auth.py", 'options={"verify_signature": False}'),
    # debug-logging
    ("debug-logging", "routes/auth.py", 'print(f"password reset for {email}'),
    ("debug-logging", "routes/auth.py", 'logger.info("password change for user %s: new password %s"'),
    ("debug-logging", "routes/groups.py", 'print("leave_group", group_id, g.user_id)'),
    ("debug-logging", "routes/notifications.py", 'print(f"unread count for {g.user_id}: {count}")'),
    ("debug-logging", "routes/users.py", 'print(f"follow {g.user_id} -> {user_id}")'),
    ("debug-logging", "routes/events.py", "traceback.print_exc()"),
    ("debug-logging", "routes/events.py", "pprint(data)"),
    ("debug-logging", "routes/auth.py", 'logger.debug("refresh requested with token %s", token)'),
    # mock-data
    ("mock-data", "routes/posts.py", "return jsonify(FEATURED_MEMORIES)"),
    ("mock-data", "routes/notifications.py", 'return jsonify([{"id": 0, "kind": "welcome"'),
    ("mock-data", "routes/events.py", "return jsonify(MOCK_EVENTS)"),
    ("mock-data", "routes/search.py", 'return jsonify([{"type": "group", "id": 1'),
    # hardcoded-secret
    ("hardcoded-secret", "auth.py", 'os.getenv("JWT_SECRET", "dev-secret")'),
    ("hardcoded-secret", "config.py", 'SECRET_KEY = "tango-community-2023-s3cret"'),
    ("hardcoded-secret", "config.py", 'os.getenv("SMTP_PASSWORD", "mg-7f3d91c2b8e4a6")'),
    ("hardcoded-secret", "routes/admin.py", 'os.environ.get("WEBHOOK_SECRET") or "changeme"'),
    ("hardcoded-secret", "seed.py", 'DEMO_PASSWORD = "Correct-Horse-9-Battery"'),
    ("hardcoded-secret", "seed.py", 'ADMIN_PASSWORD = "Admin-Tango-2023-Rocks"'),
    # ssrf
    ("ssrf", "routes/previews.py", "requests.get(url, timeout=5, verify=False)"),
    ("ssrf", "routes/previews.py", "urllib.request.urlopen(target, timeout=5)"),
    ("ssrf", "routes/admin.py", 'requests.post(data["url"]'),
    # weak-password
    ("weak-password", "auth.py", 'hashlib.md5(password.encode("utf-8")).hexdigest()'),
    ("weak-password", "routes/auth.py", "password_hash=hash_password(password)"),
    ("weak-password", "routes/auth.py", 'user.password_hash = hash_password(data["new_password"])'),
    ("weak-password", "routes/admin.py", "password_hash=hash_password(temp_password), temp_password=temp_password"),
    # unrestricted-upload
    ("unrestricted-upload", "routes/profile.py", "file.save(os.path.join(folder, file.filename))"),
    ("unrestricted-upload", "routes/uploads.py", "f.save(os.path.join(folder, f.filename))"),
    # inconsistent-error
    ("inconsistent-error", "routes/posts.py", "return jsonify(error=str(e)), 500"),
    ("inconsistent-error", "routes/comments.py", 'return jsonify({"msg": "You can only delete your own comments"}), 403'),
    ("inconsistent-error", "routes/profile.py", '"detail": str(e)'),
    ("inconsistent-error", "routes/messages.py", 'return jsonify({"msg": "Message not found"}), 404'),
    ("inconsistent-error", "routes/admin.py", "trace=traceback.format_exc()"),
    # injection
    ("injection", "routes/messages.py", "body LIKE '%{q}%'"),
    ("injection", "routes/search.py", "username LIKE '%{q}%'"),
    ("injection", "routes/admin.py", "shell=True"),
    ("injection", "routes/admin.py", "ORDER BY {sort}"),
    # broken-import
    ("broken-import", "services/exports.py", "from .reports_export import build_csv"),
    ("broken-import", "services/archive.py", "from ..storage import get_archived_posts"),
    # missing-security-headers
    ("missing-security-headers", "__init__.py", "app = Flask(__name__)"),
    ("missing-security-headers", "jobs/digest.py", "worker = Flask(__name__)"),
    # insecure-config
    ("insecure-config", "__main__.py", "debug=True"),
    ("insecure-config", "__init__.py", '"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"'),
    ("insecure-config", "__init__.py", 'socketio.init_app(app, cors_allowed_origins="*")'),
    ("insecure-config", "routes/previews.py", "verify=False"),
]

NOTES = [
    "auth-bypass in auth.py sits on the development switch (if FLASK_ENV == development) under which token_required "
    "lets a request without a token through as user 7; reported once, at the switch. The routes behind "
    "token_required keep auth=true (CONTRACT.md, Route flags).",
    "POST /api/auth/refresh decodes the token with verify_signature off (auth-bypass at that line), so it has auth=false; "
    "it is public (token refresh) and reads only the Authorization header, hence validated=true.",
    "POST /api/posts/<int:post_id>/like has no decorator and uses user_id = 7: auth=false, missing-auth at the def line "
    "and auth-bypass at the assignment.",
    "GET /api/uploads/<path:filename> serves user uploads, not the framework's static files, so it is not public.",
    "POST /api/uploads/image validates the file's name, type and size with a pydantic model and is rate-limited: clean.",
    "insecure-config at socketio.init_app: Engine.IO sends Access-Control-Allow-Credentials by default, "
    "so cors_allowed_origins='*' allows every origin with credentials.",
    "previews.py create_preview: requests.get(url, ..., verify=False) is both ssrf and insecure-config on one line.",
    "seed.py: the seeded accounts' passwords (admin included) are literals in the package: hardcoded-secret.",
    "weak-password: md5 is flagged once, where auth.hash_password hashes; the handlers that accept a password "
    "from a request without a strength check (register, change-password, admin invite, which also keeps it in plain "
    "text) are flagged where they store it. seed.py's fixed demo passwords are not request data.",
    "GET /api/groups/ has its token_required decorator commented out: auth=false, missing-auth.",
    "POST /api/messages/ validates its JSON body with pydantic but also reads ?urgent= unchecked: validated=false.",
    "POST and PUT /api/notifications/<int:notification_id>/read share one handler: two route rows, one def line.",
    "jobs/digest.py builds a second Flask app (no routes) for the cron job: missing-security-headers at its creation line.",
    "services/exports.py and services/archive.py are never imported by create_app, so the app starts despite their broken imports.",
]


def _def_lines(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text())
    return {
        node.name: node.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _decorator_names(path: Path, name: str) -> list[str]:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return [ast.unparse(d) for d in node.decorator_list]
    raise LookupError(f"{path}: no top-level def {name}")


def _find_line(rel: str, snippet: str) -> int:
    lines = (APP_DIR / rel).read_text().splitlines()
    hits = [i for i, line in enumerate(lines, 1) if snippet in line]
    if len(hits) != 1:
        raise SystemExit(f"snippet {snippet!r} occurs on {len(hits)} lines of {rel}: {hits}")
    return hits[0]


def _q(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _flow(mapping: dict) -> str:
    return "{" + ", ".join(f"{k}: {_q(v)}" for k, v in mapping.items()) + "}"


def real_routes():
    """(method, path, file, handler) for every route of the real app."""
    sys.path.insert(0, str(ROOT))
    from legacy_app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/expected.db", "UPLOAD_FOLDER": f"{tmp}/uploads"})
        out = []
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            view = inspect.unwrap(app.view_functions[rule.endpoint])
            module = view.__module__.split(".", 1)[1]
            rel = module.replace(".", "/") + ".py"
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((method, rule.rule, rel, view.__name__))
    return sorted(out, key=lambda r: (r[2], _def_lines(APP_DIR / r[2])[r[3]], r[0]))


def build() -> str:
    routes, def_flaws = [], []
    seen = set()
    for method, path, rel, handler in real_routes():
        key = f"{rel}:{handler}"
        if key not in ROUTE_LABELS:
            raise SystemExit(f"no label for route handler {key}")
        validated, categories = ROUTE_LABELS[key]
        decorators = _decorator_names(APP_DIR / rel, handler)
        auth = "token_required" in decorators
        rate_limited = any(d.startswith("limiter.limit(") for d in decorators)
        public = bool(PUBLIC_PATH.search(path))
        line = _def_lines(APP_DIR / rel)[handler]
        if public and "missing-auth" in categories:
            raise SystemExit(f"{key}: a public route cannot be missing-auth")
        if ("missing-auth" in categories) == (auth or public):
            raise SystemExit(f"{key}: missing-auth label disagrees with auth={auth} public={public}")
        if ("missing-rate-limit" in categories) and rate_limited:
            raise SystemExit(f"{key}: labelled missing-rate-limit but has a limit")
        if ("unvalidated-input" in categories) == validated:
            raise SystemExit(f"{key}: unvalidated-input label disagrees with validated={validated}")
        routes.append(
            dict(method=method, path=path, file=rel, line=line, handler=handler, auth=auth,
                 validated=validated, rate_limited=rate_limited, public=public)
        )
        if key not in seen:  # one finding per handler, even when it serves several methods
            seen.add(key)
            for category in categories:
                def_flaws.append(dict(category=category, file=rel, line=line, snippet=f"def {handler}("))
    unused = set(ROUTE_LABELS) - seen
    if unused:
        raise SystemExit(f"labels for handlers that are not routes: {sorted(unused)}")

    socket_defs = _def_lines(APP_DIR / "sockets.py")
    for handler in WS_UNAUTHORIZED:
        def_flaws.append(dict(category="ws-unauthorized", file="sockets.py", line=socket_defs[handler],
                              snippet=f"def {handler}("))
    line_flaws = [dict(category=c, file=f, line=_find_line(f, s), snippet=s) for c, f, s in LINE_FLAWS]
    flaws = sorted(def_flaws + line_flaws, key=lambda f: (f["file"], f["line"], f["category"]))

    doc = "docs/ARCHITECTURE.md"
    integrity = [
        dict(kind="missing-file-reference", file=doc, line=_find_line(doc, "legacy_app/routes/payments.py"),
             reference="legacy_app/routes/payments.py"),
        dict(kind="empty-module", file="services/cache.py"),
        dict(kind="broken-import", file="services/exports.py", line=_find_line("services/exports.py", "import build_csv"),
             module=".reports_export", name="build_csv"),
        dict(kind="broken-import", file="services/archive.py", line=_find_line("services/archive.py", "import get_archived_posts"),
             module="..storage", name="get_archived_posts"),
    ]

    out = [
        "# Ground truth for the bundled legacy app. Generated by tests/legacy/generate_expected.py",
        "# from hand-written labels; checked by tests/test_legacy_expected.py.",
        "app: legacy_app",
        "factory: legacy_app:create_app",
        "framework: flask",
        "socketio: {module: extensions, object: socketio, namespace: /chat}",
        "seed: {module: seed, function: seed_demo_data}",
        "seed_users:",
        '  - {username: lucia.baila, password: "Correct-Horse-9-Battery", id: 2}',
        '  - {username: tomas_ochos, password: "Correct-Horse-9-Battery", id: 3}',
        '  - {username: anke.berlin, password: "Correct-Horse-9-Battery", id: 4}',
        '  - {username: admin, password: "Admin-Tango-2023-Rocks", id: 1, admin: true}',
        f"routes:  # {len(routes)}",
        *[f"  - {_flow(r)}" for r in routes],
        f"flaws:  # {len(flaws)}",
        *[f"  - {_flow(f)}" for f in flaws],
        "integrity:  # file-integrity problems that are not finding categories (for verify/integrity)",
        *[f"  - {_flow(i)}" for i in integrity],
        "notes:",
        *[f"  - {_q(n)}" for n in NOTES],
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(build())
