"""bot/web/auth.py: password hashes and the login limiter."""
from __future__ import annotations

import base64
import hashlib

import pytest

from bot.web import auth


def test_password_hashes_verify_and_reject():
    stored = auth.hash_password("s3cret pass")
    assert stored.startswith("argon2id:47104:1:1:") and "$" not in stored
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
    # scrypt hashes made before Argon2id became the default still verify.
    digest = hashlib.scrypt(b"s3cret pass", salt=salt, n=2**15, r=8, p=1, maxmem=128 * 1024 * 1024, dklen=32)
    scrypt = f"scrypt:32768:8:1:{b64(salt)}:{b64(digest)}"
    assert auth.verify_password("s3cret pass", scrypt) and not auth.verify_password("s3cret", scrypt)
    assert auth.hash_password("x", scheme="scrypt").startswith("scrypt:")
    # Out-of-range Argon2id parameters (a hash that would take all memory) are refused, not run.
    assert not auth.verify_password("s3cret pass", f"argon2id:99999999:1:1:{b64(salt)}:{b64(digest)}")
    with pytest.raises(auth.ConfigError):
        auth.check_hash_format("md5:abc")


def test_login_limiter_window():
    now = [0.0]
    limiter = auth.LoginLimiter(auth.LoginLimits(per_address=2, window=60), clock=lambda: now[0])
    assert limiter.begin("ip", "practice")[0] is not None
    assert limiter.begin("ip", "practice")[0] is not None
    assert limiter.begin("ip", "practice") == (None, 61)
    now[0] = 60.0
    assert limiter.begin("ip", "practice")[0] is not None


def test_login_limiter_counts_per_user_name_and_overall_and_forgives_a_success():
    now = [0.0]
    limits = auth.LoginLimits(per_address=3, per_user=4, overall=6, window=60)
    limiter = auth.LoginLimiter(limits, clock=lambda: now[0])
    for address in ("a", "b", "c", "d"):  # one guess each from four addresses at one user name
        assert limiter.begin(address, "Practice")[0] is not None
    assert limiter.begin("e", "practice ")[0] is None  # the same name, however written
    assert limiter.begin("e", "someone")[0] is not None
    assert limiter.begin("f", "another")[0] is not None
    assert limiter.begin("g", "third")[0] is None  # six in the window from everyone
    now[0] = 61.0
    attempt, _ = limiter.begin("a", "practice")
    assert attempt is not None
    limiter.succeeded(attempt)  # a success does not count, and its address starts afresh
    for _ in range(3):
        assert limiter.begin("a", "x")[0] is not None


def test_a_session_is_bound_to_its_users_current_password_hash():
    signer = auth.Signer("s" * 40, "env-hash")
    hashes = {"ana": "hash-1", "ben": "hash-2"}
    _, cookie = signer.new_session("ana", 30, credential="hash-1")
    assert signer.read_session(cookie, credential_of=hashes.get).user == "ana"
    assert signer.read_session(cookie) is None  # not the environment account's hash
    hashes["ana"] = "hash-3"  # a new password
    assert signer.read_session(cookie, credential_of=hashes.get) is None
    del hashes["ana"]  # deactivated: no credential
    assert signer.read_session(cookie, credential_of=hashes.get) is None
    looked_up: list[str] = []
    _, old = signer.new_session("ben", 1, now=0, credential="hash-2")
    assert signer.read_session(old, credential_of=lambda u: looked_up.append(u) or "hash-2") is None
    assert looked_up == []  # an expired cookie costs no account lookup
    _, env = signer.new_session("practice", 30)
    assert signer.read_session(env).user == "practice"
