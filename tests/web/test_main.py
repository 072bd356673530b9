"""python -m bot.web (bot/web/__main__.py): hash-password, and refusing to start without its settings."""
from __future__ import annotations

import subprocess
import sys

from bot.web import auth
from tests.harness import (
    ROOT,
)


def test_hash_password_command_reads_stdin(cli_env: dict[str, str]):
    result = subprocess.run(
        [sys.executable, "-m", "bot.web", "hash-password"],
        input="my practice password\n", cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert auth.verify_password("my practice password", result.stdout.strip())


def test_server_refuses_to_start_without_its_settings(cli_env: dict[str, str]):
    # Empty values, so that a developer's .env cannot fill them in.
    env = dict(cli_env, RAPPORT_REVIEW_USER="", RAPPORT_REVIEW_PASSWORD_HASH="", RAPPORT_REVIEW_SECRET="")
    result = subprocess.run(
        [sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "RAPPORT_REVIEW_USER" in result.stderr and "RAPPORT_REVIEW_SECRET" in result.stderr
