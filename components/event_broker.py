"""Rasa's RabbitMQ event broker, publishing each event encrypted to a bounded queue.

Every event Rasa streams (the client's messages included) is published as a Fernet token made
with the same keys as the stores (components/encryption.py), not as plain JSON, so the queue
holds no words in the clear. A consumer reads an event with `components.encryption.read_event`.
Configured in endpoints.production.yml (`type: components.event_broker.EncryptedPikaEventBroker`).

The queue is bounded: Rasa declares it with no limits, and with no consumer it grew without end
(60,027 events after one load run). Here it is declared with a length and an age limit:

    RAPPORT_BROKER_MAX_EVENTS          events kept at most; past it the oldest go (default 100000)
    RAPPORT_BROKER_EVENT_TTL_SECONDS   an event not consumed within this is dropped (default 604800, 7 days)

RabbitMQ refuses to redeclare an existing queue with other arguments (PRECONDITION_FAILED), so a
queue declared by an older release (without limits) stops the replica at start with an error
that names the migration:

    python -m components.event_broker migrate-queue

It moves the waiting events to a bounded queue of the same name (RABBITMQ_* as in
.env.production.example), keeping at most the newest RAPPORT_BROKER_MAX_EVENTS.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Text

import aio_pika
import aiormq.exceptions
from rasa.core.brokers.pika import PikaEventBroker

from components.encryption import encrypt_event, settings_cipher

logger = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = 100_000
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MIGRATE_COMMAND = "python -m components.event_broker migrate-queue"


@dataclass(frozen=True)
class QueueLimits:
    max_events: int = DEFAULT_MAX_EVENTS
    ttl_seconds: int = DEFAULT_TTL_SECONDS

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "QueueLimits":
        env = os.environ if env is None else env

        def positive(name: str, default: int) -> int:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value < 1:
                raise RuntimeError(f"{name} must be a whole number of at least 1 (got {raw!r})")
            return value

        return cls(
            max_events=positive("RAPPORT_BROKER_MAX_EVENTS", DEFAULT_MAX_EVENTS),
            ttl_seconds=positive("RAPPORT_BROKER_EVENT_TTL_SECONDS", DEFAULT_TTL_SECONDS),
        )

    def arguments(self) -> Dict[str, Any]:
        """The queue's x-arguments: past the length limit RabbitMQ drops the oldest event."""
        return {
            "x-max-length": self.max_events,
            "x-overflow": "drop-head",
            "x-message-ttl": self.ttl_seconds * 1000,
        }


class UnboundedQueueError(RuntimeError):
    """The queue exists with other arguments (an older release declared it without limits)."""

    def __init__(self, queue: str) -> None:
        super().__init__(
            f"RabbitMQ queue {queue!r} exists with other arguments than this release's limits "
            f"(it was probably declared without limits by an older release). Move its events to a "
            f"bounded queue once, with the replicas stopped: {MIGRATE_COMMAND} "
            f"(docs/kubernetes.md, 'Event queue')."
        )


async def declare_bounded_queue(channel: aio_pika.abc.AbstractChannel, name: str, limits: QueueLimits):
    """Declares (or checks) the durable queue `name` with `limits`; UnboundedQueueError if it
    exists with other arguments. A failed declaration closes the channel: use a fresh one after."""
    try:
        return await channel.declare_queue(name, durable=True, arguments=limits.arguments())
    except aiormq.exceptions.ChannelPreconditionFailed:
        raise UnboundedQueueError(name) from None


class EncryptedPikaEventBroker(PikaEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.cipher = settings_cipher()
        self.limits = QueueLimits.from_env()
        super().__init__(*args, **kwargs)

    async def _set_up_exchange(self, channel: aio_pika.RobustChannel) -> aio_pika.RobustExchange:
        exchange = await channel.declare_exchange(self.exchange_name, type=aio_pika.ExchangeType.FANOUT)
        for name in self.queues:
            queue = await declare_bounded_queue(channel, name, self.limits)
            await queue.bind(exchange, "")
        return exchange

    def _message(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]]) -> aio_pika.Message:
        return aio_pika.Message(
            encrypt_event(event, self.cipher).encode("ascii"),
            headers=headers,
            app_id=self.rasa_environment,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )


# --- migrating a queue declared without limits ----------------------------------------------------

async def migrate_queue(amqp_url: str, queue: str, exchange: str, limits: QueueLimits) -> int:
    """Makes `queue` bounded, keeping its waiting events (at most the newest `limits.max_events`).

    Nothing to do when it is already declared with `limits` (or does not exist yet: it is then
    declared bounded). Otherwise its events are moved to `<queue>.migrating` (bounded, bound to
    `exchange` while the old queue is unbound so nothing is published to both), the old queue is
    deleted and declared again with the limits, and the events are moved back. Events published
    meanwhile are kept but may end up before older ones. Returns how many events were moved.
    """
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        fanout = await channel.declare_exchange(exchange, type=aio_pika.ExchangeType.FANOUT)
        holding_name = f"{queue}.migrating"
        moved = 0
        try:
            bound = await declare_bounded_queue(await connection.channel(), queue, limits)
        except UnboundedQueueError:
            holding = await declare_bounded_queue(channel, holding_name, limits)
            await holding.bind(fanout, "")
            old = await channel.declare_queue(queue, passive=True)
            await old.unbind(fanout, "")
            moved = await _move(channel, old, holding_name)
            await old.delete(if_unused=False, if_empty=True)
            bound = await declare_bounded_queue(channel, queue, limits)
        await bound.bind(fanout, "")
        # The holding queue, from this run or from one that was interrupted: its events go back.
        try:
            await (await connection.channel()).declare_queue(holding_name, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return moved
        holding = await declare_bounded_queue(channel, holding_name, limits)
        await holding.unbind(fanout, "")
        await _move(channel, holding, queue)
        await holding.delete(if_unused=False, if_empty=True)
        return moved
    finally:
        await connection.close()


async def _move(channel: aio_pika.abc.AbstractChannel, source, target: str) -> int:
    moved = 0
    while True:
        message = await source.get(no_ack=False, fail=False)
        if message is None:
            return moved
        await channel.default_exchange.publish(
            aio_pika.Message(
                message.body, headers=message.headers, app_id=message.app_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT, timestamp=message.timestamp,
            ),
            routing_key=target,
        )
        await message.ack()
        moved += 1


def main(argv: Optional[list] = None) -> int:
    from deploy.services import Services

    parser = argparse.ArgumentParser(prog="python -m components.event_broker")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser(
        "migrate-queue", help="declare the event queue with its limits, moving the events of an unbounded one")
    migrate.add_argument("--queue", default=os.environ.get("RABBITMQ_QUEUE"), help="default: $RABBITMQ_QUEUE")
    migrate.add_argument("--exchange", default=os.environ.get("RABBITMQ_EXCHANGE"), help="default: $RABBITMQ_EXCHANGE")
    args = parser.parse_args(argv)
    if not args.queue or not args.exchange:
        parser.error("set RABBITMQ_QUEUE and RABBITMQ_EXCHANGE (or pass --queue and --exchange)")
    try:
        limits = QueueLimits.from_env()
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    moved = asyncio.run(migrate_queue(Services.from_env(os.environ).amqp_url(), args.queue, args.exchange, limits))
    print(f"queue {args.queue!r}: at most {limits.max_events} events, each for at most "
          f"{limits.ttl_seconds} s; {moved} waiting events moved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
