"""JupyterLab's view of the notebooks: a headless Jupyter server (what `make lab` starts,
minus the browser UI) opens them through the contents API and starts their kernel through
the sessions API, and that kernel runs this environment with the notebooks' defaults
pointing at legacy_app/."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
STEMS = ["01_map", "02_breakdown", "03_mitigate", "04_deploy"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port, token = _free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    log = (runtime / "server.log").open("w")
    args = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={NOTEBOOKS}", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # CI containers run as root
    proc = subprocess.Popen(
        args,
        stdout=log, stderr=subprocess.STDOUT, cwd=NOTEBOOKS,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)},
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/api/status", headers=headers, timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"jupyter server did not start:\n{(runtime / 'server.log').read_text()}")
        time.sleep(0.3)
    yield base, headers, port, token
    requests.post(f"{base}/api/shutdown", headers=headers, timeout=10)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_opens_through_the_contents_api(server, stem):
    base, headers, *_ = server
    answer = requests.get(f"{base}/api/contents/{stem}.ipynb", headers=headers, params={"content": 1}, timeout=30)
    assert answer.status_code == 200
    model = answer.json()
    assert model["type"] == "notebook" and model["format"] == "json"
    cells = model["content"]["cells"]
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert "parameters" in first_code["metadata"]["tags"]
    kernel_name = model["content"]["metadata"]["kernelspec"]["name"]
    specs = requests.get(f"{base}/api/kernelspecs", headers=headers, timeout=10).json()["kernelspecs"]
    assert kernel_name in specs  # the kernel the notebook asks for exists in this environment


async def _execute(port: int, token: str, kernel_id: str, code: str) -> str:
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?token={token}")
    msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False},
    }))
    out: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        raw = await asyncio.wait_for(ws.read_message(), timeout=90)
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            out.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            break
    ws.close()
    return "".join(out)


def test_kernel_starts_with_this_environment_and_the_defaults_resolve(server):
    base, headers, port, token = server
    nb = requests.get(f"{base}/api/contents/01_map.ipynb", headers=headers, params={"content": 1}, timeout=30).json()
    kernel_name = nb["content"]["metadata"]["kernelspec"]["name"]
    # What JupyterLab does when a notebook is opened: a session with a kernel for it.
    session = requests.post(f"{base}/api/sessions", headers=headers, timeout=60, json={
        "path": "01_map.ipynb", "type": "notebook", "name": "", "kernel": {"name": kernel_name}}).json()
    kernel_id = session["kernel"]["id"]
    try:
        params = next(c for c in nb["content"]["cells"] if c["cell_type"] == "code")["source"]
        code = params + (
            "\nimport sys, audit\nfrom audit.report.layout import resolve\n"
            "print(sys.prefix)\nprint(resolve(root, legacy))\nprint(resolve(root, legacy).is_dir())\n"
            "print(callable(audit.map) and callable(audit.plan))\n")
        lines = asyncio.run(_execute(port, token, kernel_id, code)).split("\n")
        assert lines[0] == sys.prefix, lines  # the project's environment, not some other python
        assert Path(lines[1]) == (ROOT / "legacy_app").resolve()
        assert lines[2:4] == ["True", "True"]
    finally:
        requests.delete(f"{base}/api/sessions/{session['id']}", headers=headers, timeout=30)
        requests.delete(f"{base}/api/kernels/{kernel_id}", headers=headers, timeout=30)
