import textwrap

from audit.codemods.harden_passwords import HardenPasswordsCommand as Command


def test_fast_hash_login_and_set(apply):
    out = apply(Command, '''
        import hashlib

        def hash_password(password):
            return hashlib.md5(password.encode("utf-8")).hexdigest()

        def check(user, password):
            return user.password_hash == hash_password(password)

        def matches(stored, candidate):
            return stored == hashlib.sha256(candidate.encode()).hexdigest()

        def register():
            data = request.get_json()
            create_user(password_hash=hash_password(data["password"]))
            user.password = data["password"]
            User(password=data["password"])
        ''')
    assert "return secure_password_hash(password)" in out
    assert 'return check_and_upgrade_password(user, "password_hash", password)' in out
    assert "return verify_password(stored, candidate)" in out
    assert 'create_user(password_hash=hash_password(require_strong_password(data["password"])))' in out
    assert 'user.password = secure_password_hash(require_strong_password(data["password"]))' in out
    assert 'User(password=secure_password_hash(require_strong_password(data["password"])))' in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        from werkzeug.security import generate_password_hash

        def seed():
            return generate_password_hash(DEMO_PASSWORD)
        ''')
    assert apply(Command, source) == source


def test_policy_where_a_password_is_chosen_and_plain_sql_parameters_hashed(apply_with_notes):
    out, context = apply_with_notes(Command, '''
        @app.post("/register")
        def register():
            data = request.get_json()
            conn.execute("INSERT INTO users (username, password) VALUES (?, ?)", (data["username"], data["password"]))
            digest = hashlib.sha256(data["password"].encode()).hexdigest()

        @app.put("/account/password")
        def change():
            data = request.get_json()
            return generate_password_hash(data["new_password"])

        @app.post("/login")
        def login():
            data = request.get_json()
            return hashlib.sha256(data["password"].encode()).hexdigest() == stored
        ''')
    assert '(data["username"], secure_password_hash(require_strong_password(data["password"]))))' in out
    assert 'digest = secure_password_hash(require_strong_password(data["password"]))' in out
    assert 'generate_password_hash(require_strong_password(data["new_password"]))' in out
    assert 'return verify_password(stored, data["password"])' in out  # a login checks, never imposes the policy
    assert any("not re-hashed here" in w for w in context.warnings)  # no record to upgrade: a human saves it
