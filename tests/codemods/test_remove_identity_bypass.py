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
