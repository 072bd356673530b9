"""`make serve` and `make chat` as people run them: scripts/run.sh in the foreground.

Each runs in a copy of the project (sharing the venv, the trained model and the web chat's npm
packages) with its own .env, so the developer's .env, var/ and database are never touched.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import requests

from tests.harness import MODEL, ROOT, free_port, server_env, wait_until_up

LANGUAGE_MODEL = ROOT / "models" / "language.npz"

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
    (copy / "models" / LANGUAGE_MODEL.name).symlink_to(LANGUAGE_MODEL)
    (copy / "webchat" / "node_modules").symlink_to(ROOT / "webchat" / "node_modules")
    return copy


def write_env(project: Path, **settings: str) -> dict[str, str]:
    """The copy's .env (what run.sh reads) with fresh secrets; returns the process environment."""
    env = server_env(project / "var")
    values = {k: v for k, v in env.items() if k.startswith("RAPPORT_")} | settings
    (project / ".env").write_text("".join(f"{k}='{v}'\n" for k, v in values.items()))
    return env


def test_make_serve_answers_over_rest_and_ctrl_c_stops_everything(project: Path, tmp_path: Path):
    rasa_port, webchat_port = free_port(), free_port()
    token = "-starts-with-a-dash-" + os.urandom(8).hex()  # as a generated token sometimes does
    env = write_env(project, RASA_AUTH_TOKEN=token, RASA_HOST="127.0.0.1", RASA_PORT=str(rasa_port),
                    RAPPORT_WEBCHAT_PORT=str(webchat_port))
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
        command_lines = [cmdline.read_bytes() for cmdline in Path("/proc").glob("[0-9]*/cmdline") if readable(cmdline)]
        assert any(b"rasa_run.py" in line for line in command_lines)
        assert not any(token.encode() in line for line in command_lines), "the API token is visible in ps"
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


def test_a_plain_rasa_run_reads_the_channel_settings_from_dot_env(project: Path, tmp_path: Path):
    """`rasa run` typed as Rasa's docs show it (not through run.sh, which exports .env itself)."""
    port = free_port()
    env = write_env(project, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=os.urandom(16).hex(),
                    TWILIO_WEBHOOK_URL="https://rapport.example/webhooks/twilio/webhook")
    env = {k: v for k, v in env.items() if not k.startswith(("TWILIO_", "RAPPORT_"))}  # only .env has them
    env.pop("PYTHONPATH")  # Rasa puts the working directory on the path itself
    log = tmp_path / "rasa.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(project / ".venv" / "bin" / "rasa"), "run", "-p", str(port), "-i", "127.0.0.1"],
                                cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log)
        status = requests.get(f"http://127.0.0.1:{port}/webhooks/twilio/", timeout=30).json()
        assert status == {"status": "ok"}, log.read_text()[-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Terminal:
    """A program on a pseudo-terminal, read as plain text (terminal escape codes removed)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.fd, child = pty.openpty()
        self.proc = subprocess.Popen(args, cwd=cwd, env=env | {"TERM": "xterm"}, stdin=child,
                                     stdout=child, stderr=child, start_new_session=True)
        os.close(child)
        self.screen = ""

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def wait_for(self, pattern: str, timeout: float) -> str:
        """Everything printed since the last match, once `pattern` appears in it."""
        deadline = time.monotonic() + timeout
        raw, text = b"", ""
        while time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.5)[0]:
                try:
                    raw += os.read(self.fd, 65536)
                except OSError:  # the program ended
                    break
            text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode(errors="replace"))
            if re.search(pattern, text):
                return text
        raise AssertionError(f"{pattern!r} did not appear in {timeout} s; the end of what it printed:\n{text[-3000:]}")


@contextmanager
def running_chat(project: Path) -> Iterator[tuple[Terminal, dict[str, str]]]:
    """`make chat` (run.sh chat) in a pseudo-terminal; afterwards, nothing it started may still run
    or hold a port (its server, the action server)."""
    rasa_port = free_port()
    env = write_env(project, RASA_PORT=str(rasa_port))
    chat = Terminal(["scripts/run.sh", "chat"], project, env)
    try:
        chat.wait_for(r"Your input ->", timeout=240)
        yield chat, env
    finally:
        if chat.proc.poll() is None:
            os.killpg(chat.proc.pid, signal.SIGKILL)
            chat.proc.wait()
        os.close(chat.fd)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (group_alive(chat.proc.pid) or listening(rasa_port)
                                           or listening(ACTION_PORT)):
        time.sleep(0.5)
    assert not group_alive(chat.proc.pid), "something run.sh started outlived the chat"
    assert not listening(rasa_port) and not listening(ACTION_PORT), "a port is still taken after the chat"


def stored_answers(project: Path, env: dict[str, str]) -> list[dict]:
    result = subprocess.run([str(project / ".venv" / "bin" / "python"), "-m", "bot.review", "export", "--format", "json"],
                            cwd=project, env=env | {"PYTHONPATH": str(project)}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [a for c in json.loads(result.stdout) for a in c["answers"]]


def test_make_chat_talks_in_the_terminal_and_stop_ends_it(project: Path):
    with running_chat(project) as (chat, _):
        chat.type("who will see this?")
        assert "coded id" in chat.wait_for(r"coded id[\s\S]*Your input ->", timeout=60)
        chat.type("/stop")
        assert chat.proc.wait(timeout=60) == 0


def test_make_chat_takes_words_at_a_button_prompt_and_a_hang_up_stops_everything(project: Path):
    with running_chat(project) as (chat, env):
        chat.type("hi")
        chat.wait_for(r"1\) Let's start[\s\S]*Your input ->", timeout=60)
        chat.type("1")  # a number picks the option
        chat.wait_for(r"5\) Completely[\s\S]*Your input ->", timeout=60)
        chat.type("not really, she talks over me")  # words at a button prompt stay words
        chat.wait_for(r"Your input ->", timeout=60)
        [answer] = stored_answers(project, env)
        assert (answer["dimension"], answer["score"], answer["text"]) == ("team", 2, "not really, she talks over me")
        os.killpg(chat.proc.pid, signal.SIGHUP)  # what closing the terminal sends
        chat.proc.wait(timeout=60)


def readable(path: Path) -> bool:
    try:
        path.read_bytes()
        return True
    except OSError:  # the process ended meanwhile
        return False


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
