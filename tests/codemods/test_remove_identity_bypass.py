import textwrap

from audit.codemods.remove_identity_bypass import RemoveIdentityBypassCommand as Command


def test_hard_coded_identities_become_the_token_identity(apply):
    out = apply(Command, '''
        def like(post_id):
            user_id = 7
            owner_id = "7"
            g.user = User.query.get(7)
            me = db.session.get(User, 7)
            other = User.query.filter_by(id=7).first()
            page = 7
            return user_id
        ''')
    assert "user_id = current_user_id()" in out
    assert "owner_id = str(current_user_id())" in out  # the type the code expects
    assert "User.query.get(current_user_id())" in out
    assert "db.session.get(User, current_user_id())" in out
    assert "filter_by(id=current_user_id())" in out
    assert "page = 7" in out


def test_module_level_constants_untouched(apply):
    source = "ADMIN_USER_ID = 1\nuser_id = 7\n"
    assert apply(Command, source) == source


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        from workbench_security import current_user_id

        def like(post_id):
            user_id = current_user_id()
            return db.session.get(Post, 7)
        ''')
    assert apply(Command, source) == source


def test_dev_switch_in_a_guard_is_removed(apply):
    out = apply(Command, '''
        def require_admin():
            if current_app.config.get("DEBUG"):
                return None  # open while developing
            if identify_caller() is None:
                return {"error": "authentication required"}, 401

        def login_required(view):
            def wrapper(*args, **kwargs):
                if os.getenv("SKIP_AUTH"):
                    return view(*args, **kwargs)
                if not session.get("uid"):
                    abort(401)
                return view(*args, **kwargs)
            return wrapper

        def render(debug):
            if debug:
                return "verbose"
            return "short"
        ''')
    assert "DEBUG" not in out and "SKIP_AUTH" not in out
    assert 'if debug:\n        return "verbose"' in out  # not a guard: a switch is just a switch


def test_identity_callbacks_look_the_caller_up(apply):
    out = apply(Command, '''
        DEMO_USER_ID = 1

        @login_manager.request_loader
        def load_from_request(_request):
            """Everyone is the demo user."""
            return db.get_user(DEMO_USER_ID)

        @login_manager.user_loader
        def load_user(uid):
            return User.query.get(1)

        def get_current_user():
            return users.find(id=7)
        ''')
    assert ('"""Everyone is the demo user."""\n    user_id = optional_user_id()\n    if user_id is None:'
            in out and "return db.get_user(user_id)" in out)
    assert "return User.query.get(uid)" in out  # a user loader is given the id
    assert "return users.find(id=current_user_id())" in out
    assert "DEMO_USER_ID = 1" in out


def test_callbacks_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        @login_manager.user_loader
        def load_user(uid):
            return User.query.get(int(uid))

        @login_manager.request_loader
        def load_from_request(_request):
            user_id = optional_user_id()
            if user_id is None:
                return None
            return db.get_user(user_id)
        ''')
    assert apply(Command, source) == source


def test_identity_read_with_a_literal_fallback_in_a_handler(apply):
    out = apply(Command, '''
        @bp.get("/orders/<int:order_id>")
        def get_order(order_id):
            user_id = session.get("user_id", 1)
            owner_id = g.get("uid") or 7
            page = request.args.get("page", 1)
            return load(order_id, user_id, owner_id, page)
        ''')
    assert "user_id = current_user_id()" in out and "owner_id = current_user_id()" in out
    assert 'page = request.args.get("page", 1)' in out
