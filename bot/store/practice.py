"""Staff accounts and the audit log (bot/store/schema.py: staff, audit_log).

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.

- Accounts: user names are kept lower case and unique; only a password hash is stored (made by
  the caller with `bot.web.auth.hash_password`). An account is deactivated, never deleted, so the
  audit log's user names keep meaning someone.
- The audit log is append-only (the database refuses UPDATE and DELETE): `audit` adds lines,
  `audit_entries` reads them back newest first, a page at a time.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.base import StoreBase
from bot.store.checks import check_identifier
from bot.store.errors import NotFoundError, StoreError
from bot.store.schema import (
    CLIENT_ID_MAX,
    USERNAME_MAX,
    audit_table,
    client_table,
    event_table,
    staff_table,
)
from bot.store.views import AuditEntryView, StaffView
from bot.vocabulary import ACTOR_NAMES_RESERVED, CLINICIAN, CRISIS_KINDS, ROLES

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
DISPLAY_NAME_MAX = 128
ACTION_MAX = 32
DETAIL_MAX = 256
AUDIT_PAGE_MAX = 1000


class StaffError(ValueError):
    """An account cannot be made or changed as asked (a taken or malformed user name, ...)."""


def normal_username(username: object) -> str:
    """A user name as stored: trimmed and lower case; StaffError unless it is a plausible one."""
    if not isinstance(username, str):
        raise StaffError("a user name is text")
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise StaffError(
            "a user name is 1 to 64 characters: letters, digits and . _ @ -, starting with a letter or digit"
        )
    return name


class PracticeStore(StoreBase):
    """Staff accounts and the audit log."""

    # ------------------------------------------------------------------ staff

    @staticmethod
    def _staff_view(row: Any) -> StaffView:
        return StaffView(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            active=bool(row.active),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def create_staff(self, username: str, display_name: str, role: str, password_hash: str) -> StaffView:
        """A new, active account. StaffError for a taken, reserved or malformed user name."""
        name = normal_username(username)
        if name in ACTOR_NAMES_RESERVED:
            raise StaffError(f"the user name {name!r} is reserved")
        display = " ".join((display_name or "").split())
        if not display or len(display) > DISPLAY_NAME_MAX:
            raise StaffError(f"a name is 1 to {DISPLAY_NAME_MAX} characters")
        if role not in ROLES:
            raise StaffError(f"a role is one of {', '.join(ROLES)}")
        if not password_hash:
            raise StaffError("an account needs a password")
        now = self._clock()
        try:
            with self._transaction() as session:
                staff_id = session.execute(
                    staff_table.insert().values(
                        username=name,
                        display_name=display,
                        role=role,
                        password_hash=password_hash,
                        active=True,
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key[0]
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # the user name is taken
                raise StaffError(f"there is already an account called {name!r}") from None
            raise
        return StaffView(staff_id, name, display, role, True, now, now)

    def staff_member(self, username: str) -> StaffView | None:
        """The account with this user name (any case), or None."""
        found = self.staff_credentials(username)
        return found[0] if found else None

    def staff_credentials(self, username: str) -> tuple[StaffView, str] | None:
        """The account with this user name and its password hash, or None: for logging in."""
        try:
            name = normal_username(username)
        except StaffError:
            return None
        with self._transaction() as session:
            row = session.execute(select(staff_table).where(staff_table.c.username == name)).first()
        return (self._staff_view(row), row.password_hash) if row is not None else None

    def staff(self, *, active_only: bool = False, role: str | None = None) -> list[StaffView]:
        """Every account (or the active ones, or those of one role), by user name."""
        query = select(staff_table).order_by(staff_table.c.username)
        if active_only:
            query = query.where(staff_table.c.active.is_(True))
        if role is not None:
            query = query.where(staff_table.c.role == role)
        with self._transaction() as session:
            return [self._staff_view(row) for row in session.execute(query)]

    def _change_staff(self, username: str, **values: Any) -> StaffView:
        name = normal_username(username)
        with self._transaction() as session:
            changed = session.execute(
                update(staff_table).where(staff_table.c.username == name).values(updated_at=self._clock(), **values)
            ).rowcount
            if not changed:
                raise NotFoundError(f"no account called {name!r}")
            row = session.execute(select(staff_table).where(staff_table.c.username == name)).one()
        return self._staff_view(row)

    def set_staff_password(self, username: str, password_hash: str) -> StaffView:
        """A new password hash: every session signed under the old one ends (bot.web.session)."""
        if not password_hash:
            raise StaffError("an account needs a password")
        return self._change_staff(username, password_hash=password_hash)

    def deactivate_staff(self, username: str) -> StaffView:
        """The account can no longer log in, and its sessions end. It stays in the audit log;
        its clients keep it as their clinician until an admin assigns another."""
        return self._change_staff(username, active=False)

    def assign_clinician(self, client_id: str, staff_id: int | None) -> None:
        """Put a client on an active clinician's caseload (None: on no one's, admins only)."""
        check_identifier("client_id", client_id, CLIENT_ID_MAX)
        with self._transaction() as session:
            if staff_id is not None:
                found = session.execute(
                    select(staff_table.c.id).where(
                        staff_table.c.id == staff_id,
                        staff_table.c.role == CLINICIAN,
                        staff_table.c.active.is_(True),
                    )
                ).first()
                if found is None:
                    raise StaffError("that is not an active clinician's account")
            changed = session.execute(
                update(client_table).where(client_table.c.id == client_id).values(clinician_id=staff_id)
            ).rowcount
            if not changed:
                raise NotFoundError(f"no client with id {client_id!r}")

    def unacknowledged_crisis_counts(self) -> dict[int, int]:
        """Per clinician (staff id): crisis events of their clients that nobody acknowledged yet."""
        query = (
            select(client_table.c.clinician_id, func.count())
            .select_from(event_table.join(client_table, client_table.c.id == event_table.c.client_id))
            .where(
                event_table.c.kind.in_(CRISIS_KINDS),
                event_table.c.acknowledged_at.is_(None),
                client_table.c.clinician_id.is_not(None),
            )
            .group_by(client_table.c.clinician_id)
        )
        with self._transaction() as session:
            return {int(staff_id): int(count) for staff_id, count in session.execute(query)}

    # ------------------------------------------------------------------ the audit log

    def audit(self, actor: str, action: str, client_id: str | None = None, detail: str | None = None) -> None:
        """Add one line to the audit log, stamped with the store's clock."""
        self.audit_many(actor, action, [client_id], detail)

    def audit_many(
        self, actor: str, action: str, client_ids: Iterable[str | None], detail: str | None = None
    ) -> None:
        """One line per client (e.g. each client in a whole export), in one transaction."""
        check_identifier("actor", actor, USERNAME_MAX)
        check_identifier("action", action, ACTION_MAX)
        if detail is not None and len(detail) > DETAIL_MAX:
            raise ValueError(f"an audit detail is at most {DETAIL_MAX} characters")
        now = self._clock()
        rows = [
            {"at": now, "actor": actor, "action": action, "client_id": client_id, "detail": detail}
            for client_id in client_ids
        ]
        for row in rows:
            if row["client_id"] is not None:
                check_identifier("client_id", row["client_id"], CLIENT_ID_MAX)
        if not rows:
            return
        with self._transaction() as session:
            session.execute(audit_table.insert(), rows)

    def audit_entries(
        self,
        *,
        client_id: str | None = None,
        actor: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntryView]:
        """Audit lines, newest first: `limit` of them, older than `before_id` (the next page)."""
        limit = max(1, min(int(limit), AUDIT_PAGE_MAX))
        t = audit_table
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if client_id:
            query = query.where(t.c.client_id == client_id)
        if actor:
            query = query.where(t.c.actor == actor.strip().lower())
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        with self._transaction() as session:
            return [
                AuditEntryView(row.id, row.at, row.actor, row.action, row.client_id, row.detail)
                for row in session.execute(query)
            ]

    def client_ids_of(self, staff_id: int | None) -> set[str]:
        """The ids of the clients on this clinician's caseload (None: the clients with none)."""
        c = client_table.c
        condition = c.clinician_id.is_(None) if staff_id is None else c.clinician_id == staff_id
        with self._transaction() as session:
            return set(session.execute(select(c.id).where(condition)).scalars())
