"""Generate a large, varied Flask codebase for the benchmarks, deterministically from a seed.

    .venv/bin/python benchmarks/generate.py OUT [--lines 100000] [--modules 520] [--seed 7]

The tree is one package (``OUT/bigapp``) with an app factory registering every
blueprint, and four kinds of modules in equal shares:

* ``blueprints/``: routes in every style the map must understand: ``@bp.route`` with
  and without ``methods=``, ``@bp.get``/``@bp.post`` shortcuts, ``add_url_rule`` with
  functions and with ``MethodView`` classes, an auth decorator on some, and a mix of
  clean handlers and flawed ones (prints, unvalidated bodies, SQL built from request
  data, outbound requests to request URLs, mock fallbacks, leaked exception text,
  uploads under the client's file name);
* ``services/``: business logic with logging, secrets, hashing, subprocess calls, and
  plenty of clean code;
* ``models/``: SQLAlchemy declarative models with methods;
* ``utils/``: pure functions (parsing, formatting, validation).

Same seed and sizes, same bytes: the generator uses only its own ``random.Random``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

__all__ = ["generate", "TreeStats"]

DOMAINS = ["orders", "invoices", "users", "teams", "products", "reviews", "carts", "payments", "shipments",
           "coupons", "tickets", "messages", "events", "venues", "courses", "lessons", "badges", "reports",
           "alerts", "devices", "sensors", "readings", "projects", "tasks", "notes", "files", "albums",
           "photos", "playlists", "tracks", "recipes", "menus", "tables", "bookings", "rooms", "guests"]
FIELDS = ["name", "title", "status", "price", "quantity", "email", "phone", "city", "country", "notes",
          "priority", "category", "score", "rating", "due_date", "owner", "label", "color", "size", "code"]
KINDS = ("blueprints", "services", "models", "utils")


@dataclass
class TreeStats:
    root: Path
    modules: int
    lines: int
    routes: int


class _Writer:
    """Accumulates one module's source, and counts what it wrote."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.chunks: list[str] = []
        self.lines = 0
        self.routes = 0

    def add(self, code: str) -> None:
        code = textwrap.dedent(code).strip("\n") + "\n\n\n"
        self.chunks.append(code)
        self.lines += code.count("\n")

    def text(self) -> str:
        return "".join(self.chunks).rstrip("\n") + "\n"


def _name(rng: random.Random, *parts: str) -> str:
    return "_".join(parts) + f"_{rng.randrange(10_000):04d}"


# --- blueprints ------------------------------------------------------------------------


def _route_units(w: _Writer, bp: str, domain: str, n: int) -> None:
    rng = w.rng
    field = rng.choice(FIELDS)
    other = rng.choice([f for f in FIELDS if f != field])
    style = rng.randrange(12)
    fn = f'{rng.choice(["list", "show", "create", "update", "remove", "export", "sync", "search"])}_{domain}_{n}'
    path = f"/{domain}/{fn.split('_')[0]}-{n}"
    guard = "@login_required\n        " if rng.random() < 0.55 else ""  # keeps the template's indent
    if style == 0:  # clean list with typed query parsing
        w.add(f'''
        @{bp}.route("{path}")
        {guard}def {fn}():
            page = request.args.get("page", 1, type=int)
            size = min(request.args.get("size", 20, type=int), 100)
            rows = {domain.title()}Repository().page(page=page, size=size)
            return jsonify([row.to_dict() for row in rows])
        ''')
    elif style == 1:  # unvalidated body + print
        w.add(f'''
        @{bp}.route("{path}", methods=["POST"])
        {guard}def {fn}():
            data = request.get_json()
            print("{fn} got", data)
            item = {domain.title()}Repository().create({field}=data["{field}"], {other}=data.get("{other}"))
            return jsonify(item.to_dict()), 201
        ''')
    elif style == 2:  # shortcut with path parameter
        w.add(f'''
        @{bp}.get("{path}/<int:item_id>")
        {guard}def {fn}(item_id):
            item = {domain.title()}Repository().get(item_id)
            if item is None:
                return jsonify(error="not found"), 404
            return jsonify(item.to_dict())
        ''')
    elif style == 3:  # MethodView + add_url_rule
        cls = "".join(p.title() for p in fn.split("_")) + "View"
        w.add(f'''
        class {cls}(MethodView):
            def get(self, item_id):
                item = {domain.title()}Repository().get(item_id)
                return jsonify(item.to_dict() if item else {{}})

            def put(self, item_id):
                payload = request.get_json(silent=True) or {{}}
                if not isinstance(payload.get("{field}"), str):
                    return jsonify(error="{field} must be a string"), 400
                item = {domain.title()}Repository().update(item_id, {field}=payload["{field}"])
                return jsonify(item.to_dict())

            def delete(self, item_id):
                {domain.title()}Repository().delete(item_id)
                return "", 204


        {bp}.add_url_rule("{path}/<int:item_id>", view_func={cls}.as_view("{fn}"))
        ''')
        w.routes += 2
    elif style == 4:  # add_url_rule with a function
        w.add(f'''
        def {fn}():
            stats = {{"count": {domain.title()}Repository().count(), "domain": "{domain}"}}
            return jsonify(stats)


        {bp}.add_url_rule("{path}/stats", "{fn}", {fn})
        ''')
    elif style == 5:  # SQL from request data
        w.add(f'''
        @{bp}.route("{path}/search")
        {guard}def {fn}():
            term = request.args.get("q", "")
            sql = f"SELECT * FROM {domain} WHERE {field} LIKE '%{{term}}%' ORDER BY id DESC"
            rows = db.session.execute(text(sql)).fetchall()
            return jsonify([dict(row._mapping) for row in rows])
        ''')
    elif style == 6:  # SSRF
        w.add(f'''
        @{bp}.post("{path}/fetch")
        {guard}def {fn}():
            url = request.json["url"]
            reply = requests.get(url, timeout=10)
            return jsonify(status=reply.status_code, size=len(reply.content))
        ''')
    elif style == 7:  # mock fallback
        w.add(f'''
        SAMPLE_{fn.upper()} = [
            {{"id": 1, "{field}": "sample one", "{other}": 10}},
            {{"id": 2, "{field}": "sample two", "{other}": 20}},
        ]


        @{bp}.route("{path}/featured")
        def {fn}():
            rows = {domain.title()}Repository().featured()
            if not rows:
                return jsonify(SAMPLE_{fn.upper()})
            return jsonify([row.to_dict() for row in rows])
        ''')
    elif style == 8:  # leaked exception text
        w.add(f'''
        @{bp}.route("{path}/sync", methods=["POST", "PUT"])
        {guard}def {fn}():
            try:
                result = sync_{domain}(request.get_json(silent=True) or {{}})
            except Exception as exc:
                return jsonify({{"error": str(exc)}}), 500
            return jsonify(result)
        ''')
        w.routes += 1
    elif style == 9:  # upload under the client's name
        w.add(f'''
        @{bp}.route("{path}/upload", methods=["POST"])
        {guard}def {fn}():
            upload = request.files["file"]
            target = os.path.join(current_app.config.get("UPLOAD_FOLDER", "uploads"), upload.filename)
            upload.save(target)
            return jsonify(saved=upload.filename), 201
        ''')
    elif style == 10:  # validated with an explicit schema check
        w.add(f'''
        @{bp}.route("{path}/bulk", methods=["POST"])
        {guard}def {fn}():
            body = request.get_json(silent=True)
            if not isinstance(body, list) or not all(isinstance(x, dict) and "{field}" in x for x in body):
                return jsonify(error="expected a list of objects with {field}"), 400
            created = [{domain.title()}Repository().create({field}=str(x["{field}"])[:200]) for x in body[:100]]
            return jsonify(created=len(created)), 201
        ''')
    else:  # several helpers and a plain route
        w.add(f'''
        def _{fn}_summary(items):
            total = sum(getattr(i, "{other}", 0) or 0 for i in items)
            return {{"items": len(items), "total": total}}


        @{bp}.route("{path}/summary")
        {guard}def {fn}():
            items = {domain.title()}Repository().page(page=1, size=500)
            return jsonify(_{fn}_summary(items))
        ''')
    w.routes += 1


def _blueprint_module(rng: random.Random, index: int, target_lines: int) -> tuple[str, int, str]:
    domain = rng.choice(DOMAINS)
    bp = f"{domain}_bp"
    w = _Writer(rng)
    w.add(f'''
    """Routes for {domain} (module {index})."""

    import os

    import requests
    from flask import Blueprint, current_app, jsonify, request
    from flask.views import MethodView
    from sqlalchemy import text

    from ..auth import login_required
    from ..extensions import db
    from ..services.common import {domain.title()}Repository, sync_{domain}

    {bp} = Blueprint("{domain}_{index}", __name__, url_prefix="/api/v{1 + index % 3}/m{index}")
    ''')
    n = 0
    while w.lines < target_lines:
        _route_units(w, bp, domain, n)
        n += 1
    return w.text(), w.routes, f"{domain}_{index}"


# --- services, models, utils -------------------------------------------------------------


def _service_module(rng: random.Random, index: int, target_lines: int) -> str:
    domain = rng.choice(DOMAINS)
    w = _Writer(rng)
    w.add(f'''
    """Business rules for {domain} (module {index})."""

    import hashlib
    import logging
    import os
    import subprocess

    logger = logging.getLogger(__name__)
    ''')
    if (index // len(KINDS)) % 4 == 0:  # every fourth service module holds a literal key
        w.add(f'''
        {domain.upper()}_API_KEY = "sk_live_{rng.getrandbits(96):024x}"
        ''')
    if (index // len(KINDS)) % 4 == 1:  # and every fourth another a secret with a fallback
        w.add(f'''
        WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET_{index}", "dev-secret-{index}")
        ''')
    while w.lines < target_lines:
        fn = _name(rng, rng.choice(["compute", "apply", "score", "merge", "plan", "notify", "archive"]), domain)
        field = rng.choice(FIELDS)
        style = rng.randrange(6)
        if style == 0:
            w.add(f'''
            def {fn}(items, threshold={rng.randrange(1, 100)}):
                """Keep the items whose {field} passes the threshold, best first."""
                kept = [item for item in items if (item.get("{field}") or 0) >= threshold]
                kept.sort(key=lambda item: item.get("{field}") or 0, reverse=True)
                logger.debug("kept %d of %d", len(kept), len(items))
                return kept
            ''')
        elif style == 1:
            w.add(f'''
            def {fn}(user, password):
                digest = hashlib.md5(password.encode()).hexdigest()
                logger.info("password check for %s", user)
                return digest == user.get("password_hash")
            ''')
        elif style == 2:
            w.add(f'''
            def {fn}(host):
                print("checking", host)
                return subprocess.run(["ping", "-c", "1", host], capture_output=True, timeout=5).returncode == 0
            ''')
        elif style == 3:
            w.add(f'''
            class {fn.title().replace("_", "")}:
                """Accumulates {field} values and reports simple statistics."""

                def __init__(self):
                    self.values = []

                def add(self, value):
                    if value is not None:
                        self.values.append(float(value))

                def mean(self):
                    return sum(self.values) / len(self.values) if self.values else 0.0

                def spread(self):
                    return (max(self.values) - min(self.values)) if self.values else 0.0
            ''')
        elif style == 4:
            w.add(f'''
            def {fn}(rows, key="{field}"):
                groups = {{}}
                for row in rows:
                    groups.setdefault(row.get(key), []).append(row)
                return {{k: len(v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}}
            ''')
        else:
            w.add(f'''
            def {fn}(record):
                try:
                    return {{"id": record["id"], "{field}": record["{field}"]}}
                except KeyError:
                    logger.warning("incomplete record %r", record.get("id"))
                    return None
            ''')
    return w.text()


def _model_module(rng: random.Random, index: int, target_lines: int) -> str:
    w = _Writer(rng)
    w.add(f'''
    """Database models (module {index})."""

    from datetime import datetime

    from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String

    from ..extensions import db
    ''')
    while w.lines < target_lines:
        domain = rng.choice(DOMAINS)
        cls = domain.title().rstrip("s") + f"{index}x{rng.randrange(1000)}"
        fields = rng.sample(FIELDS, 5)
        columns = "\n        ".join(f"    {f} = db.Column({rng.choice(['String(120)', 'Integer', 'Float', 'Boolean'])}, "
                            f"nullable={rng.choice(['True', 'False'])})" for f in fields)
        w.add(f'''
        class {cls}(db.Model):
            __tablename__ = "{domain}_{index}_{rng.randrange(10_000)}"
            id = db.Column(Integer, primary_key=True)
        {columns}
            created_at = db.Column(DateTime, default=datetime.utcnow)

            def to_dict(self):
                return {{{", ".join(f'"{f}": self.{f}' for f in fields)}, "id": self.id}}

            def __repr__(self):
                return f"<{cls} {{self.id}}>"
        ''')
    return w.text()


def _util_module(rng: random.Random, index: int, target_lines: int) -> str:
    w = _Writer(rng)
    w.add(f'''
    """Small helpers (module {index})."""

    import re
    from datetime import date, datetime
    ''')
    while w.lines < target_lines:
        fn = _name(rng, rng.choice(["parse", "format", "clean", "split", "check", "normalise"]),
                   rng.choice(FIELDS))
        style = rng.randrange(4)
        if style == 0:
            w.add(f'''
            def {fn}(value):
                """Lower-case, trim and collapse the spaces of ``value``."""
                return re.sub(r"\\s+", " ", str(value or "")).strip().lower()
            ''')
        elif style == 1:
            w.add(f'''
            def {fn}(text, default=None):
                for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"):
                    try:
                        return datetime.strptime(text, pattern).date()
                    except (TypeError, ValueError):
                        continue
                return default
            ''')
        elif style == 2:
            w.add(f'''
            def {fn}(items, size={rng.randrange(2, 50)}):
                """Split ``items`` into lists of at most ``size``."""
                return [items[i:i + size] for i in range(0, len(items), size)]
            ''')
        else:
            w.add(f'''
            def {fn}(value, low={rng.randrange(0, 10)}, high={rng.randrange(50, 500)}):
                if not isinstance(value, (int, float)):
                    raise TypeError("a number is required")
                if value < low or value > high:
                    raise ValueError(f"{{value}} is outside [{{low}}, {{high}}]")
                return value
            ''')
    return w.text()


# --- the package ---------------------------------------------------------------------------

_FIXED = {
    "auth.py": '''
        """The app's own auth decorator: a bearer token checked against the configured secret."""

        from functools import wraps

        import jwt
        from flask import current_app, g, jsonify, request


        def login_required(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                header = request.headers.get("Authorization", "")
                try:
                    claims = jwt.decode(header.removeprefix("Bearer "), current_app.config["JWT_SECRET"],
                                        algorithms=["HS256"])
                except jwt.PyJWTError:
                    return jsonify(error="unauthorized"), 401
                g.user_id = claims["sub"]
                return view(*args, **kwargs)

            return wrapper
    ''',
    "extensions.py": '''
        """Extension objects."""

        from sqlalchemy import Column
        from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker


        class _Database:
            """The names models and routes use, shaped like Flask-SQLAlchemy's ``db``."""

            Model = declarative_base()
            Column = Column
            session = scoped_session(sessionmaker())


        db = _Database()
    ''',
    "services/common.py": textwrap.dedent('''
        """Repositories shared by the blueprints."""


        class Repository:
            def page(self, page=1, size=20):
                return []

            def get(self, item_id):
                return None

            def create(self, **fields):
                return None

            def update(self, item_id, **fields):
                return None

            def delete(self, item_id):
                return None

            def count(self):
                return 0

            def featured(self):
                return []
    ''') + "".join(
        f"\n\nclass {d.title()}Repository(Repository):\n    table = \"{d}\"\n\n\n"
        f"def sync_{d}(payload):\n    return dict(payload)\n" for d in DOMAINS),
}


def generate(out: str | Path, lines: int = 100_000, modules: int = 520, seed: int = 7) -> TreeStats:
    """Write the tree to ``out/bigapp`` (replacing it) and return what was written."""
    fixed = 1 + len(KINDS) + len(_FIXED)  # the package's and the four folders' __init__, the fixed modules
    if modules < fixed + len(KINDS):
        raise ValueError(f"modules must be at least {fixed + len(KINDS)}")
    rng = random.Random(seed)
    root = Path(out) / "bigapp"
    if root.exists():
        shutil.rmtree(root)
    for kind in KINDS:
        (root / kind).mkdir(parents=True)
        (root / kind / "__init__.py").write_text(f'"""{kind.title()} of the generated app."""\n')
    for rel, text in _FIXED.items():
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    per_module = max(20, (lines - 150) // (modules - fixed))  # ~150 lines are the fixed modules
    total_lines, total_routes, blueprints = 0, 0, []
    for index in range(modules - fixed):
        kind = KINDS[index % len(KINDS)]
        size = max(20, int(per_module * rng.uniform(0.6, 1.4)))
        if kind == "blueprints":
            text, routes, name = _blueprint_module(rng, index, size)
            blueprints.append((f"m{index:04d}", name))
            total_routes += routes
        elif kind == "services":
            text = _service_module(rng, index, size)
        elif kind == "models":
            text = _model_module(rng, index, size)
        else:
            text = _util_module(rng, index, size)
        module = f"m{index:04d}"
        (root / kind / f"{module}.py").write_text(text)
    imports = "\n".join(f"from .blueprints.{m} import {n.rsplit('_', 1)[0]}_bp as bp_{m}" for m, n in blueprints)
    registers = "\n".join(f"    app.register_blueprint(bp_{m})" for m, _ in blueprints)
    (root / "__init__.py").write_text(
        '"""A large generated Flask app (benchmarks/generate.py)."""\n\nimport os\n\nfrom flask import Flask\n\n'
        f"{imports}\n\n\ndef create_app():\n    app = Flask(__name__)\n"
        '    app.config["JWT_SECRET"] = os.environ["JWT_SECRET"]\n'
        f"{registers}\n    return app\n")
    for path in root.rglob("*.py"):
        source = path.read_text()
        compile(source, str(path), "exec")  # a generator bug must fail here, not in a benchmark
        total_lines += source.count("\n")
    count = sum(1 for _ in root.rglob("*.py"))
    return TreeStats(root, count, total_lines, total_routes)


QUICK = {"lines": 6_000, "modules": 40}  # the small tree of the benchmarks' --quick


def tree_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the benchmarks that say which tree to generate and how many jobs to use;
    :func:`tree_options` applies ``--quick`` to the parsed result."""
    import os

    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--modules", type=int, default=520)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help=f"a small tree ({QUICK['lines']} lines)")
    return parser


def tree_options(args: argparse.Namespace) -> argparse.Namespace:
    if args.quick:
        args.lines, args.modules = QUICK["lines"], QUICK["modules"]
    return args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--modules", type=int, default=520)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    stats = generate(args.out, args.lines, args.modules, args.seed)
    print(f"{stats.root}: {stats.modules} modules, {stats.lines} lines, {stats.routes} routes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
