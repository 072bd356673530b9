"""The `Store` API: all reads and writes of check-ins.

Works on SQLite and PostgreSQL; `Store.migrate()` runs the Alembic migrations up to head
(`bot/store/migrate.py`). Client free text (answer text, follow-up, summary, and the practice's
label for a client) is encrypted with `bot.crypto.TextCipher` before it is written; scores,
statuses and timestamps stay plain so they can be queried. Every method opens its own short
transaction and returns frozen dataclasses of plain, decrypted values (`bot/store/views.py`).
Any database failure is raised as `StoreError`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import Column, Table, bindparam, delete, exists, func, select, update
from sqlalchemy.orm import Session

from bot import metrics
from bot.crypto import DecryptionError
from bot.store.checks import (
    check_answer,
    check_checkin_id,
    check_dimension,
    check_identifier,
    check_shared,
    check_text,
)
from bot.store.errors import NotFoundError, UnreadableTextError
from bot.store.enrolment import EnrolmentStore
from bot.store.practice import PracticeStore
from bot.store.reads import StoreReads
from bot.store.schedules import ScheduleStore
from bot.store.triage import TriageStore
from bot.store.schema import (
    ABANDONED,
    CHANNEL_MAX,
    CLIENT_ID_MAX,
    COMPLETED,
    IN_PROGRESS,
    KIND_MAX,
    OPEN_STATUSES,
    STATUSES,
    answer_table,
    binding_table,
    checkin_table,
    client_table,
    event_table,
    summary_table,
)
from bot.store.views import FinalAnswer

_ROTATE_BATCH = 500


class Store(PracticeStore, EnrolmentStore, ScheduleStore, TriageStore, StoreReads):
    """All reads and writes. Safe to share between threads.

    The check-ins' writes are here; their reads in `reads.py`; the practice's tables in
    `practice.py` (staff, audit log), `enrolment.py` (enrolled clients, invitations, bindings),
    `schedules.py` (schedules, sessions, scheduled check-ins) and `triage.py` (crisis triage).
    """

    def _ensure_client(self, session: Session, client_id: str, now: datetime) -> None:
        session.execute(
            self._insert(client_table)
            .values(id=client_id, label=None, created_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
        )

    def _require_checkin(self, session: Session, checkin_id: int) -> None:
        found = session.execute(
            select(checkin_table.c.id).where(checkin_table.c.id == checkin_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no check-in with id {checkin_id!r}")

    @staticmethod
    def _status_of(session: Session, checkin_id: int) -> str | None:
        return session.execute(select(checkin_table.c.status).where(checkin_table.c.id == checkin_id)).scalar()

    def _touch(self, session: Session, checkin_id: int, now: datetime, **values: Any) -> None:
        result = session.execute(
            update(checkin_table)
            .where(checkin_table.c.id == checkin_id)
            .values(updated_at=now, **values)
        )
        if result.rowcount == 0:
            raise NotFoundError(f"no check-in with id {checkin_id!r}")


    # ------------------------------------------------------------------ writes

    def start_checkin(self, client_id: str, channel: str, shared: bool) -> int:
        """Start a new check-in and return its id.

        Creates the client on first sight. Any check-in of this client still open
        (in_progress or paused) is marked abandoned: a client has at most one open check-in.
        Call `open_checkin` first to resume instead.
       """
        check_shared(shared)
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        check_identifier("channel", channel, CHANNEL_MAX)
        now = self._clock()
        with self._transaction() as session:
            self._ensure_client(session, client_id, now)
            abandoned = session.execute(
                update(checkin_table)
                .where(
                    checkin_table.c.client_id == client_id,
                    checkin_table.c.status.in_(OPEN_STATUSES),
                )
                .values(status=ABANDONED, updated_at=now)
            ).rowcount
            result = session.execute(
                checkin_table.insert().values(
                    client_id=client_id,
                    channel=channel,
                    status=IN_PROGRESS,
                    shared=shared,
                    started_at=now,
                    updated_at=now,
                    completed_at=None,
                )
            )
            checkin_id = int(result.inserted_primary_key[0])
        metrics.CHECKINS_STARTED.inc()
        metrics.CHECKINS_ABANDONED.inc(max(0, abandoned or 0))
        return checkin_id

    def record_answer(
        self,
        checkin_id: int,
        dimension: str,
        score: int | None,
        text: str,
        skipped: bool = False,
    ) -> None:
        """Record (or change) the answer for one dimension. Re-recording updates in place.

        A skipped answer has no score. The answer's created_at is kept on update; its
        follow-up, if any, is kept too.
       """
        checkin_id = check_checkin_id(checkin_id)
        answer = FinalAnswer(dimension, score, text, skipped)
        check_answer(answer)
        now = self._clock()
        with self._transaction() as session:
            self._touch(session, checkin_id, now)
            self._upsert_answer(session, checkin_id, answer, now)

    def record_followup(self, checkin_id: int, dimension: str, text: str) -> None:
        """Record what the client added after being invited to say more about a dimension.

        The dimension must have been answered first (ValueError otherwise).
       """
        checkin_id = check_checkin_id(checkin_id)
        check_dimension(dimension)
        check_text("text", text)
        now = self._clock()
        with self._transaction() as session:
            self._touch(session, checkin_id, now)
            self._set_followup(session, checkin_id, dimension, text, now)

    def _upsert_answer(self, session: Session, checkin_id: int, answer: FinalAnswer, now: datetime) -> None:
        insert = self._insert(answer_table).values(
            checkin_id=checkin_id,
            dimension=answer.dimension,
            score=answer.score,
            skipped=bool(answer.skipped),
            text=self._encrypt(answer.text),
            followup=None,
            created_at=now,
            updated_at=now,
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["checkin_id", "dimension"],
                set_={
                    "score": insert.excluded.score,
                    "skipped": insert.excluded.skipped,
                    "text": insert.excluded.text,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )

    def _set_followup(self, session: Session, checkin_id: int, dimension: str, text: str, now: datetime) -> None:
        result = session.execute(
            update(answer_table)
            .where(answer_table.c.checkin_id == checkin_id, answer_table.c.dimension == dimension)
            .values(followup=self._encrypt(text), updated_at=now)
        )
        if result.rowcount == 0:
            raise ValueError(
                f"check-in {checkin_id} has no answer for {dimension!r} yet; record_answer first"
            )

    def set_status(self, checkin_id: int, status: str) -> None:
        """Set a check-in's status (one of STATUSES). Completing stamps completed_at once."""
        checkin_id = check_checkin_id(checkin_id)
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
        now = self._clock()
        with self._transaction() as session:
            previous = self._status_of(session, checkin_id)
            values: dict[str, Any] = {"status": status}
            if status == COMPLETED:
                values["completed_at"] = func.coalesce(checkin_table.c.completed_at, now)
            self._touch(session, checkin_id, now, **values)
        _count_status_change(previous, status)

    def set_shared(self, checkin_id: int, shared: bool) -> None:
        """Whether this check-in is visible to the therapist."""
        shared = check_shared(shared)
        checkin_id = check_checkin_id(checkin_id)
        now = self._clock()
        with self._transaction() as session:
            self._touch(session, checkin_id, now, shared=shared)

    def complete_checkin(
        self, checkin_id: int, summary_text: str, answers: Iterable[FinalAnswer] = ()
    ) -> None:
        """Store the summary and mark the check-in completed (safe to retry).

        `answers`, if given, are (re)written in the same transaction, follow-ups included, so
        a check-in is completed with all of its answers or not at all.
       """
        checkin_id = check_checkin_id(checkin_id)
        check_text("summary_text", summary_text)
        answers = list(answers)
        for answer in answers:
            check_answer(answer)
        now = self._clock()
        with self._transaction() as session:
            previous = self._status_of(session, checkin_id)
            self._touch(
                session,
                checkin_id,
                now,
                status=COMPLETED,
                completed_at=func.coalesce(checkin_table.c.completed_at, now),
            )
            for answer in answers:
                self._upsert_answer(session, checkin_id, answer, now)
                if answer.followup:
                    self._set_followup(session, checkin_id, answer.dimension, answer.followup, now)
            insert = self._insert(summary_table).values(
                checkin_id=checkin_id, text=self._encrypt(summary_text), created_at=now
            )
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=["checkin_id"], set_={"text": insert.excluded.text}
                )
            )
        _count_status_change(previous, COMPLETED)

    def record_event(
        self, client_id: str, kind: str, checkin_id: int | None = None, then: Callable[[Session], Any] | None = None
    ) -> int:
        """Record that something happened (e.g. "crisis"); never the message text. Returns its id.
        `then(session)` runs in the same transaction (bot.outbox adds the practice's alert there)."""
        if checkin_id is not None:
            checkin_id = check_checkin_id(checkin_id)
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        check_identifier("kind", kind, KIND_MAX)
        now = self._clock()
        with self._transaction() as session:
            self._ensure_client(session, client_id, now)
            if checkin_id is not None:
                self._require_checkin(session, checkin_id)
            result = session.execute(
                event_table.insert().values(
                    client_id=client_id, checkin_id=checkin_id, kind=kind, created_at=now
                )
            )
            if then is not None:
                then(session)
            return int(result.inserted_primary_key[0])

    def set_label(self, client_id: str, label: str | None) -> None:
        """The practice's own name for a client (stored encrypted); None clears it."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        if label is not None:
            check_text("label", label)
        with self._transaction() as session:
            result = session.execute(
                update(client_table)
                .where(client_table.c.id == client_id)
                .values(label=None if label is None else self._encrypt(label))
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no client with id {client_id!r}")

    # ------------------------------------------------------------------ deletes

    def delete_client(self, client_id: str) -> int:
        """Erase a client and everything stored about them. Returns how many check-ins went."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            count = session.execute(
                select(func.count()).select_from(checkin_table).where(checkin_table.c.client_id == client_id)
            ).scalar_one()
            session.execute(delete(client_table).where(client_table.c.id == client_id))
            return int(count)

    def purge(self, older_than: timedelta) -> int:
        """Delete check-ins with no activity for `older_than`, with their answers, summary and
        events; also old events outside any check-in, and clients left with nothing stored.
        Returns how many check-ins were deleted."""
        if not isinstance(older_than, timedelta) or older_than <= timedelta(0):
            raise ValueError(f"older_than must be a positive timedelta, got {older_than!r}")
        cutoff = self._clock() - older_than
        with self._transaction() as session:
            result = session.execute(
                delete(checkin_table).where(checkin_table.c.updated_at < cutoff)
            )
            purged = int(result.rowcount or 0)
            session.execute(
                delete(event_table).where(
                    event_table.c.checkin_id.is_(None), event_table.c.created_at < cutoff
                )
            )
            session.execute(
                delete(client_table).where(
                    client_table.c.created_at < cutoff,
                    ~exists().where(checkin_table.c.client_id == client_table.c.id),
                    ~exists().where(event_table.c.client_id == client_table.c.id),
                )
            )
            return purged

    # ------------------------------------------------------------------ keys

    def rotate_keys(self) -> int:
        """Re-encrypt every stored text with the newest key. Returns how many texts changed.

        Works in batches, each its own transaction; if it stops halfway, everything stays
        readable with the configured keys and it can simply be run again.
       """
        rotated = 0
        rotated += self._rotate_column(answer_table, answer_table.c.id, ("text", "followup"))
        rotated += self._rotate_column(summary_table, summary_table.c.checkin_id, ("text",))
        rotated += self._rotate_column(client_table, client_table.c.id, ("label", "external_id"))
        rotated += self._rotate_column(binding_table, binding_table.c.conversation_id, ("address",))
        rotated += self._rotate_column(event_table, event_table.c.id, ("ack_note",))
        return rotated

    def _rotate_column(self, table: Table, key: Column, columns: tuple[str, ...]) -> int:
        rotated = 0
        last: Any = None
        while True:
            with self._transaction() as session:
                query = select(key, *(table.c[name] for name in columns)).order_by(key).limit(_ROTATE_BATCH)
                if last is not None:
                    query = query.where(key > last)
                rows = session.execute(query).all()
                if not rows:
                    return rotated
                params = []
                for row in rows:
                    values = {"_key": row[0]}
                    for i, name in enumerate(columns, start=1):
                        token = row[i]
                        try:
                            values[f"_{name}"] = None if token is None else self.cipher.rotate(token)
                        except DecryptionError as exc:
                            raise UnreadableTextError(str(exc)) from exc
                        rotated += token is not None
                    params.append(values)
                session.execute(
                    update(table)
                    .where(key == bindparam("_key"))
                    .values({name: bindparam(f"_{name}") for name in columns}),
                    params,
                )
                last = rows[-1][0]


def _count_status_change(previous: str | None, status: str) -> None:
    """Counts a check-in that became completed or abandoned (bot/metrics.py); a retry counts once."""
    if previous == status:
        return
    if status == COMPLETED:
        metrics.CHECKINS_COMPLETED.inc()
    elif status == ABANDONED:
        metrics.CHECKINS_ABANDONED.inc()
