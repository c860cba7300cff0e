import textwrap

from audit.codemods.replace_print_with_logging import ReplacePrintWithLoggingCommand as Command


def test_prints_become_logger_calls_and_secrets_are_redacted(apply):
    out = apply(Command, '''
        import traceback
        from pprint import pprint

        def view(data, token):
            print("leave", 1, 2)
            print(f"reset link token={token}")
            pprint(data)
            try:
                f()
            except Exception:
                traceback.print_exc()
        ''')
    assert "logger = logging.getLogger(__name__)" in out and "import logging" in out
    assert 'logger.info("%s %s %s", "leave", 1, 2)' in out
    assert 'logger.info(f"reset link token=[REDACTED]")' in out
    assert 'logger.debug("%r", data)' in out
    assert 'logger.exception("unexpected error")' in out
    assert "import traceback" not in out and "pprint" not in out.split("logger")[0]


def test_existing_logger_reused_and_log_calls_redacted(apply):
    out = apply(Command, '''
        import logging
        log = logging.getLogger("app")

        def change(user, data):
            log.info("user %s new password %s", user.id, data["new_password"])
        ''')
    assert 'log.info("user %s new password %s", user.id, "[REDACTED]")' in out
    assert "getLogger(__name__)" not in out


def test_main_guard_and_already_clean_unchanged(apply):
    source = textwrap.dedent('''
        import logging
        logger = logging.getLogger(__name__)

        def f(user):
            logger.info("hello %s", user.name)

        if __name__ == "__main__":
            print("usage: ...")
        ''')
    assert apply(Command, source) == source
