"""bot/store/practice.py on SQLite and PostgreSQL: staff accounts, caseloads and the audit log."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bot.store import NotFoundError, StaffError, Store
from bot.vocabulary import ADMIN, CLINICIAN

HASH = "argon2id:47104:1:1:c2FsdHNhbHRzYWx0c2FsdA:ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0ZGlnZXN0MTI"


def test_accounts_are_made_listed_and_found_by_user_name_in_any_case(store: Store) -> None:
    ana = store.create_staff("  Ana ", "Ana  Ruiz", CLINICIAN, HASH)
    assert (ana.username, ana.display_name, ana.role, ana.active) == ("ana", "Ana Ruiz", CLINICIAN, True)
    store.create_staff("boss", "The Boss", ADMIN, HASH)
    assert store.staff_member("ANA") == ana
    staff, password_hash = store.staff_credentials("ana")
    assert staff.id == ana.id and password_hash == HASH
    assert "argon2id" not in repr(staff)  # the view never carries the hash
    assert [s.username for s in store.staff()] == ["ana", "boss"]
    assert [s.username for s in store.staff(role=CLINICIAN)] == ["ana"]
    assert store.staff_member("nobody") is None and store.staff_member("not a name!") is None


@pytest.mark.parametrize("username", ["", "a b", "-ana", "x" * 65, "ana/..", "api", "CLI"])
def test_malformed_or_reserved_user_names_are_refused(store: Store, username: str) -> None:
    with pytest.raises(StaffError):
        store.create_staff(username, "Someone", CLINICIAN, HASH)
    assert store.staff() == []


def test_a_user_name_is_unique_whatever_its_case_and_bad_fields_are_refused(store: Store) -> None:
    store.create_staff("ana", "Ana Ruiz", CLINICIAN, HASH)
    with pytest.raises(StaffError, match="already"):
        store.create_staff("ANA", "Another Ana", ADMIN, HASH)
    for name, role, password_hash in (("", CLINICIAN, HASH), ("Bo", "owner", HASH), ("Bo", ADMIN, "")):
        with pytest.raises(StaffError):
            store.create_staff("bo", name, role, password_hash)
    assert [s.username for s in store.staff()] == ["ana"]


def test_password_changes_and_deactivation(store: Store) -> None:
    store.create_staff("ana", "Ana Ruiz", CLINICIAN, HASH)
    store.set_staff_password("Ana", "argon2id:new")
    assert store.staff_credentials("ana")[1] == "argon2id:new"
    gone = store.deactivate_staff("ana")
    assert gone.active is False
    assert store.staff(active_only=True) == [] and store.staff_member("ana").active is False
    with pytest.raises(NotFoundError):
        store.set_staff_password("nobody", HASH)
    with pytest.raises(NotFoundError):
        store.deactivate_staff("nobody")


def test_a_client_is_assigned_only_to_an_active_clinician(store: Store) -> None:
    store.start_checkin("c1", "test", True)
    ana = store.create_staff("ana", "Ana Ruiz", CLINICIAN, HASH)
    boss = store.create_staff("boss", "The Boss", ADMIN, HASH)
    store.assign_clinician("c1", ana.id)
    assert store.client("c1").clinician_id == ana.id
    assert store.client_ids_of(ana.id) == {"c1"} and store.client_ids_of(None) == set()
    with pytest.raises(StaffError):
        store.assign_clinician("c1", boss.id)  # an admin has no caseload
    with pytest.raises(NotFoundError):
        store.assign_clinician("nobody", ana.id)
    store.assign_clinician("c1", None)
    assert store.client("c1").clinician_id is None
    store.deactivate_staff("ana")
    with pytest.raises(StaffError):
        store.assign_clinician("c1", ana.id)


def test_unacknowledged_crisis_events_are_counted_per_clinician(store: Store, store_url: str) -> None:
    ana = store.create_staff("ana", "Ana Ruiz", CLINICIAN, HASH)
    for client in ("c1", "c2", "anon"):
        checkin = store.start_checkin(client, "test", True)
        store.record_event(client, "crisis", checkin)
        store.record_event(client, "crisis_unclear", checkin)
        store.record_event(client, "something_else", checkin)
    store.assign_clinician("c1", ana.id)
    store.assign_clinician("c2", ana.id)
    assert store.unacknowledged_crisis_counts() == {ana.id: 4}
    with store.engine.begin() as connection:  # one acknowledged (bot/store/triage.py does this)
        first = connection.execute(text("SELECT MIN(id) FROM event WHERE client_id = 'c1'")).scalar()
        connection.execute(
            text("UPDATE event SET acknowledged_at = :at WHERE id = :id"),
            {"at": datetime.now(timezone.utc).replace(tzinfo=None), "id": first},
        )
    assert store.unacknowledged_crisis_counts() == {ana.id: 3}


def test_the_audit_log_is_paged_newest_first_and_filtered(store_url: str, cipher) -> None:
    now = [datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)]
    store = Store(store_url, cipher, clock=lambda: now[0])
    try:
        for i in range(5):
            store.audit("ana", "view_client", f"c{i % 2}")
            now[0] += timedelta(minutes=1)
        store.audit_many("api", "export_all", ["c0", "c1"], detail="csv")
        store.audit("boss", "staff_create", detail="ana")
        entries = store.audit_entries(limit=3)
        assert [(e.actor, e.action, e.client_id, e.detail) for e in entries] == [
            ("boss", "staff_create", None, "ana"),
            ("api", "export_all", "c1", "csv"),
            ("api", "export_all", "c0", "csv"),
        ]
        assert entries[0].at == now[0]
        older = store.audit_entries(limit=3, before_id=entries[-1].id)
        assert [e.client_id for e in older] == ["c0", "c1", "c0"]  # views 4, 3 and 2
        assert len(store.audit_entries(client_id="c1")) == 3
        assert len(store.audit_entries(actor="ana")) == 5
        assert len(store.audit_entries(actor="ana", client_id="c0")) == 3
        with pytest.raises(ValueError):
            store.audit("ana", "view_client", detail="x" * 300)
        with pytest.raises(ValueError):
            store.audit("", "view_client")
    finally:
        store.dispose()
