"""Pseudonymous client ids."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.identity import client_id


def test_id_is_hmac_sha256_hex_of_channel_and_sender() -> None:
    value = client_id("telegram", "+15551234567", "s3cret")
    expected = hmac.new(b"s3cret", b"telegram\x1f+15551234567", hashlib.sha256).hexdigest()
    assert value == expected
    assert len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def test_id_is_stable_and_does_not_contain_the_sender() -> None:
    assert client_id("rest", "alice@example.org", "k") == client_id("rest", "alice@example.org", "k")
    assert "alice" not in client_id("rest", "alice@example.org", "k")


def test_id_depends_on_channel_sender_and_secret() -> None:
    base = client_id("rest", "42", "k1")
    assert client_id("socketio", "42", "k1") != base
    assert client_id("rest", "43", "k1") != base
    assert client_id("rest", "42", "k2") != base


def test_channel_and_sender_cannot_be_shifted_into_each_other() -> None:
    assert client_id("ab", "c", "k") != client_id("a", "bc", "k")


def test_unicode_ids_work() -> None:
    assert client_id("rest", "José 🙂", "clé") != client_id("rest", "Jose 🙂", "clé")


@pytest.mark.parametrize("secret", ["", None])
def test_empty_secret_is_refused(secret: str | None) -> None:
    with pytest.raises(ValueError, match="RAPPORT_ID_SECRET"):
        client_id("rest", "42", secret)  # type: ignore[arg-type]


@pytest.mark.parametrize("channel,sender", [("", "42"), ("rest", "")])
def test_empty_channel_or_sender_is_refused(channel: str, sender: str) -> None:
    with pytest.raises(ValueError):
        client_id(channel, sender, "k")


# Web chat sessions ------------------------------------------------------------------------------

def test_a_session_token_names_its_session_and_verifies_only_with_the_secret() -> None:
    from bot.identity import new_session_id, session_of, session_token

    session = new_session_id()
    token = session_token(session, "k1")
    assert session_of(token, "k1") == session
    assert session_of(token, "k2") is None  # another deployment's secret
    assert new_session_id() != session and len(session) == 32


@pytest.mark.parametrize("shown", [
    None, 42, {"token": "x"}, "", "v1", "v1..", "v2.{s}.{mac}", "v1.{s}", "v1.{s}.{zero}", "v1.{S}.{mac}",
    "v1.{s}.{mac}x", " v1.{s}.{mac}", "x" * 10_000,
])
def test_a_session_token_that_is_not_ours_gives_no_session(shown: object) -> None:
    from bot.identity import session_of, session_token

    session = "0123456789abcdef" * 2
    mac = session_token(session, "k").rsplit(".", 1)[1]
    if isinstance(shown, str):
        shown = shown.format(s=session, S=session.upper(), mac=mac, zero="0" * 64)
    assert session_of(shown, "k") is None


def test_a_session_token_needs_a_random_looking_session_and_a_secret() -> None:
    from bot.identity import session_token

    with pytest.raises(ValueError):
        session_token("guessable", "k")
    with pytest.raises(ValueError):
        session_token("0" * 32, "")


def test_the_routing_key_is_stable_and_reveals_nothing_of_the_session() -> None:
    from bot.identity import session_route

    session = "0123456789abcdef" * 2
    assert session_route(session) == session_route(session)
    assert session_route(session) != session_route("f" * 32)
    assert session not in session_route(session) and session[:8] not in session_route(session)
