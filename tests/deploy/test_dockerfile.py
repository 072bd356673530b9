"""The Dockerfile (hadolint) and what the image runs (deploy/entrypoint.py).

No container daemon runs on these machines, and podman cannot start a container here
(docs/kubernetes.md, "Building the image"): the image's file tree is rebuilt instead from the
build context as .dockerignore leaves it, and its commands are started from there.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deploy.entrypoint import ROLES, command

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
EXPECTED_ACTION = "validate_checkin_form"  # actions/checkin.py


def test_hadolint_finds_nothing_in_the_dockerfile(tools):
    result = tools.hadolint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_does_flag_a_careless_dockerfile(tools, tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install rasa\nRUN cd /app && python setup.py\n")
    result = tools.hadolint(careless)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3003"):  # :latest, unpinned pip, cd in RUN
        assert rule in result.stdout


def _final_stage() -> str:
    return DOCKERFILE.rsplit("\nFROM ", 1)[1]


def test_the_image_runs_as_a_numeric_non_root_user_with_the_model_inside():
    final = _final_stage()
    users = re.findall(r"^USER\s+(\S+)", final, re.M)
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    assert "test -s models/rapport.tar.gz && test -s models/language.npz" in final
    assert 'ENTRYPOINT ["python", "-m", "deploy.entrypoint"]' in final


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
            return True
    return False


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_secrets_venvs_and_local_data_stay_out_of_the_build_context():
    patterns = dockerignore()
    for path in (".env", ".env.production", ".venv/bin/python", ".venv-deploy/bin/helm", "var/rapport.db",
                 "webchat/node_modules/x.js", ".git/config", "bot/__pycache__/a.pyc"):
        assert _ignored(path, patterns), path
    for path in ("models/rapport.tar.gz", "models/language.npz", "scripts/rasa_run.py", "endpoints.production.yml",
                 "credentials.yml", "deploy/nginx.conf.template", "webchat/index.html"):
        assert not _ignored(path, patterns), path


def test_rasa_starts_through_rasa_run_py_and_the_token_is_never_an_argument(monkeypatch):
    monkeypatch.setenv("RASA_AUTH_TOKEN", "do-not-show-me")
    argv = command("rasa", [])
    assert argv[1:3] == ["scripts/rasa_run.py", "run"]
    assert "endpoints.production.yml" in argv and "credentials.yml" in argv
    assert not any("do-not-show-me" in arg or arg.startswith("--auth-token") for arg in argv)
    assert command("actions", [])[1:3] == ["-m", "rasa_sdk"]
    assert set(ROLES) >= {"rasa", "actions", "review", "migrate", "scheduler"}


def _image_tree(target: Path) -> Path:
    """The image's /app: the repository as .dockerignore leaves it (tracked and untracked files)."""
    patterns = dockerignore()
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    for relative in listed + ["models/rapport.tar.gz", "models/language.npz"]:
        source = ROOT / relative
        if source.is_file() and not _ignored(relative, patterns):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    # The npm stage's packages, copied in by the Dockerfile.
    for folder in ("webchat/node_modules", "bot/web/node_modules"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, target / folder, symlinks=True)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory) -> Path:
    return _image_tree(tmp_path_factory.mktemp("app"))


def _image_env(tree: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "RABBITMQ_", "REDIS_"))}
    env.update(PYTHONPATH=str(tree), HOME=str(tree.parent), RASA_TELEMETRY_ENABLED="false", **extra)
    return env


def test_the_image_tree_runs_migrate_then_the_scheduler_once(image_tree, tmp_path, encryption_key):
    env = _image_env(image_tree, RAPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'rapport.db'}",
                     RAPPORT_ENCRYPTION_KEYS=encryption_key, RAPPORT_ID_SECRET="x" * 32)
    entry = [sys.executable, "-m", "deploy.entrypoint"]
    migrated = subprocess.run([*entry, "migrate"], cwd=image_tree, env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    once = subprocess.run([*entry, "scheduler", "--once"], cwd=image_tree, env=env, capture_output=True, text=True,
                          timeout=120)
    assert once.returncode == 0, once.stderr
    assert "Purged 0 check-in(s)" in once.stdout


def test_the_image_tree_serves_the_action_server_and_its_probe_answers(image_tree, tmp_path, encryption_key):
    port = _free_port()
    env = _image_env(image_tree, RAPPORT_ACTIONS_PORT=str(port), RAPPORT_ENCRYPTION_KEYS=encryption_key,
                     RAPPORT_ID_SECRET="x" * 32, RAPPORT_DATABASE_URL=f"sqlite:///{tmp_path / 'rapport.db'}")
    entry = [sys.executable, "-m", "deploy.entrypoint"]
    probe = [*entry, "probe", f"http://127.0.0.1:{port}/health", "2"]
    assert subprocess.run(probe, cwd=image_tree, env=env, capture_output=True).returncode == 1  # nothing there yet
    log = (tmp_path / "actions.log").open("w")
    server = subprocess.Popen([*entry, "actions"], cwd=image_tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while subprocess.run(probe, cwd=image_tree, env=env, capture_output=True).returncode != 0:
            assert server.poll() is None, (tmp_path / "actions.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the action server did not answer in 180 s"
            time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/actions", timeout=10) as response:
            names = {action["name"] for action in json.load(response)}
        assert EXPECTED_ACTION in names
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
