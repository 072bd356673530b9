"""`make serve` as a practice runs it: scripts/run.sh serve in the foreground, stopped by Ctrl-C.

Runs in a copy of the project (sharing the venv, the trained model and the web chat's npm
packages) with its own .env, so the developer's .env, var/ and database are never touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.harness import MODEL, ROOT, free_port, server_env, wait_until_up

ACTION_PORT = 5055  # fixed in endpoints.yml
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv*", "models", "var", "node_modules", ".env",
                                     "__pycache__", "*.db", "test-artifacts", ".pytest_cache")


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def project(tmp_path: Path) -> Path:
    if listening(ACTION_PORT):
        pytest.skip(f"port {ACTION_PORT} is in use (a running `make serve`?); run.sh needs it")
    copy = tmp_path / "rapport"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    (copy / "models").mkdir()
    (copy / "models" / MODEL.name).symlink_to(MODEL)
    (copy / "webchat" / "node_modules").symlink_to(ROOT / "webchat" / "node_modules")
    return copy


def test_make_serve_answers_over_rest_and_ctrl_c_stops_everything(project: Path, tmp_path: Path):
    rasa_port, webchat_port = free_port(), free_port()
    token = "-starts-with-a-dash-" + os.urandom(8).hex()  # as a generated token sometimes does
    env = server_env(project / "var")
    settings = {k: v for k, v in env.items() if k.startswith("RAPPORT_")}
    settings.update(RASA_AUTH_TOKEN=token, RASA_HOST="127.0.0.1", RASA_PORT=str(rasa_port),
                    RAPPORT_WEBCHAT_PORT=str(webchat_port))
    (project / ".env").write_text("".join(f"{k}='{v}'\n" for k, v in settings.items()))
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["scripts/run.sh", "serve"], cwd=project, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", proc, log)
        url = f"http://127.0.0.1:{rasa_port}"
        reply = requests.post(f"{url}/webhooks/rest/webhook",
                              json={"sender": "serve-test", "message": "hi"}, timeout=60).json()
        assert reply and "not a therapist" in " ".join(m.get("text", "") for m in reply).lower()
        tracker = f"{url}/conversations/serve-test/tracker"
        assert requests.get(tracker, params={"token": token}, timeout=30).status_code == 200
        assert requests.get(tracker, timeout=30).status_code == 401
        page = requests.get(f"http://127.0.0.1:{webchat_port}/", timeout=30)
        assert page.status_code == 200 and "socket.io" in page.text
        assert listening(ACTION_PORT)

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and group_alive(proc.pid):
        time.sleep(0.5)
    assert not group_alive(proc.pid), "the action server or web chat outlived Ctrl-C"
    assert not [p for p in (rasa_port, webchat_port, ACTION_PORT) if listening(p)], log.read_text()[-3000:]


def group_alive(pgid: int) -> bool:
    """Whether a process of the group (run.sh and what it started) still runs (zombies don't)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False
