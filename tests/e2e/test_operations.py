"""/healthz, /readyz, /metrics and the logs of the real processes (docs/operations.md).

A Rasa server (scripts/rasa_run.py, conversations in a fresh PostgreSQL database) with its own
action server plays whole check-ins over REST; every line both processes logged is searched for the
client's words and raw sender ids, and Rapport's lines must parse as JSON. Readiness: 200 when
ready; 503 when the database cannot be reached (a PostgreSQL database that does not exist, or was
dropped under a running server) or is not migrated (a fresh SQLite file); for the Rasa server, the
action server and the review page.
"""
from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.crypto import TextCipher, generate_key
from bot.logs import PACKAGES
from bot.store import Store
from tests.harness import (
    MODEL, ReviewServer, free_port, login, migrate, review_env, server_env, start_action_server, start_rasa_server,
    stop,
)

CHECKIN = [
    "hi", "yes", "yeah mostly", "not really, she talks over me", "she cuts me off a lot",
    "sometimes?", "/deny", "100%", '/answer{"level":"5"}', "/share_checkin",
]
CRISIS = ["hi", "honestly i want to end my life tonight"]
# What a client wrote that must never reach a log (the short ones, "hi", "yes", are everywhere).
CLIENT_WORDS = ["yeah mostly", "talks over me", "cuts me off", "sometimes?", "end my life", "want to end"]
# A line by one of Rapport's loggers in Rasa's text format: "2026-... INFO     channels.common  - ..."
TEXT_LINE_OF_OURS = re.compile(r"^\S+ \S+ +[A-Z]+ +(%s)[.\s]" % "|".join(PACKAGES))
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # a colour code left by a warning Rasa printed just before


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=30)


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """One sample's value from a /metrics page (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics_text.splitlines():
        series, _, number = line.rpartition(" ")
        if series == (f"{name}{{{wanted}}}" if labels else name):
            return float(number)
    return 0.0


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


def pg_admin(make_pg_database: Callable[[], str]):
    return create_engine(make_url(make_pg_database()).set(database="postgres"), isolation_level="AUTOCOMMIT")


def drop_database(make_pg_database: Callable[[], str], url: str) -> None:
    engine = pg_admin(make_pg_database)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


# --------------------------------------------------------------------------- Rasa + action server


@dataclass
class Stack:
    rasa: str
    actions: str  # the action server's base URL
    tracker_url: str
    logs: list[Path]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, make_pg_database: Callable[[], str]) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    data = tmp_path_factory.mktemp("operations")
    # A failing alert webhook: a crisis makes the action server log its retries (JSON lines).
    # One attempt: the outbox (bot/outbox.py) gives the alert up at once instead of retrying for hours.
    env = server_env(data, RAPPORT_ALERT_WEBHOOK=f"http://127.0.0.1:{free_port()}/alert",  # nobody listens
                     RAPPORT_ALERT_MAX_ATTEMPTS="1")
    migrate(env)
    tracker_url = make_pg_database()
    tracker = make_url(tracker_url)
    actions_log, rasa_log = data / "actions.log", data / "rasa.log"
    actions, webhook = start_action_server(env, actions_log)
    rasa = None
    try:
        endpoints = data / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "{webhook}"\n'
            "tracker_store:\n  type: components.tracker_store.ErasableSQLTrackerStore\n"
            f'  dialect: "postgresql"\n  url: "{tracker.host}"\n  port: {tracker.port or 5432}\n'
            f'  db: "{tracker.database}"\n  username: "{tracker.username}"\n'
        )
        rasa, url = start_rasa_server(env, endpoints, secrets.token_urlsafe(16), rasa_log)
        yield Stack(url, webhook.rsplit("/webhook", 1)[0], tracker_url, [rasa_log, actions_log])
    finally:
        if rasa is not None:
            stop(rasa)
        stop(actions)


def test_rasa_and_action_server_are_alive_and_ready(stack: Stack):
    for base in (stack.rasa, stack.actions):
        assert get(f"{base}/healthz").json() == {"status": "alive"}
    rasa = get(f"{stack.rasa}/readyz")
    assert rasa.status_code == 200, rasa.text
    assert set(rasa.json()["checks"]) == {"model", "tracker_store"}  # no Redis, no broker configured here
    actions = get(f"{stack.actions}/readyz")
    assert actions.status_code == 200, actions.text
    assert set(actions.json()["checks"]) == {"database", "migrations"}


def test_a_whole_checkin_is_counted_and_no_log_line_holds_client_words_or_sender_ids(stack: Stack):
    before_rasa, before_actions = get(f"{stack.rasa}/metrics").text, get(f"{stack.actions}/metrics").text
    senders = [f"ops-{uuid.uuid4().hex}", f"ops-{uuid.uuid4().hex}"]
    for sender, messages in zip(senders, (CHECKIN, CRISIS)):
        for message in messages:
            response = requests.post(f"{stack.rasa}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": message}, timeout=60)
            assert response.ok and response.json(), (message, response.text)

    def actions_metric(name: str, **labels: str) -> float:
        return sample(get(f"{stack.actions}/metrics").text, name, **labels) - sample(before_actions, name, **labels)

    rasa_metrics = get(f"{stack.rasa}/metrics").text
    turns = len(CHECKIN) + len(CRISIS)
    assert sample(rasa_metrics, "rapport_turns_total", channel="rest", outcome="ok") - sample(
        before_rasa, "rapport_turns_total", channel="rest", outcome="ok") == turns
    assert sample(rasa_metrics, "rapport_turn_seconds_count", channel="rest") - sample(
        before_rasa, "rapport_turn_seconds_count", channel="rest") == turns
    assert actions_metric("rapport_checkins_started_total") == 1
    assert actions_metric("rapport_checkins_completed_total") == 1
    assert actions_metric("rapport_crisis_events_total", kind="crisis") == 1
    # The alert to the (closed) webhook port is tried by the outbox's worker, then given up.
    assert wait_for(lambda: actions_metric("rapport_alerts_failed_total", kind="crisis") == 1, timeout=30)

    ours = 0
    for log in stack.logs:
        for number, line in enumerate(ANSI.sub("", log.read_text(errors="replace")).splitlines(), 1):
            where = f"{log.name}:{number}: {line[:200]}"
            lowered = line.lower()
            assert not any(words in lowered for words in CLIENT_WORDS), where
            assert not any(sender in line for sender in senders), where
            assert not TEXT_LINE_OF_OURS.match(line), f"a Rapport log line that is not JSON: {where}"
            if line.startswith("{"):
                record = json.loads(line)
                assert {"time", "level", "logger", "message"} <= set(record), where
                ours += record["logger"].split(".")[0] in PACKAGES
    assert ours, "no Rapport log line was found to check"
    action_lines = [json.loads(line) for line in stack.logs[1].read_text().splitlines() if line.startswith("{")]
    assert any(r["logger"] == "bot.notify" for r in action_lines), "the failed alert was not logged"


def test_rasa_is_not_ready_once_its_tracker_database_is_gone(stack: Stack, make_pg_database):
    drop_database(make_pg_database, stack.tracker_url)
    response = get(f"{stack.rasa}/readyz")
    assert response.status_code == 503, response.text
    checks = response.json()["checks"]
    assert checks["model"]["ok"] and not checks["tracker_store"]["ok"]
    assert get(f"{stack.rasa}/healthz").status_code == 200  # alive: a restart would not help


# --------------------------------------------------------------------------- the action server alone


def test_action_server_is_not_ready_until_migrated(tmp_path: Path):
    env = server_env(tmp_path)  # a fresh SQLite file: never migrated
    proc, webhook = start_action_server(env, tmp_path / "actions.log")
    base = webhook.rsplit("/webhook", 1)[0]
    try:
        assert get(f"{base}/healthz").status_code == 200
        response = get(f"{base}/readyz")
        assert response.status_code == 503, response.text
        assert response.json()["checks"]["database"]["ok"]
        assert "never migrated" in response.json()["checks"]["migrations"]["detail"]
        migrate(env)
        assert get(f"{base}/readyz").status_code == 200
    finally:
        stop(proc)


def test_action_server_is_not_ready_when_its_database_does_not_exist(tmp_path: Path, make_pg_database):
    missing = make_url(make_pg_database()).set(database=f"rapport_missing_{uuid.uuid4().hex[:8]}")
    env = server_env(tmp_path, RAPPORT_DATABASE_URL=missing.render_as_string(hide_password=False))
    proc, webhook = start_action_server(env, tmp_path / "actions.log")
    try:
        response = get(webhook.rsplit("/webhook", 1)[0] + "/readyz")
        assert response.status_code == 503, response.text
        assert not response.json()["checks"]["database"]["ok"]
        assert missing.database not in response.text  # the answer names no database, host or user
    finally:
        stop(proc)


# --------------------------------------------------------------------------- the review page


def test_review_page_is_ready_then_not_once_its_database_is_gone(make_pg_database):
    url, key = make_pg_database(), generate_key()
    store = Store(url, TextCipher([key]))
    store.migrate()
    store.dispose()
    with ReviewServer(review_env(url, key)) as server:
        assert get(f"{server.url}/healthz").json() == {"status": "alive"}
        ready = get(f"{server.url}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        metrics = get(f"{server.url}/metrics")
        assert metrics.headers["content-type"].startswith("text/plain") and "rapport_turns_total" in metrics.text
        drop_database(make_pg_database, url)
        gone = get(f"{server.url}/readyz")
        assert gone.status_code == 503 and not gone.json()["checks"]["database"]["ok"], gone.text
        assert get(f"{server.url}/healthz").status_code == 200


def _failed_logins(server: ReviewServer, forwarded_for: str, times: int) -> list[int]:
    statuses = []
    for _ in range(times):
        with requests.Session() as http:
            http.headers["X-Forwarded-For"] = forwarded_for
            statuses.append(login(http, server.url, password="wrong password, wrong").status_code)
    return statuses


@pytest.mark.parametrize("proxies", ["0", "1"])
def test_review_page_takes_the_client_address_from_a_trusted_proxy_only(sqlite_url: str, encryption_key: str, proxies: str):
    with ReviewServer(review_env(sqlite_url, encryption_key, RAPPORT_PROXIES_COUNT=proxies)) as server:
        assert _failed_logins(server, "203.0.113.1", 6)[-1] == 429  # 5 failures, then a wait
        other_client = _failed_logins(server, "203.0.113.2", 1)[0]
    # Behind one trusted proxy the second address is another client; with none, the header is
    # ignored (anyone could send it) and both are the same peer, already waiting.
    assert other_client == (401 if proxies == "1" else 429)
