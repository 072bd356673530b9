"""The cluster's backing services: PostgreSQL, Redis and RabbitMQ, with fresh names for each run.

Used by scripts/serve_cluster.sh (as `python -m deploy.services ...`), bench/load.py and
tests/e2e/test_cluster.py. Connection settings come from the same variables as
endpoints.production.yml (see .env.production.example); the defaults are this machine's services.
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

import psycopg2
import redis
from psycopg2 import sql


@dataclass(frozen=True)
class Services:
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = ""
    pg_login_db: str = "postgres"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_password: str = ""
    redis_db: int = 1
    rabbit_host: str = "127.0.0.1"
    rabbit_port: int = 5672
    rabbit_user: str = "guest"
    rabbit_password: str = "guest"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Services":
        def get(name: str, default: Any) -> Any:
            value = env.get(name)
            return type(default)(value) if value not in (None, "") else default

        base = cls()
        return cls(
            pg_host=get("RAPPORT_TRACKER_DB_HOST", base.pg_host),
            pg_port=get("RAPPORT_TRACKER_DB_PORT", base.pg_port),
            pg_user=get("RAPPORT_TRACKER_DB_USER", base.pg_user),
            pg_password=env.get("RAPPORT_TRACKER_DB_PASSWORD", ""),
            pg_login_db=get("RAPPORT_TRACKER_DB_LOGIN_DB", base.pg_login_db),
            redis_host=get("REDIS_HOST", base.redis_host),
            redis_port=get("REDIS_PORT", base.redis_port),
            redis_password=env.get("REDIS_PASSWORD", ""),
            redis_db=get("REDIS_LOCK_DB", base.redis_db),
            rabbit_host=get("RABBITMQ_HOST", base.rabbit_host),
            rabbit_port=get("RABBITMQ_PORT", base.rabbit_port),
            rabbit_user=get("RABBITMQ_USER", base.rabbit_user),
            rabbit_password=get("RABBITMQ_PASSWORD", base.rabbit_password),
        )

    def database_url(self, name: str) -> str:
        password = f":{quote(self.pg_password, safe='')}" if self.pg_password else ""
        return f"postgresql://{quote(self.pg_user, safe='')}{password}@{self.pg_host}:{self.pg_port}/{name}"

    def amqp_url(self) -> str:
        return (f"amqp://{quote(self.rabbit_user, safe='')}:{quote(self.rabbit_password, safe='')}"
                f"@{self.rabbit_host}:{self.rabbit_port}/")


# --- reachability --------------------------------------------------------------------------------

def missing(services: Services) -> list[str]:
    """Which services cannot be used, each with the reason."""
    problems = []
    try:
        psycopg2.connect(
            host=services.pg_host, port=services.pg_port, user=services.pg_user,
            password=services.pg_password or None, dbname=services.pg_login_db, connect_timeout=3,
        ).close()
    except Exception as error:  # noqa: BLE001 - reported, not raised
        problems.append(f"PostgreSQL at {services.pg_host}:{services.pg_port}: {str(error).strip()}")
    try:
        _redis(services).ping()
    except Exception as error:  # noqa: BLE001
        problems.append(f"Redis at {services.redis_host}:{services.redis_port}: {error}")
    try:
        asyncio.run(_amqp_check(services))
    except Exception as error:  # noqa: BLE001
        problems.append(f"RabbitMQ at {services.rabbit_host}:{services.rabbit_port}: {error or type(error).__name__}")
    return problems


async def _amqp_check(services: Services) -> None:
    import aio_pika

    with socket.create_connection((services.rabbit_host, services.rabbit_port), timeout=3):
        pass
    connection = await aio_pika.connect(services.amqp_url(), timeout=5)
    await connection.close()


# --- PostgreSQL ----------------------------------------------------------------------------------

def _admin(services: Services):
    connection = psycopg2.connect(
        host=services.pg_host, port=services.pg_port, user=services.pg_user,
        password=services.pg_password or None, dbname=services.pg_login_db, connect_timeout=5,
    )
    connection.autocommit = True
    return connection


def create_databases(services: Services, names: list[str]) -> None:
    connection = _admin(services)  # autocommit: CREATE DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def drop_databases(services: Services, names: list[str]) -> None:
    connection = _admin(services)
    try:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        connection.close()


# --- Redis ---------------------------------------------------------------------------------------

def _redis(services: Services) -> redis.Redis:
    return redis.Redis(
        host=services.redis_host, port=services.redis_port, db=services.redis_db,
        password=services.redis_password or None, socket_timeout=5,
    )


def drop_locks(services: Services, key_prefix: str) -> int:
    """Deletes the lock keys of one deployment (Rasa names them `<prefix>:lock:<conversation>`)."""
    client = _redis(services)
    keys = list(client.scan_iter(match=f"{key_prefix}:*", count=500))
    return client.delete(*keys) if keys else 0


# --- RabbitMQ ------------------------------------------------------------------------------------

def queued_events(services: Services, queue: str, keys: str, limit: int = 100_000) -> list[dict]:
    """Takes every event waiting in `queue` (they are removed) and returns them, decrypted with
    `keys` (RAPPORT_ENCRYPTION_KEYS)."""
    from bot.crypto import configured_cipher
    from components.encryption import read_event  # imports Rasa: only when reading events

    cipher = configured_cipher(keys.split(","))
    return [read_event(body, cipher) for body in queued_bodies(services, queue, limit)]


def queued_bodies(services: Services, queue: str, limit: int = 100_000) -> list[bytes]:
    """Takes every message waiting in `queue` (they are removed) and returns their raw bodies."""
    return asyncio.run(_take_all(services, queue, limit))


async def _take_all(services: Services, queue_name: str, limit: int) -> list[bytes]:
    import aio_pika

    connection = await aio_pika.connect(services.amqp_url(), timeout=10)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        bodies: list[bytes] = []
        while len(bodies) < limit:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                break
            bodies.append(message.body)
        return bodies
    finally:
        await connection.close()


def drop_broker(services: Services, exchange: str, queue: str) -> None:
    asyncio.run(_drop_broker(services, exchange, queue))


async def _drop_broker(services: Services, exchange: str, queue: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(services.amqp_url(), timeout=10)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
    finally:
        await connection.close()


# --- command line (scripts/serve_cluster.sh) -----------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m deploy.services")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="exit 1 (saying why) unless PostgreSQL, Redis and RabbitMQ answer")
    create = sub.add_parser("create-dbs")
    create.add_argument("names", nargs="+")
    drop = sub.add_parser("drop", help="drop a run's databases, lock keys, queue and exchange")
    drop.add_argument("--dbs", nargs="*", default=[])
    drop.add_argument("--lock-prefix")
    drop.add_argument("--exchange")
    drop.add_argument("--queue")
    args = parser.parse_args(argv)
    services = Services.from_env(os.environ)

    if args.command == "check":
        problems = missing(services)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if args.command == "create-dbs":
        create_databases(services, args.names)
        return 0
    failures = 0
    for what, step in (
        ("databases", lambda: drop_databases(services, args.dbs) if args.dbs else None),
        ("locks", lambda: drop_locks(services, args.lock_prefix) if args.lock_prefix else None),
        ("broker", lambda: drop_broker(services, args.exchange, args.queue) if args.exchange and args.queue else None),
    ):
        try:
            step()
        except Exception as error:  # noqa: BLE001 - clean up what can be cleaned up
            failures += 1
            print(f"could not drop the run's {what}: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
