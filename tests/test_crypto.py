"""Encryption at rest of client free text."""
from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from bot.crypto import DecryptionError, TextCipher, generate_key


def test_round_trip_and_token_hides_the_text() -> None:
    cipher = TextCipher([generate_key()])
    words = "I don't feel heard 😔\x00 <b>really</b>"
    token = cipher.encrypt(words)
    assert isinstance(token, str) and token.isascii()
    assert "heard" not in token and "heard" not in base64.urlsafe_b64decode(token).decode("latin-1")
    assert cipher.decrypt(token) == words
    assert cipher.encrypt(words) != token  # fresh IV every time


def test_long_and_empty_text() -> None:
    cipher = TextCipher([generate_key()])
    for words in ("", "x" * 100_000, "\ud800 lone surrogate"):
        assert cipher.decrypt(cipher.encrypt(words)) == words


def test_new_text_uses_the_newest_key() -> None:
    new, old = generate_key(), generate_key()
    token = TextCipher([new, old]).encrypt("hello")
    assert Fernet(new.encode()).decrypt(token.encode()) == b"hello"
    with pytest.raises(DecryptionError):
        TextCipher([old]).decrypt(token)


def test_rotation() -> None:
    old, new = generate_key(), generate_key()
    token = TextCipher([old]).encrypt("kept words")
    both = TextCipher([new, old])
    assert both.decrypt(token) == "kept words"  # readable before rotating
    rotated = both.rotate(token)
    assert rotated != token
    assert TextCipher([new]).decrypt(rotated) == "kept words"
    with pytest.raises(DecryptionError):
        TextCipher([old]).decrypt(rotated)


@pytest.mark.parametrize("token", ["", "garbage", "gAAAAA" + "A" * 80, "ü"])
def test_bad_tokens_raise_decryption_error(token: str) -> None:
    cipher = TextCipher([generate_key()])
    with pytest.raises(DecryptionError):
        cipher.decrypt(token)
    with pytest.raises(DecryptionError):
        cipher.rotate(token)


def test_decryption_error_is_a_value_error() -> None:
    assert issubclass(DecryptionError, ValueError)


@pytest.mark.parametrize("keys", [[], [""], ["  "]])
def test_no_key_is_refused(keys: list[str]) -> None:
    with pytest.raises(ValueError, match="at least one"):
        TextCipher(keys)


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as info:
        TextCipher([generate_key(), "not-a-real-key-SENSITIVE"])
    assert "#2" in str(info.value) and "SENSITIVE" not in str(info.value)


def test_a_single_string_is_not_mistaken_for_a_key_list() -> None:
    with pytest.raises(TypeError):
        TextCipher(generate_key())  # type: ignore[arg-type]


def test_generated_keys_are_distinct_valid_fernet_keys() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32
    Fernet(first.encode())


def test_encrypt_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        TextCipher([generate_key()]).encrypt(b"bytes")  # type: ignore[arg-type]
