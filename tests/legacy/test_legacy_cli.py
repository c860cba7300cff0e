"""`python -m legacy_app seed` fills the database; `python -m legacy_app` serves HTTP."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_ENV", "FLASK_DEBUG")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", JWT_SECRET="cli-test-secret-0123456789abcdef", **extra)
    return env


def test_seed_command(tmp_path, monkeypatch, caplog):
    # in-process (the serve test below runs the real `python -m legacy_app`)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("DATABASE_URL", _env(tmp_path)["DATABASE_URL"])
    from legacy_app.__main__ import main

    caplog.set_level("INFO")
    assert main(["seed"]) == 0
    assert "seeded 8 users, 3 groups, 6 posts, 2 events" in caplog.text
    caplog.clear()
    assert main(["seed"]) == 0
    assert "seeded nothing (already seeded)" in caplog.text
    assert main(["frobnicate"]) == 2


@pytest.mark.slow
def test_serve_answers_http(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _env(tmp_path, PORT=str(port))
    # own session: the debug reloader forks a child that must go down with the server
    server = subprocess.Popen([sys.executable, "-m", "legacy_app"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as resp:
                    assert json.load(resp) == {"status": "ok"}
                break
            except OSError:
                assert server.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/posts/featured", timeout=5) as resp:
            assert resp.status == 200 and isinstance(json.load(resp), list)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
