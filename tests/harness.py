"""Test support, for the tests and the benchmarks alike: free ports, starting and stopping the
real servers (Rasa, the action server, the review app, the production cluster of
scripts/serve_cluster.sh) in subprocesses, logging in to the review
app, sample check-ins seeded through `Store`, and a fake of the messaging providers' APIs.

Plain functions (no pytest): tests/ and bench/ both import them. Not part of the shipped code.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import requests

from bot.crypto import TextCipher, generate_key
from bot.dimensions import DIMENSIONS
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "rapport.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        RAPPORT_LOG_LEVEL="INFO",
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


# --------------------------------------------------------------------------- the review app

USER = "practice"
PASSWORD = "a long test password, not a real one"
SECRET = "test-session-secret-" + "x" * 32
API_TOKEN = "test-api-token-" + "y" * 32
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@lru_cache(maxsize=1)
def password_hash() -> str:
    from bot.web.auth import hash_password

    return hash_password(PASSWORD)


def review_env(database_url: str, encryption_key: str, **overrides: str) -> dict[str, str]:
    """Environment for `python -m bot.web` against this database, with test credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    env.update(
        RAPPORT_DATABASE_URL=database_url,
        RAPPORT_ENCRYPTION_KEYS=encryption_key,
        RAPPORT_ID_SECRET="test-id-secret",
        RAPPORT_REVIEW_USER=USER,
        RAPPORT_REVIEW_PASSWORD_HASH=password_hash(),
        RAPPORT_REVIEW_SECRET=SECRET,
        RAPPORT_REVIEW_API_TOKEN=API_TOKEN,
        RAPPORT_REVIEW_PORT=str(free_port()),
        # Explicit defaults, so that a developer's .env cannot change what the tests expect.
        RAPPORT_REVIEW_SESSION_MINUTES="30",
        RAPPORT_REVIEW_COOKIE_SECURE="false",
        RAPPORT_ALERT_TOTAL_BELOW="15",
        RAPPORT_REVIEW_HOST="127.0.0.1",
        RAPPORT_PROXIES_COUNT="0",
        RAPPORT_FORWARDED_SECRET="",
        RAPPORT_LOG_LEVEL="INFO",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


class ReviewServer:
    """`python -m bot.web` in a subprocess; `with ReviewServer(env) as server: server.url`."""

    def __init__(self, env: Mapping[str, str], timeout: float = 30.0) -> None:
        self.env = dict(env)
        self.port = int(self.env["RAPPORT_REVIEW_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    def __enter__(self) -> "ReviewServer":
        import tempfile

        log = tempfile.NamedTemporaryFile(prefix="rapport-review-", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.web"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"review server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"review server did not start within {self.timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise AssertionError("no csrf_token in the page")
    return match.group(1)


def login(http: Any, base_url: str, user: str = USER, password: str = PASSWORD) -> Any:
    """Log a `requests.Session` in through the real form; returns the POST response."""
    form = http.get(f"{base_url}/login")
    return http.post(
        f"{base_url}/login",
        data={"csrf_token": csrf_token(form.text), "username": user, "password": password, "next": "/"},
        allow_redirects=False,
    )


# --------------------------------------------------------------------------- the practice's webhook


class WebhookReceiver:
    """The practice's alert webhook on loopback: records each POST (body, headers); answers with
    `statuses` in turn, then 204. `port` to take a port a test left closed. `verified()` checks
    every body's Standard Webhooks signature against `secret` with the specification's library."""

    def __init__(self, secret: str, statuses: list[int] | None = None, port: int = 0) -> None:
        self.secret = secret
        self.statuses = list(statuses or [])
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.arrived = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                status = server.statuses.pop(0) if server.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                server.arrived.set()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?token=s3cret"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def verified(self) -> list[dict]:
        """Every body received, each verified against its headers (raises if one does not verify)."""
        from standardwebhooks.webhooks import Webhook

        return [Webhook(self.secret).verify(body, headers) for body, headers in zip(self.bodies, self.headers)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- sample data


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


LOW, PRIVATE, CRISIS, QUIET, HTML = (
    "1ow0" + "a" * 60,
    "9a17" + "b" * 60,
    "c1c1" + "c" * 60,
    "de0d" + "d" * 60,
    "e4e4" + "e" * 60,
)
SECRET_WORDS = "SECRET-PRIVATE-WORDS"
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"
START = datetime(2025, 2, 1, 10, 0, tzinfo=timezone.utc)


def add_checkin(
    store: Store,
    clock: Clock,
    client_id: str,
    scores: list[int | None],
    *,
    shared: bool = True,
    words: str = "",
    summary: str | None = "Thank you for checking in.",
    complete: bool = True,
) -> int:
    checkin_id = store.start_checkin(client_id, "test", shared)
    for dimension, score in zip(DIMENSIONS, scores):
        text = words or (f"they {dimension} me, {score} of 5" if score else "")
        store.record_answer(checkin_id, dimension, score, text, skipped=score is None)
        if score is not None and score <= 3:
            store.record_followup(checkin_id, dimension, f"more about {dimension}")
    if complete:
        store.complete_checkin(checkin_id, summary or "")
    clock.now += timedelta(hours=1)
    return checkin_id


def seed_sample(store: Store, clock: Clock, advance: Callable[[int], None] | None = None) -> dict[str, str]:
    """Five clients, one per thing the page must show; returns their ids by role.

    - LOW:     a good check-in, then a low one (alerts: low item, drops, low total)
    - PRIVATE: a shared good check-in, then a private low one with SECRET_WORDS
    - CRISIS:  a shared fine check-in, then a crisis event in a paused one
    - QUIET:   fine scores, the most recent check-in of all
    - HTML:    client words that are HTML/JS
    """

    def days(n: int) -> None:
        clock.now = START + timedelta(days=n)

    days(0)
    add_checkin(store, clock, LOW, [5, 5, 4, 5, 4], summary="You feel mostly on the same page.")
    add_checkin(store, clock, PRIVATE, [4, 4, 4, 4, 4])
    add_checkin(store, clock, CRISIS, [3, 4, 4, 4, 3])
    days(7)
    add_checkin(
        store,
        clock,
        LOW,
        [4, 1, 3, 4, 2],
        summary="You said you don't feel heard lately, in your words: “she keeps checking the clock”.",
    )
    add_checkin(store, clock, PRIVATE, [1, 1, 1, 1, 1], shared=False, words=SECRET_WORDS, summary=SECRET_WORDS)
    add_checkin(store, clock, HTML, [4, 4, 4, 4, 4], words=HOSTILE, summary=HOSTILE)
    days(8)
    paused = add_checkin(store, clock, CRISIS, [3, None, None, None, None], complete=False)
    store.record_event(CRISIS, "crisis", paused)
    store.set_status(paused, "paused")
    days(9)
    add_checkin(store, clock, QUIET, [5, 5, 5, 4, 5])
    return {"low": LOW, "private": PRIVATE, "crisis": CRISIS, "quiet": QUIET, "html": HTML}


# --------------------------------------------------------------------------- the production profile


class Cluster:
    """scripts/serve_cluster.sh as a subprocess; `info` is its cluster.json once it is up."""

    def __init__(self, replicas: int, workdir: Path, env_overrides: dict[str, str] | None = None) -> None:
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "serve_cluster.log"
        env = dict(os.environ)
        env.update(
            RAPPORT_REPLICAS=str(replicas), RAPPORT_CLUSTER_DIR=str(workdir),
            RAPPORT_CLUSTER_PORT=str(free_port()), RAPPORT_CLUSTER_ACTIONS_PORT=str(free_port()),
            RAPPORT_REPLICA_BASE_PORT=str(free_block(replicas)),
            RAPPORT_CLUSTER_REVIEW_PORT=str(free_port()), RAPPORT_CLUSTER_REVIEW_BACKEND_PORT=str(free_port()),
            RASA_TELEMETRY_ENABLED="false",
            # A load test is thousands of clients from one address: the flood limits per address
            # (nginx's and the replicas') would measure themselves, not the cluster.
            RAPPORT_NGINX_RATE_PER_MINUTE="6000000", RAPPORT_NGINX_BURST="100000", RAPPORT_NGINX_CONNECTIONS="60000",
            RAPPORT_RATE_PER_ADDRESS="0", RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS="0",
        )
        env.update(env_overrides or {})
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                ["bash", str(ROOT / "scripts" / "serve_cluster.sh")], cwd=ROOT, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.info: dict = {}

    def wait_until_up(self, timeout: float = 420) -> dict:
        deadline = time.monotonic() + timeout
        state = self.dir / "cluster.json"
        while time.monotonic() < deadline:
            if state.exists():
                self.info = json.loads(state.read_text())
                return self.info
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve_cluster.sh exited:\n{self.log.read_text()[-4000:]}")
            time.sleep(1)
        raise RuntimeError(f"the cluster did not come up in {timeout}s:\n{self.log.read_text()[-4000:]}")

    def kill_replica(self, index: int) -> int:
        pid = self.info["replica_pids"][index]
        os.kill(pid, signal.SIGKILL)
        return pid

    def store_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
        env.update(
            RAPPORT_DATABASE_URL=self.info["database_url"], RAPPORT_ID_SECRET=self.info["id_secret"],
            RAPPORT_ENCRYPTION_KEYS=self.info["encryption_keys"], PYTHONPATH=str(ROOT),
            RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        return env

    def stop(self) -> None:
        """SIGTERM to the script: it stops its processes and drops the run's data."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def free_block(size: int) -> int:
    """A first port of `size` consecutive free ports."""
    for _ in range(50):
        first = free_port()
        try:
            sockets = []
            for port in range(first, first + size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no block of free ports")


@dataclass
class SampleDatabase:
    """A migrated database seeded with `seed_sample`, and what the tests need to reach it."""

    url: str
    key: str  # its encryption key
    store: Store  # stamped by `clock`
    clock: Clock
    ids: dict[str, str]  # the sample's client ids by role


def sample_database(request: Any, tmp_path_factory: Any, name: str) -> SampleDatabase:
    """For a module fixture parametrized with "sqlite" / "postgresql": a new seeded database on
    that backend (PostgreSQL through conftest's `make_pg_database`, which skips without a server)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'rapport.db'}"
    else:
        url = request.getfixturevalue("make_pg_database")()
    key = generate_key()
    clock = Clock(START)
    store = Store(url, TextCipher([key]), clock=clock)
    store.migrate()
    return SampleDatabase(url, key, store, clock, seed_sample(store, clock))


@contextmanager
def seeded_server(database_url: str, **env: str) -> Iterator[tuple[ReviewServer, dict[str, str]]]:
    """The real review server on a new database seeded with `seed_sample`; yields it and the
    sample's client ids by role. `env` overrides settings (see `review_env`)."""
    key = generate_key()
    clock = Clock(START)
    store = Store(database_url, TextCipher([key]), clock=clock)
    store.migrate()
    ids = seed_sample(store, clock)
    store.dispose()
    with ReviewServer(review_env(database_url, key, **env)) as server:
        yield server, ids


# --------------------------------------------------------------------------- messaging providers


class FakeProviders:
    """Telegram's, Slack's and Twilio's APIs, as far as the bot uses them, on 127.0.0.1."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    body = json.loads(raw or b"{}")
                else:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                with fake.lock:
                    fake.calls.append({"path": self.path, "body": body})
                status, reply = fake.answer(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def answer(path: str, body: dict) -> tuple[int, dict]:
        if path.startswith("/bot"):  # Telegram
            if path.endswith("/sendMessage"):
                return 200, {"ok": True, "result": {
                    "message_id": 1, "date": int(time.time()),
                    "chat": {"id": int(body.get("chat_id", 0)), "type": "private"}, "text": body.get("text", "")}}
            return 200, {"ok": True, "result": True}
        if path.startswith("/api/"):  # Slack
            return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
        if "/Messages.json" in path:  # Twilio
            return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "body": body.get("Body"),
                         "to": body.get("To"), "from": body.get("From")}
        return 404, {"ok": False}

    def sent(self, match: Callable[[dict], bool]) -> list[dict]:
        with self.lock:
            return [call for call in self.calls if match(call)]

    def wait_for(self, match: Callable[[dict], bool], count: int = 1, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(match)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"the bot did not send it in {timeout}s; it sent: {self.calls[-5:]}")

    def close(self) -> None:
        self.server.shutdown()
