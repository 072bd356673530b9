"""The scale-out profile end to end (scripts/serve_cluster.sh): two Rasa replicas, one action server
and nginx, against this machine's PostgreSQL, Redis and RabbitMQ (fresh names, dropped afterwards).

A handful of simulated clients go through whole check-ins at once over the retry-safe app channel
through nginx; one replica is killed (SIGKILL) mid-run. Every check-in must end with exactly its
5 answers in the store (none lost, none applied twice), both replicas must have served traffic,
and the conversation events must have reached RabbitMQ. About 2-3 minutes.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

from bench.checkin_flow import new_client, retrying_say, run_checkin
from bench.load import Cluster, check_store, export
from bot.crypto import TextCipher
from bot.web import testing as review
from bot.identity import client_id
from components.encryption import read_event
from deploy.services import Services, missing, queued_bodies
from tests.harness import MODEL

CLIENTS = 6


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    problems = missing(Services.from_env(os.environ))
    if problems:
        pytest.skip("the cluster needs PostgreSQL, Redis and RabbitMQ: " + "; ".join(problems))
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()) and os.geteuid() != 0:
        pytest.skip("nginx is not installed and installing it needs root")
    review_login = {"RAPPORT_REVIEW_USER": review.USER, "RAPPORT_REVIEW_PASSWORD_HASH": review.password_hash(),
                    "RAPPORT_REVIEW_SECRET": review.SECRET}
    running = Cluster(2, tmp_path_factory.mktemp("cluster"), {"TICKET_LOCK_LIFETIME": "10", **review_login})
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()


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
    assert reply[0] == 200 and "988" in json.dumps(reply[1])

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
