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
