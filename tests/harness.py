"""Starting and stopping the real Rasa servers, for end-to-end tests and benchmarks.

Plain functions (no pytest): tests/e2e/conftest.py and bench/ both use them.
"""
from __future__ import annotations

import base64
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "rapport.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def channel_variables() -> list[str]:
    """The environment variables credentials.yml names (`${NAME}`)."""
    return sorted(set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", (ROOT / "credentials.yml").read_text())))


def server_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for servers and the CLI: a fresh SQLite store under `data_dir`, fresh secrets,
    every Rapport setting explicit (so a developer's .env never leaks into a test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    # The channels read credentials.yml's ${VARS} from the environment, then from the project's
    # .env (a plain `rasa run` needs that); set but empty here, a developer's own never leak in.
    env.update({name: "" for name in channel_variables()})
    env.update(
        RAPPORT_DATA_DIR=str(data_dir),
        RAPPORT_DATABASE_URL=f"sqlite:///{data_dir / 'rapport.db'}",
        RAPPORT_ID_SECRET=secrets.token_hex(16),
        RAPPORT_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        RAPPORT_LOCALE="US",
        RAPPORT_PRACTICE_NAME="Test Practice",
        RAPPORT_ONCALL_NUMBER="",
        RAPPORT_ALERT_WEBHOOK="",
        RAPPORT_ALERT_SECRET="",
        RAPPORT_ALERT_DEDUP_MINUTES="30",
        RAPPORT_ALERT_MAX_ATTEMPTS="12",
        RAPPORT_ALERT_RETRY_SECONDS="5",
        RAPPORT_ALERT_POLL_SECONDS="5",
        RAPPORT_ALERT_TIMEOUT_SECONDS="5",
        RAPPORT_SHARE_DEFAULT="share",
        RAPPORT_RETENTION_DAYS="180",
        # Tests and benchmarks play many clients from one address, quickly: the flood limits
        # (channels/limits.py) run but are set far above what they send. test_flood_limits sets its own.
        RAPPORT_RATE_PER_SENDER="100000",
        RAPPORT_RATE_PER_ADDRESS="100000",
        RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS="100000",
        RAPPORT_TRUSTED_PROXIES="127.0.0.1,::1",
        RAPPORT_RATE_STORAGE="memory://",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=str(ROOT),
        SANIC_HOST="127.0.0.1",  # the action server has no authentication: loopback only
        SANIC_KEEP_ALIVE_TIMEOUT="75",  # Sanic's 5 s default drops requests it already accepted
    )
    env.update(overrides)
    return env


def migrate(env: dict[str, str]) -> None:
    """Creates the store's schema, as `make chat` / `make serve` do before starting."""
    subprocess.run([sys.executable, "-m", "bot.review", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_action_server(env: dict[str, str], log: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Starts the action server; returns the process and its webhook URL once it answers."""
    port = port or free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    wait_until_up(f"http://127.0.0.1:{port}/health", proc, log)
    return proc, f"http://127.0.0.1:{port}/webhook"


def write_endpoints(path: Path, action_url: str, tracker_db: Path) -> Path:
    path.write_text(
        f'action_endpoint:\n  url: "{action_url}"\n'
        "tracker_store:\n  type: components.tracker_store.ErasableSQLTrackerStore\n"
        f'  dialect: "sqlite"\n  db: "{tracker_db}"\n'
    )
    return path


def start_rasa_server(
    env: dict[str, str], endpoints: Path, token: str, log: Path, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    """Starts `rasa run` (REST channel + HTTP API with `token`); returns the process and base URL."""
    port = port or free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(  # the token through the environment, as scripts/run.sh does
            [str(VENV_BIN / "python"), str(ROOT / "scripts" / "rasa_run.py"), "run", "--model", str(MODEL),
             "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml"), "--enable-api",
             "--interface", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env | {"RASA_AUTH_TOKEN": token}, stdout=out, stderr=subprocess.STDOUT,
        )
    wait_until_up(f"http://127.0.0.1:{port}/", proc, log)
    return proc, f"http://127.0.0.1:{port}"
