"""The practice's accounts and its audit log, as the command line (`python -m bot.review staff`,
`audit export`) and the review page's Staff and Audit log pages both use them.

- Every change to an account is written to the audit log, with who made it (a staff user name,
  or "cli" for the command line).
- Passwords: at least `MIN_PASSWORD` characters, stored only as an Argon2id hash
  (`bot.web.auth.hash_password`). The environment's bootstrap admin (RAPPORT_REVIEW_USER) cannot
  be made again as a staff account, nor can "api" and "cli" (the audit log's other actors).
- The audit log's CSV has one row per line: at, actor, action, client_id, detail. It never holds
  a client's words (the store never writes any there).
"""
from __future__ import annotations

import csv
from typing import Iterator, TextIO

from bot.export import _csv_cell
from bot.store import AuditEntryView, StaffError, StaffView, Store, normal_username
from bot.vocabulary import AUDIT_LOG_EXPORT, AUDIT_STAFF_CREATE, AUDIT_STAFF_DEACTIVATE, AUDIT_STAFF_PASSWORD
from bot.web.auth import hash_password

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
AUDIT_COLUMNS = ("at", "actor", "action", "client_id", "detail")
_EXPORT_PAGE = 1000


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"a password is at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise StaffError(f"a password is at most {MAX_PASSWORD} characters")


def add_staff(
    store: Store, actor: str, username: str, display_name: str, role: str, password: str, bootstrap_user: str = ""
) -> StaffView:
    """A new account (StaffError says what is wrong with the fields), audited as `actor`'s doing."""
    name = normal_username(username)
    if bootstrap_user and name == bootstrap_user.strip().lower():
        raise StaffError(f"{name!r} is the account set in the environment (RAPPORT_REVIEW_USER)")
    check_password(password)
    staff = store.create_staff(name, display_name, role, hash_password(password))
    store.audit(actor, AUDIT_STAFF_CREATE, detail=f"{staff.username} ({staff.role})")
    return staff


def set_password(store: Store, actor: str, username: str, password: str) -> StaffView:
    """A new password: every session of that account ends."""
    check_password(password)
    staff = store.set_staff_password(username, hash_password(password))
    store.audit(actor, AUDIT_STAFF_PASSWORD, detail=staff.username)
    return staff


def deactivate(store: Store, actor: str, username: str) -> StaffView:
    """The account can no longer log in, and its sessions end."""
    staff = store.deactivate_staff(username)
    store.audit(actor, AUDIT_STAFF_DEACTIVATE, detail=staff.username)
    return staff


def audit_lines(store: Store, client_id: str | None = None, actor: str | None = None) -> Iterator[AuditEntryView]:
    """Every audit line (or those of one client, or one actor), newest first, a page at a time."""
    before: int | None = None
    while True:
        page = store.audit_entries(client_id=client_id, actor=actor, before_id=before, limit=_EXPORT_PAGE)
        yield from page
        if len(page) < _EXPORT_PAGE:
            return
        before = page[-1].id


def export_audit(store: Store, actor: str, out: TextIO, client_id: str | None = None, by: str | None = None) -> int:
    """Write the audit log (or its lines for one client, or by one actor) as CSV; the export is
    itself audited, as `actor`'s. Returns how many lines were written."""
    filters = ", ".join(f"{k}={v}" for k, v in (("client", client_id), ("actor", by)) if v)
    store.audit(actor, AUDIT_LOG_EXPORT, detail=filters[:256] or None)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    count = 0
    for entry in audit_lines(store, client_id, by):
        writer.writerow([_csv_cell(v) for v in (entry.at.isoformat(), entry.actor, entry.action, entry.client_id or "", entry.detail or "")])
        count += 1
    return count
