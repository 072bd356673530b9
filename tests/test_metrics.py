"""Rapport's Prometheus metrics (bot/metrics.py) and the Grafana dashboard over them, in-process.

The /metrics pages of the real servers are tested in tests/e2e/test_operations.py.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import pytest
from prometheus_client import REGISTRY

from bot import metrics
from bot.crypto import TextCipher
from bot.outbox import AlertOutbox, OutboxSettings
from bot.store import FinalAnswer, Store

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
_SERIES = re.compile(r"\b(rapport_[a-z_]+)(\{[^}]*\})?")


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_metric_the_dashboard_queries_exists_with_its_labels():
    queries = dashboard_queries()
    assert queries
    labels = {
        name: set(metric._labelnames) | ({"le"} if name.endswith("_bucket") else set())
        for metric in metrics.ALL
        for name in metrics.names()
        if name.startswith(metric._name)
    }
    for query in queries:
        used = _SERIES.findall(query)
        assert used, f"a panel queries no Rapport metric: {query}"
        for name, selector in used:
            assert name in metrics.names(), f"the dashboard queries {name}, which bot/metrics.py does not declare"
            for label in re.findall(r"(\w+)\s*=", selector):
                assert label in labels[name], f"{name} has no label {label!r} ({query})"


def test_the_dashboard_shows_every_metric():
    queried = {name for query in dashboard_queries() for name, _ in _SERIES.findall(query)}
    for metric in metrics.ALL:
        assert any(name.startswith(metric._name) for name in queried), f"no panel shows {metric._name}"


def test_every_declared_metric_is_exposed():
    text = metrics.exposition().decode()
    for metric in metrics.ALL:
        assert f"# TYPE {metric._name}" in text


# --------------------------------------------------------------------------- counters


def test_the_store_counts_checkins_started_completed_and_abandoned(sqlite_url: str, cipher: TextCipher):
    store = Store(sqlite_url, cipher)
    started, completed, abandoned = (value(f"rapport_checkins_{what}_total") for what in ("started", "completed", "abandoned"))
    first = store.start_checkin("client-a", "rest", shared=True)
    second = store.start_checkin("client-a", "rest", shared=True)  # the first is abandoned
    assert value("rapport_checkins_started_total") == started + 2
    assert value("rapport_checkins_abandoned_total") == abandoned + 1
    answers = [FinalAnswer(dimension=d, score=4, text="") for d in ("team", "heard", "warmth", "worth", "understood")]
    store.complete_checkin(second, "summary", answers)
    store.complete_checkin(second, "summary", answers)  # a retried submit counts once
    assert value("rapport_checkins_completed_total") == completed + 1
    store.set_status(first, "abandoned")  # already abandoned: not again
    third = store.start_checkin("client-b", "rest", shared=True)
    store.set_status(third, "abandoned")
    assert value("rapport_checkins_abandoned_total") == abandoned + 2
    store.dispose()


def test_alerts_are_counted_delivered_or_failed(
    unused_http_server: Callable[[int], str], sqlite_url: str, cipher: TextCipher
):
    store = Store(sqlite_url, cipher)
    store.migrate()
    delivered = value("rapport_alerts_delivered_total", kind="crisis")
    failed = value("rapport_alerts_failed_total", kind="crisis")
    for status, client in ((204, "client-ok"), (400, "client-refused")):
        # One attempt each: a refused alert is given up (counted failed) at once.
        outbox = AlertOutbox(store.engine, OutboxSettings(webhook=unused_http_server(status), max_attempts=1))
        store.record_event(client, "crisis", then=outbox.adder(client, "crisis", None))  # as the action does
        outbox.deliver_due()
    assert value("rapport_alerts_delivered_total", kind="crisis") == delivered + 1
    assert value("rapport_alerts_failed_total", kind="crisis") == failed + 1
    store.dispose()


@pytest.fixture
def unused_http_server():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    servers = []

    def make(status: int) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hook"

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()
