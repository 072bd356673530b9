"""Enrolled clients, invitations and the conversations bound to them (client's enrolment columns,
invitation, binding).

An anonymous client's id is the pseudonymous id of their conversation (bot.identity). An enrolled
client is made by a clinician first (`enrol_client`, a new random id); each conversation the client
then opens through an invitation is bound to that id (`redeem_invitation`), so the actions write the
conversation's check-ins to the enrolled client (`client_for_conversation`). The address a message
can be sent to (a chat id, a phone number) is kept encrypted on the binding.

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update

from bot.store.base import StoreBase
from bot.store.checks import check_identifier, check_text
from bot.store.errors import NotFoundError
from bot.store.schema import (
    CHANNEL_MAX,
    CLIENT_ID_MAX,
    binding_table,
    client_table,
    invitation_table,
)
from bot.store.views import BindingView, InvitationView
from bot.vocabulary import CLIENT_CHANNELS

NAME_MAX = 120
EXTERNAL_ID_MAX = 64
TIMEZONE_MAX = 64


def new_client_id() -> str:
    """A new enrolled client's id: 20 hex characters, never a pseudonym (those are 64)."""
    return secrets.token_hex(10)


class EnrolmentStore(StoreBase):
    """Enrolled clients, invitations and the conversations bound to them."""

    def now(self) -> datetime:
        """The store's clock (tests inject one): invitations expire by it."""
        return self._clock()

    # ------------------------------------------------------------------ clients

    def enrol_client(
        self,
        *,
        name: str,
        clinician_id: int | None,
        external_id: str | None = None,
        preferred_channel: str | None = None,
        timezone: str | None = None,
    ) -> str:
        """A new enrolled client with the clinician; returns the client's id. `name` (or initials)
        and `external_id` are stored encrypted."""
        name = " ".join(check_text("name", name).split())
        if not name or len(name) > NAME_MAX:
            raise ValueError(f"a name must be 1 to {NAME_MAX} characters")
        if external_id is not None:
            external_id = check_text("external_id", external_id).strip() or None
            if external_id is not None and len(external_id) > EXTERNAL_ID_MAX:
                raise ValueError(f"an external id must be at most {EXTERNAL_ID_MAX} characters")
        if preferred_channel is not None and preferred_channel not in CLIENT_CHANNELS:
            raise ValueError(f"unknown channel {preferred_channel!r}; expected one of {', '.join(CLIENT_CHANNELS)}")
        if timezone is not None:
            _check_timezone(timezone)
        client_id = new_client_id()
        now = self._clock()
        with self._transaction() as session:
            session.execute(
                client_table.insert().values(
                    id=client_id,
                    label=self._encrypt(name),
                    created_at=now,
                    clinician_id=clinician_id,
                    external_id=None if external_id is None else self._encrypt(external_id),
                    preferred_channel=preferred_channel,
                    timezone=timezone,
                    enrolled_at=now,
                )
            )
        return client_id

    def update_enrolment(self, client_id: str, **values: object) -> None:
        """Change an enrolled client's clinician_id, preferred_channel or timezone."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        allowed = {"clinician_id", "preferred_channel", "timezone"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        if values.get("preferred_channel") is not None and values["preferred_channel"] not in CLIENT_CHANNELS:
            raise ValueError(f"unknown channel {values['preferred_channel']!r}")
        if values.get("timezone") is not None:
            _check_timezone(str(values["timezone"]))
        with self._transaction() as session:
            result = session.execute(update(client_table).where(client_table.c.id == client_id).values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"no client with id {client_id!r}")

    def set_client_stopped(self, client_id: str, stopped: bool) -> None:
        """The client left (stop: nothing is sent to them any more) or came back (start)."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            result = session.execute(
                update(client_table)
                .where(client_table.c.id == client_id)
                .values(stopped_at=self._clock() if stopped else None)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"no client with id {client_id!r}")

    # ------------------------------------------------------------------ invitations

    def create_invitation(
        self, client_id: str, channel: str, code_hash: str, expires_at: datetime, created_by: int | None
    ) -> int:
        """Keep an invitation (only its code's hash); returns its id."""
        with self._transaction() as session:
            return self._add_invitation(session, client_id, channel, code_hash, expires_at, created_by)

    def _add_invitation(
        self, session: Any, client_id: str, channel: str, code_hash: str, expires_at: datetime, created_by: int | None
    ) -> int:
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        check_identifier("code_hash", code_hash, 64)
        if channel not in CLIENT_CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        if session.execute(select(client_table.c.id).where(client_table.c.id == client_id)).first() is None:
            raise NotFoundError(f"no client with id {client_id!r}")
        result = session.execute(
            invitation_table.insert().values(
                code_hash=code_hash,
                client_id=client_id,
                channel=channel,
                created_by=created_by,
                created_at=self._clock(),
                expires_at=expires_at,
            )
        )
        return int(result.inserted_primary_key[0])

    def invitations(self, client_id: str) -> list[InvitationView]:
        """A client's invitations, newest first."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        t = invitation_table
        with self._transaction() as session:
            rows = session.execute(
                select(t).where(t.c.client_id == client_id).order_by(t.c.created_at.desc(), t.c.id.desc())
            ).all()
        return [
            InvitationView(
                id=row.id, client_id=row.client_id, channel=row.channel, created_by=row.created_by,
                created_at=row.created_at, expires_at=row.expires_at, used_at=row.used_at,
            )
            for row in rows
        ]

    def redeem_invitation(
        self, code_hash: str, conversation_id: str, channel: str, address: str | None
    ) -> str | None:
        """Use an invitation once: bind the conversation to its client and return the client's id.

        None when there is no such invitation, it expired, it was used by another conversation,
        or its client left. Using it again from the same conversation returns the client again
        (a retried message). Atomic: of two conversations racing for one code, one wins."""
        check_identifier("conversation_id", conversation_id, CLIENT_ID_MAX)
        check_identifier("channel", channel, CHANNEL_MAX)
        if not isinstance(code_hash, str) or not code_hash:
            return None
        now = self._clock()
        t = invitation_table
        with self._transaction() as session:
            row = session.execute(select(t).where(t.c.code_hash == code_hash)).first()
            if row is None:
                return None
            if row.used_at is not None:
                return row.client_id if row.used_by == conversation_id else None
            if row.expires_at <= now:
                return None
            stopped = session.execute(
                select(client_table.c.stopped_at).where(client_table.c.id == row.client_id)
            ).scalar_one_or_none()
            if stopped is not None:
                return None
            claimed = session.execute(
                update(t).where(and_(t.c.id == row.id, t.c.used_at.is_(None))).values(used_at=now, used_by=conversation_id)
            )
            if claimed.rowcount != 1:
                return None
            self._bind(session, conversation_id, row.client_id, channel, address, now)
            return str(row.client_id)

    # ------------------------------------------------------------------ bindings

    def bind_conversation(self, conversation_id: str, client_id: str, channel: str, address: str | None) -> None:
        """Bind a conversation to an enrolled client (again: moves it, and clears a STOP)."""
        check_identifier("conversation_id", conversation_id, CLIENT_ID_MAX)
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        check_identifier("channel", channel, CHANNEL_MAX)
        with self._transaction() as session:
            self._bind(session, conversation_id, client_id, channel, address, self._clock())

    def _bind(self, session: object, conversation_id: str, client_id: str, channel: str, address: str | None, now: datetime) -> None:
        token = None if address is None else self._encrypt(check_text("address", address))
        stmt = self._insert(binding_table).values(
            conversation_id=conversation_id, client_id=client_id, channel=channel, address=token, bound_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={"client_id": client_id, "channel": channel, "address": token, "bound_at": now, "stopped_at": None},
        )
        session.execute(stmt)  # type: ignore[attr-defined]

    def client_for_conversation(self, conversation_id: str) -> str | None:
        """The enrolled client a conversation is bound to, or None (an anonymous conversation)."""
        check_identifier("conversation_id", conversation_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            return session.execute(
                select(binding_table.c.client_id).where(binding_table.c.conversation_id == conversation_id)
            ).scalar_one_or_none()

    def binding(self, conversation_id: str) -> BindingView | None:
        check_identifier("conversation_id", conversation_id, CLIENT_ID_MAX)
        found = self._bindings(binding_table.c.conversation_id == conversation_id)
        return found[0] if found else None

    def bindings(self, client_id: str) -> list[BindingView]:
        """A client's bound conversations, most recently bound first, with their addresses."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        return self._bindings(binding_table.c.client_id == client_id)

    def reachable_bindings(self, client_id: str) -> list[BindingView]:
        """The conversations a message may be sent to: bound, not stopped, with an address, and
        the client has not left."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        b, c = binding_table, client_table
        return self._bindings(
            and_(
                b.c.client_id == client_id,
                b.c.stopped_at.is_(None),
                b.c.address.is_not(None),
                b.c.client_id.in_(select(c.c.id).where(and_(c.c.id == client_id, c.c.stopped_at.is_(None)))),
            )
        )

    def _bindings(self, where: object) -> list[BindingView]:
        b = binding_table
        with self._transaction() as session:
            rows = session.execute(
                select(b).where(where).order_by(b.c.bound_at.desc(), b.c.conversation_id)
            ).all()
        return [
            BindingView(
                conversation_id=row.conversation_id, client_id=row.client_id, channel=row.channel,
                address=self._decrypt(row.address), bound_at=row.bound_at, stopped_at=row.stopped_at,
            )
            for row in rows
        ]

    def set_conversation_stopped(self, conversation_id: str, stopped: bool) -> bool:
        """STOP (or START) on one bound conversation's address. False when it is not bound."""
        check_identifier("conversation_id", conversation_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            result = session.execute(
                update(binding_table)
                .where(binding_table.c.conversation_id == conversation_id)
                .values(stopped_at=self._clock() if stopped else None)
            )
            return bool(result.rowcount)

    def unbind_conversation(self, conversation_id: str) -> bool:
        """Forget a conversation's binding (the client left from it). False when it was not bound."""
        check_identifier("conversation_id", conversation_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            result = session.execute(binding_table.delete().where(binding_table.c.conversation_id == conversation_id))
            return bool(result.rowcount)

    def client_left(self, client_id: str) -> int:
        """The client left: every conversation of theirs is unbound and nothing is sent to them
        (`stopped_at`) until a clinician invites them again (`reinvite`). Returns how many
        conversations were unbound."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            result = session.execute(update(client_table).where(client_table.c.id == client_id).values(stopped_at=self._clock()))
            if result.rowcount == 0:
                raise NotFoundError(f"no client with id {client_id!r}")
            unbound = session.execute(binding_table.delete().where(binding_table.c.client_id == client_id))
            return int(unbound.rowcount)

    def reinvite(self, client_id: str, channel: str, code_hash: str, expires_at: datetime, created_by: int | None) -> int:
        """A new invitation for a client, in one transaction: their open (unused, unexpired)
        invitations are revoked (they expire now: only the newest one works), and a client who
        left may come back (`stopped_at` cleared; they have no bound conversation to send to
        until they use it). Returns the new invitation's id."""
        now = self._clock()
        t = invitation_table
        with self._transaction() as session:
            session.execute(
                update(t)
                .where(and_(t.c.client_id == client_id, t.c.used_at.is_(None), t.c.expires_at > now))
                .values(expires_at=now)
            )
            session.execute(update(client_table).where(client_table.c.id == client_id).values(stopped_at=None))
            return self._add_invitation(session, client_id, channel, code_hash, expires_at, created_by)

    def enrolled_client_ids(self, clinician_id: int | None = None) -> list[str]:
        """Every enrolled client's id (or one clinician's), oldest enrolment first."""
        c = client_table
        query = select(c.c.id).where(c.c.enrolled_at.is_not(None))
        if clinician_id is not None:
            query = query.where(c.c.clinician_id == clinician_id)
        with self._transaction() as session:
            return list(session.execute(query.order_by(c.c.enrolled_at, c.c.id)).scalars())


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name or len(name) > TIMEZONE_MAX:
        raise ValueError("a time zone must be an IANA name such as Europe/London")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/London") from None


__all__ = ["EnrolmentStore", "new_client_id"]
