"""bot/web/auth.py: password hashes and the login limiter."""
from __future__ import annotations

import base64
import hashlib

import pytest

from bot.web import auth


def test_password_hashes_verify_and_reject():
    stored = auth.hash_password("s3cret pass")
    assert stored.startswith("scrypt:") and "$" not in stored
    assert auth.verify_password("s3cret pass", stored)
    assert not auth.verify_password("s3cret pasS", stored)
    assert auth.hash_password("same") != auth.hash_password("same")  # salted
    # PBKDF2-SHA256 hashes (as made by `hash-password --scheme pbkdf2_sha256`) verify too.
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"s3cret pass", salt, 100_000, dklen=32)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    pbkdf2 = f"pbkdf2_sha256:100000:{b64(salt)}:{b64(digest)}"
    assert auth.verify_password("s3cret pass", pbkdf2)
    assert not auth.verify_password("s3cret pas", pbkdf2)
    assert not auth.verify_password("x", "plain-text-password")
    with pytest.raises(auth.ConfigError):
        auth.check_hash_format("md5:abc")


def test_login_limiter_window():
    now = [0.0]
    limiter = auth.LoginLimiter(max_failures=2, window=60, clock=lambda: now[0])
    limiter.failed("ip")
    assert limiter.retry_after("ip") == 0
    limiter.failed("ip")
    assert limiter.retry_after("ip") == 61
    now[0] = 60.0
    assert limiter.retry_after("ip") == 0
