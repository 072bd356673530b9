"""Enrolled clients, invitations and bindings (bot/store/enrolment.py) on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from bot.crypto import TextCipher
from bot.store import NotFoundError, Store

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)  # the clocked fixture's CLOCK_START (conftest.py)
CONVERSATION = "c" * 64
OTHER_CONVERSATION = "d" * 64




def test_an_enrolled_client_keeps_name_and_external_id_encrypted(clocked, store_url: str) -> None:
    store, _ = clocked
    client_id = store.enrol_client(name="  Jo   K. ", clinician_id=None, external_id="MRN-77", preferred_channel="sms", timezone="Europe/London")
    client = store.client(client_id)
    assert client is not None and client.enrolled and client.label == "Jo K." and client.external_id == "MRN-77"
    assert (client.preferred_channel, client.timezone, client.enrolled_at) == ("sms", "Europe/London", NOW)
    engine = create_engine(store_url, future=True)
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT label, external_id FROM client")).one()
    engine.dispose()
    assert "Jo K." not in raw[0] and "MRN-77" not in raw[1]  # Fernet tokens are base64url: no space, dot or hyphen run like these


@pytest.mark.parametrize("kwargs", [
    {"name": ""}, {"name": "x" * 121}, {"name": "Jo", "preferred_channel": "pigeon"},
    {"name": "Jo", "timezone": "Mars/Olympus"}, {"name": "Jo", "external_id": "9" * 65},
])
def test_bad_enrolments_are_refused(clocked, kwargs: dict) -> None:
    store, _ = clocked
    with pytest.raises(ValueError):
        store.enrol_client(clinician_id=None, **kwargs)
    assert store.clients() == []


def test_an_invitation_binds_one_conversation_once(clocked) -> None:
    store, clock = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.create_invitation(client_id, "telegram", "h" * 64, NOW + timedelta(days=7), None)
    assert store.client_for_conversation(CONVERSATION) is None
    assert store.redeem_invitation("h" * 64, CONVERSATION, "telegram", "424242") == client_id
    assert store.client_for_conversation(CONVERSATION) == client_id
    # the same conversation again (a retried message): still that client; another: refused
    assert store.redeem_invitation("h" * 64, CONVERSATION, "telegram", "424242") == client_id
    assert store.redeem_invitation("h" * 64, OTHER_CONVERSATION, "telegram", "555") is None
    assert store.client_for_conversation(OTHER_CONVERSATION) is None
    [binding] = store.bindings(client_id)
    assert (binding.address, binding.channel, binding.bound_at) == ("424242", "telegram", NOW)
    assert store.invitations(client_id)[0].used


def test_expired_unknown_and_left_invitations_bind_nothing(clocked) -> None:
    store, clock = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.create_invitation(client_id, "web", "e" * 64, NOW + timedelta(hours=1), None)
    store.create_invitation(client_id, "web", "f" * 64, NOW + timedelta(days=1), None)
    clock["now"] = NOW + timedelta(hours=2)
    assert store.redeem_invitation("e" * 64, CONVERSATION, "socketio", None) is None
    assert store.redeem_invitation("0" * 64, CONVERSATION, "socketio", None) is None
    store.set_client_stopped(client_id, True)
    assert store.redeem_invitation("f" * 64, CONVERSATION, "socketio", None) is None
    assert store.bindings(client_id) == []
    with pytest.raises(NotFoundError):
        store.create_invitation("nobody", "web", "g" * 64, NOW, None)


def test_two_conversations_racing_for_one_code_bind_one(clocked, store_url: str, cipher: TextCipher) -> None:
    store, _ = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.create_invitation(client_id, "sms", "r" * 64, NOW + timedelta(days=1), None)
    stores = [Store(store_url, cipher, clock=lambda: NOW) for _ in range(6)]
    results: list[str | None] = []
    barrier = threading.Barrier(len(stores))

    def redeem(i: int) -> None:
        barrier.wait()
        try:
            results.append(stores[i].redeem_invitation("r" * 64, f"{i:064d}", "twilio", f"+1555000{i}"))
        except Exception as exc:  # a lost race may surface as a database error; never two winners
            results.append(f"error {type(exc).__name__}")

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert results.count(client_id) == 1
    assert len(store.bindings(client_id)) == 1


def test_reachable_bindings_leave_out_stopped_addresses_and_clients_who_left(clocked) -> None:
    store, _ = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.bind_conversation(CONVERSATION, client_id, "twilio", "+15550001")
    store.bind_conversation(OTHER_CONVERSATION, client_id, "socketio", None)  # no address: not reachable
    assert [b.conversation_id for b in store.reachable_bindings(client_id)] == [CONVERSATION]
    assert store.set_conversation_stopped(CONVERSATION, True)
    assert store.reachable_bindings(client_id) == []
    store.set_conversation_stopped(CONVERSATION, False)
    store.set_client_stopped(client_id, True)
    assert store.reachable_bindings(client_id) == []
    store.set_client_stopped(client_id, False)
    assert len(store.reachable_bindings(client_id)) == 1
    assert store.unbind_conversation(CONVERSATION) and store.client_for_conversation(CONVERSATION) is None
    assert not store.set_conversation_stopped("z" * 64, True)


def test_erasing_an_enrolled_client_removes_bindings_and_invitations(clocked) -> None:
    store, _ = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.create_invitation(client_id, "web", "k" * 64, NOW + timedelta(days=1), None)
    store.bind_conversation(CONVERSATION, client_id, "twilio", "+15550001")
    store.delete_client(client_id)
    assert store.client_for_conversation(CONVERSATION) is None and store.invitations(client_id) == []


def test_a_client_who_leaves_is_unbound_everywhere_and_reached_nowhere(clocked) -> None:
    store, clock = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.bind_conversation(CONVERSATION, client_id, "telegram", "4242")
    store.bind_conversation(OTHER_CONVERSATION, client_id, "twilio", "+15550001111")
    other = store.enrol_client(name="Sam", clinician_id=None)
    store.bind_conversation("e" * 64, other, "telegram", "77")
    clock["now"] = NOW + timedelta(hours=1)
    assert store.client_left(client_id) == 2
    assert store.bindings(client_id) == [] and store.reachable_bindings(client_id) == []
    assert store.client_for_conversation(CONVERSATION) is None
    assert store.client(client_id).stopped_at == NOW + timedelta(hours=1)
    assert [b.address for b in store.reachable_bindings(other)] == ["77"]  # nobody else is touched
    with pytest.raises(NotFoundError):
        store.client_left("f" * 20)


def test_a_new_invitation_revokes_the_open_ones_and_lets_a_client_who_left_come_back(clocked) -> None:
    store, clock = clocked
    client_id = store.enrol_client(name="Jo", clinician_id=None)
    store.create_invitation(client_id, "sms", "a" * 64, NOW + timedelta(days=7), None)
    store.create_invitation(client_id, "web", "b" * 64, NOW + timedelta(days=7), None)
    assert store.redeem_invitation("b" * 64, CONVERSATION, "socketio", None) == client_id  # used: stays used
    store.client_left(client_id)
    clock["now"] = NOW + timedelta(days=1)
    store.reinvite(client_id, "telegram", "c" * 64, NOW + timedelta(days=8), None)
    by_hash = {i.channel: i for i in store.invitations(client_id)}
    assert by_hash["sms"].expires_at == NOW + timedelta(days=1)  # revoked: expired now
    assert by_hash["web"].used_at == NOW and by_hash["web"].expires_at == NOW + timedelta(days=7)
    assert store.redeem_invitation("a" * 64, OTHER_CONVERSATION, "twilio", "+1555") is None
    assert store.client(client_id).stopped_at is None  # may come back ...
    assert store.reachable_bindings(client_id) == []  # ... but nothing is sent until they use it
    assert store.redeem_invitation("c" * 64, OTHER_CONVERSATION, "telegram", "99") == client_id
    with pytest.raises(NotFoundError):
        store.reinvite("f" * 20, "web", "d" * 64, NOW + timedelta(days=7), None)
    assert len(store.invitations(client_id)) == 3  # the failed one left nothing behind
    assert store.now() == NOW + timedelta(days=1)
