"""The scale-out profile end to end (scripts/serve_cluster.sh): two Rasa replicas, one action server
and nginx, against this machine's PostgreSQL, Redis and RabbitMQ (fresh names, dropped afterwards).

Scheduled check-ins first: two scheduler processes, each sending through its own replica, race
for the same due check-ins on PostgreSQL; each is sent exactly once (to a fake Telegram API).
Then a handful of simulated clients go through whole check-ins at once over the retry-safe app
channel through nginx; one replica is killed (SIGKILL) mid-run. Every check-in must end with
exactly its 5 answers in the store (none lost, none applied twice), both replicas must have served
traffic, and the conversation events must have reached RabbitMQ. About 2-3 minutes.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from bench.checkin_flow import new_client, retrying_say, run_checkin
from bench.load import check_store, export
from bot.crypto import TextCipher
from bot.identity import client_id
from components.encryption import read_event
from deploy.services import Services, missing, queued_bodies
from tests import harness as review
from bot.store import Store
from bot.vocabulary import WEEKLY
from tests.harness import MODEL, ROOT, Cluster, FakeProviders

CLIENTS = 6


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeProviders]:
    fake = FakeProviders()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, telegram: FakeProviders) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    problems = missing(Services.from_env(os.environ))
    if problems:
        pytest.skip("the cluster needs PostgreSQL, Redis and RabbitMQ: " + "; ".join(problems))
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()) and os.geteuid() != 0:
        pytest.skip("nginx is not installed and installing it needs root")
    review_login = {"RAPPORT_REVIEW_USER": review.USER, "RAPPORT_REVIEW_PASSWORD_HASH": review.password_hash(),
                    "RAPPORT_REVIEW_SECRET": review.SECRET}
    channel = {"TELEGRAM_ACCESS_TOKEN": "123456:TEST-token", "TELEGRAM_SECRET_TOKEN": "cluster-secret-token",
               "TELEGRAM_API_URL": telegram.url, "RAPPORT_SCHEDULERS": "2"}
    running = Cluster(2, tmp_path_factory.mktemp("cluster"), {"TICKET_LOCK_LIFETIME": "10", **review_login, **channel})
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()


def test_every_replica_is_ready_with_its_lock_store_and_event_broker(cluster: Cluster):
    """Each Rasa replica's /readyz checks Redis and RabbitMQ too (docs/operations.md)."""
    for replica in cluster.info["replica_urls"]:
        response = requests.get(f"{replica}/readyz", timeout=30)
        assert response.status_code == 200, response.text
        checks = response.json()["checks"]
        assert set(checks) == {"model", "tracker_store", "lock_store", "event_broker"}
        assert all(check["ok"] for check in checks.values())


DUE = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)  # a Monday, 09:00 in London
SCHEDULED_CLIENTS = 40


def test_two_schedulers_through_two_replicas_send_each_due_check_in_exactly_once(cluster: Cluster, telegram: FakeProviders):
    info = cluster.info
    assert len(info["scheduler_pids"]) == 2  # make serve-cluster's own, on the real clock
    for pid in info["scheduler_pids"]:
        os.kill(pid, 0)  # running
    store = Store(info["database_url"], TextCipher(info["encryption_keys"].split(",")), clock=lambda: DUE - timedelta(days=3))
    chats = {}
    for n in range(SCHEDULED_CLIENTS):
        chat = str(880000 + n)
        client = store.enrol_client(name=f"client {n}", clinician_id=None, timezone="Europe/London")
        store.bind_conversation(client_id("telegram", chat, info["id_secret"]), client, "telegram", chat)
        store.set_schedule(client, kind=WEEKLY, weekday=0, send_time="09:00", remind_after_hours=24,
                           max_reminders=1, window_days=3)
        chats[chat] = client

    def scheduler(replica: str) -> subprocess.Popen:
        env = {**cluster.store_env(), "RAPPORT_RASA_URL": replica, "RASA_AUTH_TOKEN": info["auth_token"]}
        return subprocess.Popen(
            [sys.executable, "-m", "deploy.scheduler", "--once", "--now", DUE.isoformat(), "--skip", "purge"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    counts = []
    for _ in range(2):  # and a second round at the same time: nothing more
        runs = [scheduler(url) for url in info["replica_urls"]]
        outputs = [run.communicate(timeout=300) for run in runs]
        assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in outputs]
        counts.append([sum(int(n) for n in re.findall(r"(\d+) sent", err)) for _, err in outputs])
    assert sum(counts[0]) == SCHEDULED_CLIENTS and counts[1] == [0, 0], counts
    sent = [c for c in telegram.sent(lambda c: c["path"].endswith("/sendMessage"))
            if str(c["body"].get("chat_id")) in chats]
    per_chat = {chat: sum(1 for c in sent if str(c["body"]["chat_id"]) == chat) for chat in chats}
    assert set(per_chat.values()) == {1}, per_chat
    assert all("check-in" in c["body"]["text"] for c in sent)
    summaries = store.schedule_summaries(list(chats.values()))
    assert all(summaries[client].sent == 1 for client in chats.values())
    store.dispose()


def test_check_ins_survive_a_replica_killed_mid_run(cluster: Cluster):
    info = cluster.info
    url = f"{info['url']}/webhooks/app/webhook"
    sent = {"count": 0}
    lock = threading.Lock()

    def post(body: dict) -> tuple[int, object]:
        with lock:
            sent["count"] += 1
        response = requests.post(url, json=body, timeout=90, headers={"Authorization": f"Bearer {info['app_token']}"})
        return response.status_code, response.json() if response.status_code == 200 else None

    say = retrying_say(post)
    records: list[dict] = []

    def client() -> None:
        sender, levels = new_client()
        records.append(run_checkin(say, sender, levels, pause=lambda: time.sleep(0.3)))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while sent["count"] < CLIENTS * 3 and time.monotonic() < deadline:  # everyone mid check-in
        time.sleep(0.1)
    served_before_kill = upstreams(cluster)
    cluster.kill_replica(1)
    for thread in threads:
        thread.join(timeout=150)

    assert all(not t.is_alive() for t in threads), "a client never finished"
    assert len(served_before_kill) == 2, f"nginx used only {served_before_kill} before the kill"
    assert [r["error"] for r in records if not r["completed"]] == []
    assert len(records) == CLIENTS

    in_crisis = new_client()[0]
    reply = post({"sender": in_crisis, "message": "i want to end my life tonight", "message_id": "crisis-1"})
    assert reply[0] == 200 and "988" in json.dumps(reply[1]) and "ending your life?" not in json.dumps(reply[1])

    checkins = export(cluster.store_env())
    assert check_store(records, checkins, info["id_secret"]) == []
    assert sum(1 for c in checkins if c["status"] == "completed") == CLIENTS

    bodies = queued_bodies(Services.from_env(os.environ), info["queue"])
    assert bodies and all(body.startswith(b"gAAAA") for body in bodies)  # Fernet tokens: no words in the clear
    cipher = TextCipher(info["encryption_keys"].split(","))
    events = [read_event(body, cipher) for body in bodies]
    senders_seen = {e.get("sender_id") for e in events if e.get("event") == "user"}
    conversations = {client_id("app", r["sender"], info["id_secret"]) for r in records}
    assert conversations <= senders_seen, "some conversations never reached RabbitMQ"
    assert any(e.get("event") == "bot" for e in events)
    assert_no_raw_sender_ids(cluster, [*records, {"sender": in_crisis}], json.dumps(events))


def assert_no_raw_sender_ids(cluster: Cluster, records: list[dict], broker_events: str) -> None:
    """The client's own id (here the app's sender id; elsewhere a phone number) reaches none of
    PostgreSQL, Redis or RabbitMQ, and neither does the word "crisis" in clear."""
    services = Services.from_env(os.environ)
    engine = create_engine(services.database_url(cluster.info["tracker_db"]))
    try:
        with engine.connect() as db:
            rows = db.execute(text("SELECT sender_id, coalesce(intent_name, ''), coalesce(action_name, ''), data "
                                   "FROM events")).all()
    finally:
        engine.dispose()
    tracker_text = "\n".join(" ".join(row) for row in rows)
    assert rows and "crisis" not in tracker_text.lower()
    locks = redis.Redis(host=services.redis_host, port=services.redis_port,
                        password=services.redis_password or None, db=services.redis_db)
    redis_keys = " ".join(key.decode(errors="replace") for key in locks.keys("*"))
    for record in records:
        for place, content in (("PostgreSQL", tracker_text), ("Redis", redis_keys), ("RabbitMQ", broker_events)):
            assert record["sender"] not in content, f"a raw sender id in {place}"


def test_a_nul_byte_in_a_sender_id_gets_a_4xx_on_postgresql(cluster: Cluster):
    replica = cluster.info["replica_urls"][0]
    rest = requests.post(f"{replica}/webhooks/rest/webhook", json={"sender": "a\u0000b", "message": "hi"}, timeout=60)
    app = requests.post(f"{cluster.info['url']}/webhooks/app/webhook", timeout=60,
                        json={"sender": "a\u0000b" * 8, "message": "hi", "message_id": "m1"},
                        headers={"Authorization": f"Bearer {cluster.info['app_token']}"})
    assert rest.status_code == 400 and app.status_code == 400


def test_the_review_page_sits_behind_the_same_nginx(cluster: Cluster):
    """Its own listen address on nginx; the login form works through it (Origin and Host agree, with
    the port), and its internal paths are not served there."""
    url = cluster.info["review_url"]
    assert url and url != cluster.info["url"]
    http = requests.Session()
    logged_in = review.login(http, url)
    assert logged_in.status_code == 303, logged_in.text[:300]
    page = http.get(f"{url}/", timeout=30)
    assert page.status_code == 200 and "csrf_token" not in page.url
    assert http.get(f"{url}/readyz", timeout=30).status_code == 404
    assert http.get(f"{url}/metrics", timeout=30).status_code == 404
    assert requests.get(f"{cluster.info['url']}/login", timeout=30).status_code == 404  # not on the chat's address


def upstreams(cluster: Cluster) -> set[str]:
    """Replica addresses nginx has sent app-channel requests to (from its access log)."""
    log = Path(cluster.info["dir"]) / "access.log"
    found = set()
    for line in log.read_text().splitlines():
        if "/webhooks/app/webhook" in line and "upstream=" in line:
            for address in line.split("upstream=")[1].split()[0].split(","):
                if address.strip() not in ("", "-"):
                    found.add(address.strip())
    return found
