"""The event queue is bounded (issue 12, item 8), against the real RabbitMQ on 127.0.0.1:5672.

Nothing consumes the events in the production profile; Rasa's own broker declares the queue with
no limits, and a load run left 60,027 events in it. Each test uses its own exchange and queue
names and deletes them afterwards.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aio_pika
import aiormq.exceptions
import pytest

from bot.crypto import TextCipher, generate_key
from components.encryption import read_event
from components.event_broker import EncryptedPikaEventBroker, QueueLimits, UnboundedQueueError, migrate_queue

ROOT = Path(__file__).resolve().parents[1]
HOST, PORT = "127.0.0.1", 5672
AMQP_URL = f"amqp://guest:guest@{HOST}:{PORT}/"


def _rabbitmq_answers() -> bool:
    try:
        socket.create_connection((HOST, PORT), timeout=2).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _rabbitmq_answers(), reason=f"no RabbitMQ at {HOST}:{PORT}")


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:10]
    exchange, queue = f"test-x-{suffix}", f"test-q-{suffix}"
    yield exchange, queue
    asyncio.run(_delete(exchange, [queue, f"{queue}.migrating"]))


@pytest.fixture
def key(monkeypatch) -> str:
    made = generate_key()
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", made)
    return made


async def _delete(exchange: str, queues: list[str]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)


async def _count(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return declared.declaration_result.message_count


async def _exists(queue: str) -> bool:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        try:
            await (await connection.channel()).declare_queue(queue, passive=True)
            return True
        except aiormq.exceptions.ChannelNotFoundEntity:
            return False


async def _bodies(queue: str) -> list[bytes]:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        bodies = []
        while (message := await declared.get(no_ack=True, fail=False)) is not None:
            bodies.append(message.body)
        return bodies


async def _publish_through_broker(exchange: str, queue: str, count: int, start: int = 0) -> None:
    broker = EncryptedPikaEventBroker(HOST, "guest", "guest", port=PORT, queues=[queue], exchange_name=exchange,
                                      event_loop=asyncio.get_running_loop())
    await broker.connect()
    try:
        for number in range(start, start + count):
            await broker._publish({"event": "user", "text": f"event {number}", "timestamp": number})
    finally:
        await broker.close()


def _numbers(bodies: list[bytes], key: str) -> list[int]:
    return [read_event(body, TextCipher([key]))["timestamp"] for body in bodies]


def test_the_queue_keeps_only_the_newest_events_up_to_the_limit(monkeypatch, key, names):
    exchange, queue = names
    monkeypatch.setenv("RAPPORT_BROKER_MAX_EVENTS", "50")
    asyncio.run(_publish_through_broker(exchange, queue, 120))
    assert asyncio.run(_count(queue)) == 50
    assert _numbers(asyncio.run(_bodies(queue)), key) == list(range(70, 120))


def test_events_older_than_the_age_limit_are_dropped(monkeypatch, key, names):
    exchange, queue = names
    monkeypatch.setenv("RAPPORT_BROKER_EVENT_TTL_SECONDS", "1")
    asyncio.run(_publish_through_broker(exchange, queue, 10))
    assert asyncio.run(_count(queue)) == 10
    deadline = time.monotonic() + 10
    while asyncio.run(_count(queue)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert asyncio.run(_count(queue)) == 0


def test_settings_are_checked():
    assert QueueLimits.from_env({}).arguments() == {
        "x-max-length": 100_000, "x-overflow": "drop-head", "x-message-ttl": 7 * 24 * 3600 * 1000}
    for bad in ("0", "-5", "lots"):
        with pytest.raises(RuntimeError, match="RAPPORT_BROKER_MAX_EVENTS"):
            QueueLimits.from_env({"RAPPORT_BROKER_MAX_EVENTS": bad})


async def _old_release_queue(exchange: str, queue: str, count: int) -> None:
    """What Rasa's own broker left: a durable queue with no arguments, full of events."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        fanout = await channel.declare_exchange(exchange, type=aio_pika.ExchangeType.FANOUT)
        old = await channel.declare_queue(queue, durable=True)
        await old.bind(fanout, "")
    await _publish_plain(exchange, count)


async def _publish_plain(exchange: str, count: int, start: int = 0) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        fanout = await channel.declare_exchange(exchange, type=aio_pika.ExchangeType.FANOUT)
        for number in range(start, start + count):
            await fanout.publish(aio_pika.Message(b'{"event": "user", "timestamp": %d}' % number), "")


def test_an_unbounded_queue_from_an_older_release_is_migrated_keeping_the_newest_events(monkeypatch, key, names):
    exchange, queue = names
    monkeypatch.setenv("RAPPORT_BROKER_MAX_EVENTS", "50")
    asyncio.run(_old_release_queue(exchange, queue, 80))

    # The replica refuses to start on it, naming the migration (PRECONDITION_FAILED underneath).
    with pytest.raises(UnboundedQueueError, match="migrate-queue"):
        asyncio.run(_publish_through_broker(exchange, queue, 1))
    assert asyncio.run(_count(queue)) == 80  # nothing lost by the refusal

    env = dict(os.environ, PYTHONPATH=str(ROOT), RABBITMQ_HOST=HOST, RABBITMQ_PORT=str(PORT),
               RABBITMQ_USER="guest", RABBITMQ_PASSWORD="guest", RABBITMQ_QUEUE=queue, RABBITMQ_EXCHANGE=exchange)
    done = subprocess.run([sys.executable, "-m", "components.event_broker", "migrate-queue"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "80 waiting events moved" in done.stdout
    assert asyncio.run(_count(queue)) == 50

    # Bounded from now on, and the broker starts on it; nothing left bound twice.
    asyncio.run(_publish_through_broker(exchange, queue, 30, start=1000))
    assert _numbers(asyncio.run(_bodies(queue)), key) == list(range(60, 80)) + list(range(1000, 1030))
    # A second run finds nothing to do.
    assert asyncio.run(migrate_queue(AMQP_URL, queue, exchange, QueueLimits(max_events=50))) == 0
    asyncio.run(_publish_plain(exchange, 60, start=2000))
    assert asyncio.run(_count(queue)) == 50
    assert not asyncio.run(_exists(f"{queue}.migrating"))


def test_an_interrupted_migration_is_finished_by_the_next_run(key, names):
    """The holding queue of a run that stopped half-way gives its events back, once."""
    exchange, queue = names
    limits = QueueLimits(max_events=50)

    async def half_done() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            fanout = await channel.declare_exchange(exchange, type=aio_pika.ExchangeType.FANOUT)
            holding = await channel.declare_queue(f"{queue}.migrating", durable=True, arguments=limits.arguments())
            await holding.bind(fanout, "")
        await _publish_plain(exchange, 20)

    asyncio.run(half_done())
    asyncio.run(migrate_queue(AMQP_URL, queue, exchange, limits))
    asyncio.run(_publish_plain(exchange, 5, start=100))
    assert not asyncio.run(_exists(f"{queue}.migrating"))
    assert _numbers(asyncio.run(_bodies(queue)), key) == list(range(20)) + list(range(100, 105))
