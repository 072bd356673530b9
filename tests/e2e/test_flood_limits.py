"""The flood limits inside Rasa (channels/limits.py) over a real Rasa server and action server.

The server here has tight limits of its own: 5 messages a minute per sender, 12 per address, 4 new
conversations an hour per address. Addresses other than the test's own come through X-Real-IP,
which the server believes from loopback (RAPPORT_TRUSTED_PROXIES, as from nginx).
"""
from __future__ import annotations

import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
import requests

from channels.limits import TOO_FAST, FloodGuard
from tests.channels.providers import Bot, FakeProviders
from tests.channels.test_twilio import twilio_post, twilio_sent_to
from tests.harness import (
    MODEL,
    migrate,
    server_env,
    start_action_server,
    start_rasa_server,
    stop,
    write_endpoints,
)

PER_SENDER, PER_ADDRESS, NEW_PER_ADDRESS = 5, 12, 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The server with tight limits, and Twilio on (its API a fake that records what is sent)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train`")
    data = tmp_path_factory.mktemp("flood")
    fake = FakeProviders()
    env = server_env(data, RAPPORT_RATE_PER_SENDER=str(PER_SENDER), RAPPORT_RATE_PER_ADDRESS=str(PER_ADDRESS),
                     RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS=str(NEW_PER_ADDRESS),
                     TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=secrets.token_hex(16),
                     TWILIO_NUMBER="+15550000000", TWILIO_WEBHOOK_URL="https://chat.example.org/webhooks/twilio/webhook",
                     TWILIO_API_URL=fake.url)
    migrate(env)
    actions, action_url = start_action_server(env, data / "actions.log")
    try:
        endpoints = write_endpoints(data / "endpoints.yml", action_url, data / "tracker.db")
        token = secrets.token_urlsafe(16)
        rasa, base = start_rasa_server(env, endpoints, token, data / "rasa.log")
        try:
            yield Bot(base, token, env, fake)
        finally:
            stop(rasa)
    finally:
        stop(actions)
        fake.close()


@pytest.fixture(scope="module")
def url(server: Bot) -> str:
    return server.url


def say(url: str, sender: str, text: str = "hi", address: str | None = None) -> requests.Response:
    headers = {"X-Real-IP": address} if address else {}
    return requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                         headers=headers, timeout=60)


def test_a_burst_from_one_sender_gets_429_and_other_senders_still_get_answers(url):
    flooder = f"flood-{secrets.token_hex(6)}"
    answers = [say(url, flooder, "I want to die") for _ in range(PER_SENDER + 3)]
    assert [a.status_code for a in answers] == [200] * PER_SENDER + [429] * 3
    assert all(a.json() for a in answers[:PER_SENDER]), "the first messages are answered"
    refused = answers[-1]
    assert refused.json() == {"error": TOO_FAST}
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    other = say(url, f"calm-{secrets.token_hex(6)}")
    assert other.status_code == 200 and other.json(), "another sender is not held up"


def test_one_address_may_start_only_so_many_new_conversations(url):
    address = "198.51.100.7"
    senders = [f"new-{secrets.token_hex(6)}" for _ in range(NEW_PER_ADDRESS + 1)]
    statuses = [say(url, sender, address=address).status_code for sender in senders]
    assert statuses == [200] * NEW_PER_ADDRESS + [429]
    assert say(url, senders[0], address=address).status_code == 200, "a known conversation goes on"
    assert say(url, senders[-1], address=address).status_code == 429, "a refused one is still new"
    assert say(url, f"new-{secrets.token_hex(6)}", address="198.51.100.8").status_code == 200


def test_one_address_may_send_only_so_many_messages_a_minute(url):
    address = "203.0.113.9"
    senders = [f"busy-{secrets.token_hex(6)}" for _ in range(NEW_PER_ADDRESS)]
    statuses = [say(url, senders[i % len(senders)], address=address).status_code for i in range(PER_ADDRESS + 1)]
    assert statuses == [200] * PER_ADDRESS + [429]  # no sender is over its own limit (3 or 4 each)
    assert say(url, senders[0], address="203.0.113.10").status_code == 200, "other addresses go on"


def test_x_real_ip_counts_only_from_a_trusted_proxy():
    guard = FloodGuard(0, 1, 0, trusted_proxies=("10.0.0.0/8",))

    def request(peer: str, real_ip: str) -> SimpleNamespace:
        return SimpleNamespace(ip=peer, headers={"X-Real-IP": real_ip})

    assert guard.address_of(request("10.1.2.3", "192.0.2.1")) == "192.0.2.1"
    assert guard.address_of(request("192.0.2.50", "192.0.2.1")) == "192.0.2.50", "a client cannot pick its address"
    assert guard.address_of(request("10.1.2.3", "not an address")) == "10.1.2.3"


def test_replicas_sharing_a_redis_share_the_count(monkeypatch):
    """RAPPORT_RATE_STORAGE=redis://...: two processes' guards count one sender's messages together."""
    from tests.harness import server_env

    monkeypatch.setenv("RAPPORT_ID_SECRET", server_env(Path("/tmp"))["RAPPORT_ID_SECRET"])
    storage = "redis://127.0.0.1:6379/2"
    try:
        first, second = FloodGuard(3, 0, 0, storage=storage), FloodGuard(3, 0, 0, storage=storage)
        first.storage.check() or pytest.skip("no Redis on 127.0.0.1:6379")
    except Exception as error:  # noqa: BLE001 - the redis package raises its own
        pytest.skip(f"no Redis on 127.0.0.1:6379: {type(error).__name__}")
    sender = f"shared-{secrets.token_hex(6)}"
    assert [first.admit("rest", sender), second.admit("rest", sender), first.admit("rest", sender)] == [None] * 3
    assert second.admit("rest", sender).reason == "sender"


def test_a_provider_channel_drops_a_flood_and_tells_the_client_once(monkeypatch):
    """Telegram, Slack, Twilio: over the sender's limit the message is dropped (the provider still
    gets its 2xx) and the client is told to slow down once a minute, not once per message."""
    import asyncio

    from channels import limits

    monkeypatch.setenv("RAPPORT_ID_SECRET", server_env(Path("/tmp"))["RAPPORT_ID_SECRET"])
    monkeypatch.setattr(limits, "guard", lambda: guarded)
    guarded = FloodGuard(2, 0, 0)

    class Output:
        def __init__(self) -> None:
            self.sent: list[tuple[str, str]] = []

        async def send_text_message(self, recipient: str, text: str) -> None:
            self.sent.append((recipient, text))

    output = Output()
    dropped = [asyncio.run(limits.dropped_for_flooding("telegram", "4242", output)) for _ in range(5)]
    assert dropped == [False, False, True, True, True]
    assert output.sent == [("4242", TOO_FAST)]
    assert asyncio.run(limits.dropped_for_flooding("telegram", "4343", output)) is False


def test_a_web_chat_flood_is_dropped_and_the_client_told_once(url):
    import asyncio

    import socketio

    async def flood() -> list[dict]:
        client, replies = socketio.AsyncClient(), []
        confirmed: asyncio.Queue = asyncio.Queue()
        client.on("session_confirm", confirmed.put_nowait)
        client.on("bot_uttered", replies.append)
        # Its own address (from the trusted loopback proxy), so the other tests' counts don't mix in.
        await client.connect(url, transports=["polling"], headers={"X-Real-IP": "192.0.2.77"})
        try:
            await client.emit("session_request", {})
            await asyncio.wait_for(confirmed.get(), 20)
            for _ in range(PER_SENDER + 3):
                await client.emit("user_uttered", {"message": "hi"})
            deadline = asyncio.get_running_loop().time() + 60
            def done() -> bool:
                told = sum(TOO_FAST == r.get("text") for r in replies)
                return told >= 1 and len(replies) - told >= PER_SENDER

            while not done() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(2)  # anything more would have arrived by now
        finally:
            await client.disconnect()
        return replies

    replies = asyncio.run(flood())
    assert [r.get("text") for r in replies].count(TOO_FAST) == 1, "told to slow down, once"
    assert len([r for r in replies if r.get("text") != TOO_FAST]) >= PER_SENDER  # the first ones answered


def test_sms_stop_is_honoured_over_the_limit_and_nothing_follows_it(server: Bot):
    """A number that floods and then sends STOP is stopped all the same (carriers' rules), and from
    then on gets nothing: no reply, no "slow down" notice."""
    from bot.config import load_settings
    from bot.store import Store

    store = Store.from_settings(load_settings(server.env))
    client = store.enrol_client(name="Jo", clinician_id=None)
    number = f"+1555{secrets.randbelow(10**7):07d}"
    conversation = server.conversation("twilio", number)
    store.bind_conversation(conversation, client, "twilio", number)
    for _ in range(PER_SENDER + 2):
        assert twilio_post(server, number, "hi").status_code == 204
    assert TOO_FAST in [c["body"]["Body"] for c in twilio_sent_to(server, number)]  # over the limit now
    sent = len(twilio_sent_to(server, number))
    assert twilio_post(server, number, "STOP").status_code == 204
    assert store.binding(conversation).stopped_at is not None and store.reachable_bindings(client) == []
    assert len(twilio_sent_to(server, number)) == sent + 1  # the one confirmation
    for text in ("hi", "hello?", "4"):
        assert twilio_post(server, number, text).status_code == 204
    assert len(twilio_sent_to(server, number)) == sent + 1  # nothing after it
    store.dispose()
