"""Alerts to the practice, kept in the database until their webhook has taken them (an outbox).

An alert (a crisis, a very low check-in) is a row of `alert_outbox`, written in the same
transaction as the crisis event it reports (`Store.record_event(..., then=outbox.adder(...))`), or
on its own (`AlertOutbox.add`). A delivery worker, a thread in the action server, sends the due
rows: each attempt signed (bot.notify: Standard Webhooks), a failure tried again after
RAPPORT_ALERT_RETRY_SECONDS, then twice as long each time (at most an hour), until
RAPPORT_ALERT_MAX_ATTEMPTS, when the row is marked failed and logged as an error. A row is
`pending`, `delivered` or `failed`, with its attempts, the last error in a word, and when it was
delivered. Rows outlive the process: an action server that restarts sends whatever is still
pending, with the same `webhook-id`.

Deduplicated per client, kind and window: a second alert of the same kind for the same client
within RAPPORT_ALERT_DEDUP_MINUTES of the first adds 1 to the first row's `count` instead of
making a second alert (a client who repeats crisis words ten times is one alert, not ten; an
unclear signal followed by a clear one is two kinds, so two alerts).

Several action servers may share the database: a worker claims a row by raising its `attempts`
from the value it read (a compare-and-set), and holds it for the timeout plus a margin, so two
workers never send the same attempt; a worker that dies mid-send leaves the row to be retried when
its hold ends. Delivery is at least once: the receiver drops repeats by `webhook-id`.

Why no job library: the one at hand (APScheduler, installed with Rasa) keeps jobs in its own
tables or in memory, not in our table with our dedup and claim rules; the loop that remains is a
`threading.Event` wait of a few lines.

The table is this module's; it is declared on bot.store's metadata, so the Alembic migrations
(bot/migrations, revision 0002) create it with the others, and deleting a client deletes its rows.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, and_, select, update
from sqlalchemy.engine import Engine

from bot import metrics
from bot.config import number_setting
from bot.notify import body_of, post, signature_headers, signing_key
from bot.store.schema import CLIENT_ID_MAX, KIND_MAX, Base, UTCDateTime

logger = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_BACKOFF_SECONDS = 3600
CLAIM_MARGIN_SECONDS = 30


class AlertRow(Base):
    __tablename__ = "alert_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_alert_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_alert_outbox_client_id_kind_created_at", "client_id", "kind", "created_at"),
    )

    id = Column(String(40), primary_key=True)  # the webhook-id: "msg_" + 32 hex digits
    client_id = Column(String(CLIENT_ID_MAX), ForeignKey("client.id", ondelete="CASCADE"), nullable=False)
    checkin_id = Column(Integer, nullable=True)
    kind = Column(String(KIND_MAX), nullable=False)
    count = Column(Integer, nullable=False)  # alerts of this kind for this client merged into this row
    status = Column(String(16), nullable=False)
    attempts = Column(Integer, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False)
    last_seen_at = Column(UTCDateTime(), nullable=False)  # the latest alert merged into this row
    next_attempt_at = Column(UTCDateTime(), nullable=False)
    delivered_at = Column(UTCDateTime(), nullable=True)
    last_error = Column(String(64), nullable=True)  # "HTTP 503", "ConnectionRefusedError": never a payload


outbox_table: Table = AlertRow.__table__


@dataclass(frozen=True)
class OutboxSettings:
    webhook: str = ""
    secret: str = ""  # whsec_<base64>
    dedup_minutes: int = 30
    max_attempts: int = 12
    retry_seconds: float = 5.0
    poll_seconds: float = 5.0
    timeout_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "OutboxSettings":
        return cls(
            webhook=(env.get("RAPPORT_ALERT_WEBHOOK") or "").strip(),
            secret=(env.get("RAPPORT_ALERT_SECRET") or "").strip(),
            dedup_minutes=number_setting(env, "RAPPORT_ALERT_DEDUP_MINUTES", 30, unit="minutes"),
            max_attempts=max(1, number_setting(env, "RAPPORT_ALERT_MAX_ATTEMPTS", 12, unit="attempts")),
            retry_seconds=number_setting(env, "RAPPORT_ALERT_RETRY_SECONDS", 5.0, unit="seconds"),
            poll_seconds=max(0.05, number_setting(env, "RAPPORT_ALERT_POLL_SECONDS", 5.0, unit="seconds")),
            timeout_seconds=max(0.1, number_setting(env, "RAPPORT_ALERT_TIMEOUT_SECONDS", 5.0, unit="seconds")),
        )


@dataclass(frozen=True)
class AlertView:
    id: str
    client_id: str
    checkin_id: int | None
    kind: str
    count: int
    status: str
    attempts: int
    created_at: datetime
    last_seen_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class AlertOutbox:
    """The outbox on `engine` (the store's: `AlertOutbox(store.engine, settings)`)."""

    def __init__(self, engine: Engine, settings: OutboxSettings, clock: Callable[[], datetime] = _now) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self._key = signing_key(settings.secret) if settings.secret else None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        if settings.webhook and self._key is None:
            logger.warning("RAPPORT_ALERT_SECRET is empty: alerts go out unsigned (scripts/ensure_env.py makes one)")

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhook)

    # ------------------------------------------------------------------ writing

    def adder(self, client_id: str, kind: str, checkin_id: int | None) -> Callable[[Any], str]:
        """`fn(connection_or_session)` that adds the alert there: for Store.record_event's `then`."""
        return lambda connection: self._add(connection, client_id, kind, checkin_id)

    def add(self, client_id: str, kind: str, checkin_id: int | None = None) -> str:
        """Adds an alert in its own transaction; returns its row id (an earlier row's when merged)."""
        with self.engine.begin() as connection:
            return self._add(connection, client_id, kind, checkin_id)

    def _add(self, connection: Any, client_id: str, kind: str, checkin_id: int | None) -> str:
        now = self.clock()
        window = timedelta(minutes=self.settings.dedup_minutes)
        recent = connection.execute(
            select(outbox_table.c.id)
            .where(outbox_table.c.client_id == client_id, outbox_table.c.kind == kind,
                   outbox_table.c.created_at > now - window)
            .order_by(outbox_table.c.created_at.desc())
            .limit(1)
        ).first() if self.settings.dedup_minutes > 0 else None
        if recent is not None:
            connection.execute(update(outbox_table).where(outbox_table.c.id == recent.id)
                               .values(count=outbox_table.c.count + 1, last_seen_at=now))
            return str(recent.id)
        row_id = f"msg_{uuid.uuid4().hex}"
        connection.execute(outbox_table.insert().values(
            id=row_id, client_id=client_id, checkin_id=checkin_id, kind=kind, count=1, status=PENDING,
            attempts=0, created_at=now, last_seen_at=now, next_attempt_at=now, delivered_at=None, last_error=None,
        ))
        return row_id

    def wake(self) -> None:
        """Tell this process's worker to look for due alerts now (after the adding transaction)."""
        self._wake.set()

    # ------------------------------------------------------------------ reading

    def alerts(self, client_id: str | None = None) -> list[AlertView]:
        query = select(outbox_table).order_by(outbox_table.c.created_at)
        if client_id is not None:
            query = query.where(outbox_table.c.client_id == client_id)
        with self.engine.connect() as connection:
            return [AlertView(**row._mapping) for row in connection.execute(query)]

    # ------------------------------------------------------------------ delivering

    def deliver_due(self, limit: int = 20) -> int:
        """Tries each due pending alert once (those another worker holds are left). Returns how
        many were delivered."""
        now = self.clock()
        with self.engine.connect() as connection:
            due = connection.execute(
                select(outbox_table.c.id, outbox_table.c.attempts)
                .where(outbox_table.c.status == PENDING, outbox_table.c.next_attempt_at <= now)
                .order_by(outbox_table.c.next_attempt_at).limit(limit)
            ).all()
        return sum(self._deliver(row.id, row.attempts) for row in due)

    def _deliver(self, row_id: str, attempts: int) -> bool:
        held_until = self.clock() + timedelta(seconds=self.settings.timeout_seconds + CLAIM_MARGIN_SECONDS)
        with self.engine.begin() as connection:
            claimed = connection.execute(
                update(outbox_table)
                .where(and_(outbox_table.c.id == row_id, outbox_table.c.status == PENDING,
                            outbox_table.c.attempts == attempts))
                .values(attempts=attempts + 1, next_attempt_at=held_until)
            ).rowcount == 1
            row = connection.execute(select(outbox_table).where(outbox_table.c.id == row_id)).first()
        if not claimed or row is None:
            return False
        attempt = attempts + 1
        outcome = _send(self.settings, self._key, row.id, row.kind, row.client_id, row.checkin_id,
                        row.created_at, row.last_seen_at, row.count)
        now = self.clock()
        if outcome.delivered:
            values: dict[str, Any] = {"status": DELIVERED, "delivered_at": now, "last_error": None}
            metrics.ALERTS_DELIVERED.labels(row.kind).inc()
            if attempt > 1:
                logger.info("practice alert (kind=%s) delivered on attempt %d", row.kind, attempt)
        elif attempt >= self.settings.max_attempts:
            values = {"status": FAILED, "last_error": outcome.error[:64]}
            metrics.ALERTS_FAILED.labels(row.kind).inc()
            logger.error("practice alert (kind=%s) failed after %d attempts (%s)", row.kind, attempt, outcome.error)
        else:
            wait = min(MAX_BACKOFF_SECONDS, self.settings.retry_seconds * 2 ** (attempt - 1))
            values = {"next_attempt_at": now + timedelta(seconds=wait), "last_error": outcome.error[:64]}
        with self.engine.begin() as connection:
            connection.execute(update(outbox_table).where(and_(outbox_table.c.id == row_id,
                                                               outbox_table.c.attempts == attempt)).values(**values))
        return outcome.delivered

    # ------------------------------------------------------------------ the worker

    def start(self) -> None:
        """Starts this process's delivery worker (once; a no-op without a webhook)."""
        with self._lock:
            if not self.enabled or (self._worker is not None and self._worker.is_alive()):
                return
            self._stop.clear()
            self._worker = threading.Thread(target=self._run, name="rapport-alert-outbox", daemon=True)
            self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout)

    def _run(self) -> None:
        logger.info("alert outbox: delivery worker started")
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.deliver_due()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a while
                logger.error("alert outbox: could not read or update the outbox: %s", type(exc).__name__)
            self._wake.wait(self.settings.poll_seconds)


def _send(settings: OutboxSettings, key: bytes | None, alert_id: str, kind: str, client_id: str,
          checkin_id: int | None, first: datetime, last: datetime, count: int) -> Any:
    """One signed POST of an alert (bot.notify.post's Outcome)."""
    body = body_of({"id": alert_id, "kind": kind, "client_id": client_id, "checkin_id": checkin_id,
                    "time": first.isoformat(), "last_time": last.isoformat(), "count": count})
    headers = signature_headers(key, alert_id, int(time.time()), body) if key else {"webhook-id": alert_id}
    return post(settings.webhook, body, headers, timeout=settings.timeout_seconds, kind=kind)


def send_unqueued(settings: OutboxSettings, client_id: str, kind: str, checkin_id: int | None) -> threading.Thread:
    """The last resort when the outbox cannot be written (the database is away): one attempt
    at once, on a thread, not retried. Returns the thread (for tests)."""
    logger.error("practice alert (kind=%s) could not be queued; sending it once, without retries", kind)
    key = signing_key(settings.secret) if settings.secret else None
    now = _now()

    def send_once() -> None:
        outcome = _send(settings, key, f"msg_{uuid.uuid4().hex}", kind, client_id, checkin_id, now, now, 1)
        (metrics.ALERTS_DELIVERED if outcome.delivered else metrics.ALERTS_FAILED).labels(kind).inc()

    thread = threading.Thread(target=send_once, name="rapport-alert-unqueued", daemon=True)
    thread.start()
    return thread
