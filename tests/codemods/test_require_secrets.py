import textwrap

from audit.codemods.require_secrets import RequireSecretsCommand as Command


def test_fallbacks_and_literals(apply):
    out = apply(Command, '''
        import os
        JWT_SECRET = os.getenv("JWT_SECRET", "dev")
        WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET") or "changeme"
        class Config:
            SECRET_KEY = "abc123"
            TOKEN_TTL = "3600"
        ''')
    assert 'JWT_SECRET = require_env("JWT_SECRET")' in out
    # every secret that loses its fallback or literal is required at start-up, never None
    assert 'WEBHOOK_SECRET = require_env("WEBHOOK_SECRET")\n' in out
    assert 'SECRET_KEY = require_env("SECRET_KEY")' in out
    assert 'TOKEN_TTL = "3600"' in out  # a setting about a token, not a secret
    assert "from workbench_security import require_env" in out


def test_config_get_reads_config_then_env(apply):
    out = apply(Command, 'from flask import current_app\nk = current_app.config.get("JWT_SECRET", "x")\n')
    assert 'current_app.config.get("JWT_SECRET") or require_env("JWT_SECRET")' in out


def test_data_is_not_a_setting(apply):
    source = 'User(username="a", password="hunter2hunter2")\nPAYLOAD = {"token": "abc"}\nDEMO_PASSWORD = "x"\n'
    assert apply(Command, source) == source


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        import os
        from workbench_security import require_env
        JWT_SECRET = require_env("JWT_SECRET")
        SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
        ''')
    assert apply(Command, source) == source


def test_removed_fallbacks_are_listed_as_required_env(apply_with_notes):
    source = 'import os\nSECRET_KEY = os.environ.get("APP_SECRET_KEY", "dev")\nclass Settings:\n    SECRET_KEY = "x"\n'
    out, context = apply_with_notes(Command, source)
    assert 'SECRET_KEY = require_env("APP_SECRET_KEY")' in out and 'SECRET_KEY = require_env("SECRET_KEY")' in out
    assert context.scratch["workbench.required_env"] == {"APP_SECRET_KEY", "SECRET_KEY"}


def test_secret_compared_with_a_literal_moves_to_the_environment(apply):
    out = apply(Command, '''
        def check(password):
            return password == "admin123"

        def guard(token):
            if token == "":
                return None
            if "s3cr3t-token" != token:
                abort(401)
        ''')
    assert 'return matches_env_secret(password, "CHECK_PASSWORD")' in out
    assert 'if not matches_env_secret(token, "GUARD_TOKEN"):' in out
    assert 'if token == "":' in out  # an absence test, not a secret
    assert "from workbench_security import matches_env_secret" in out


def test_a_migrated_app_refuses_to_start_without_a_secret_read_inside_a_function(tmp_path):
    """The fallback of a secret read at request time is removed, and the app checks it at
    start-up (init_security reads MIGRATION.json's required_env): one line naming it."""
    import json
    import os
    import subprocess
    import sys

    from audit.migrate import run_migration

    src = tmp_path / "payapp"
    src.mkdir()
    (src / "__init__.py").write_text(textwrap.dedent('''
        import os
        from flask import Flask, jsonify

        def create_app():
            app = Flask(__name__)

            @app.route("/charge", methods=["POST"])
            def charge():
                key = os.getenv("STRIPE_API_KEY", "sk_test_123")
                return jsonify(ok=bool(key))

            return app
        '''))
    target = tmp_path / "out" / "payapp"
    run_migration(src, target, jobs=1, progress=False)
    assert 'require_env("STRIPE_API_KEY")' in (target / "__init__.py").read_text()
    assert "STRIPE_API_KEY" in json.loads((target / "MIGRATION.json").read_text())["required_env"]
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_API_KEY"}
    env.update(JWT_SECRET="x" * 40, PYTHONPATH=str(target.parent))
    start = [sys.executable, "-c", "import payapp; payapp.create_app()"]
    proc = subprocess.run(start, env=env, capture_output=True, text=True, timeout=60)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and "STRIPE_API_KEY" in lines[0], proc.stderr[-500:]
    proc = subprocess.run(start, env={**env, "STRIPE_API_KEY": "sk_live"}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
