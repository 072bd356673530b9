"""Login, sessions, CSRF and API tokens for the review page, on the standard library only.

- Passwords: salted Argon2id (`argon2id:m:t:p:salt:hash`, the default, from the installed
  `cryptography`); scrypt (`scrypt:N:r:p:salt:hash`) and PBKDF2-SHA256
  (`pbkdf2_sha256:iterations:salt:hash`) hashes made before still verify. base64url salt and
  hash; made by `python -m bot.web hash-password`. No `$` in the format, so `.env` files need no
  quoting.
- Sessions: a cookie holding base64url(JSON {user, sid, iat, exp, pw}) + "." + HMAC-SHA256 of it
  under a key derived from RAPPORT_REVIEW_SECRET; `pw` is a keyed fingerprint of that user's
  password hash, so every session of a user ends when their password changes. Nothing is stored server-side except
  the ids of sessions logged out before they expired.
- CSRF: each session's token is HMAC(secret, "csrf" + session id), so it needs no storage; the
  login form uses a token bound to a short-lived signed pre-login cookie in the same way.
- Login attempts: counted from the moment they start (before the slow hash), so a parallel burst
  gets no more guesses than a sequential one: per client address, per user name and overall
  (`LoginLimits`), in a sliding `FAILURE_WINDOW`; a successful login is taken back.
- API token: compared in constant time (both sides hashed first, so lengths leak nothing).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

# OWASP's Argon2id setting of 46 MiB, one pass, one lane (~0.2 s here).
ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_LANES = 47_104, 1, 1
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
PBKDF2_ITERATIONS = 600_000
_SCRYPT_MAXMEM = 128 * 1024 * 1024
_DKLEN = 32

MAX_FAILURES = 5  # per client address
MAX_FAILURES_PER_USER = 20  # per user name, from any address
MAX_FAILURES_OVERALL = 100  # from everyone: a bound on guesses from many addresses
FAILURE_WINDOW = 15 * 60.0  # seconds
LOGIN_FORM_SECONDS = 60 * 60  # how long a login form (its CSRF token) stays valid
MIN_SECRET_LENGTH = 32


class ConfigError(ValueError):
    """A review setting is missing or unusable."""


# --------------------------------------------------------------------------- passwords


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _argon2id(secret: bytes, salt: bytes, memory_kib: int, time_cost: int, lanes: int, length: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    return Argon2id(salt=salt, length=length, iterations=time_cost, lanes=lanes, memory_cost=memory_kib).derive(secret)


def hash_password(password: str, *, scheme: str = "argon2id") -> str:
    """A new salted hash of `password` ("argon2id", "scrypt" or "pbkdf2_sha256")."""
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    secret = password.encode("utf-8")
    if scheme == "argon2id":
        digest = _argon2id(secret, salt, ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_LANES, _DKLEN)
        return f"argon2id:{ARGON2_MEMORY_KIB}:{ARGON2_TIME}:{ARGON2_LANES}:{_b64(salt)}:{_b64(digest)}"
    if scheme == "scrypt":
        digest = hashlib.scrypt(
            secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=_SCRYPT_MAXMEM, dklen=_DKLEN
        )
        return f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}:{_b64(salt)}:{_b64(digest)}"
    if scheme == "pbkdf2_sha256":
        digest = hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS, dklen=_DKLEN)
        return f"pbkdf2_sha256:{PBKDF2_ITERATIONS}:{_b64(salt)}:{_b64(digest)}"
    raise ValueError(f"unknown scheme {scheme!r}: use argon2id, scrypt or pbkdf2_sha256")


def check_hash_format(stored: str) -> None:
    """Raise ConfigError unless `stored` is a hash this module can verify."""
    try:
        _parse_hash(stored)
    except (ValueError, binascii.Error) as exc:
        raise ConfigError(
            "RAPPORT_REVIEW_PASSWORD_HASH is not a valid hash; make one with: "
            f".venv/bin/python -m bot.web hash-password ({exc})"
        ) from None


def _parse_hash(stored: str) -> tuple[Callable[[bytes], bytes], bytes]:
    parts = (stored or "").strip().split(":")
    if parts[0] == "argon2id" and len(parts) == 6:
        memory_kib, time_cost, lanes = (int(x) for x in parts[1:4])
        if not 8 * lanes <= memory_kib <= 4 * 1024 * 1024 or not 1 <= time_cost <= 20 or not 1 <= lanes <= 16:
            raise ValueError("argon2id parameters out of range")
        salt, expected = _unb64(parts[4]), _unb64(parts[5])

        def derive(secret: bytes) -> bytes:
            return _argon2id(secret, salt, memory_kib, time_cost, lanes, len(expected))

        return derive, expected
    if parts[0] == "scrypt" and len(parts) == 6:
        n, r, p = (int(x) for x in parts[1:4])
        if n < 2**14 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range")
        salt, expected = _unb64(parts[4]), _unb64(parts[5])

        def derive(secret: bytes) -> bytes:
            return hashlib.scrypt(
                secret, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=len(expected)
            )

        return derive, expected
    if parts[0] == "pbkdf2_sha256" and len(parts) == 4:
        iterations = int(parts[1])
        if not 100_000 <= iterations <= 10_000_000:
            raise ValueError("PBKDF2 iterations out of range")
        salt, expected = _unb64(parts[2]), _unb64(parts[3])

        def derive(secret: bytes) -> bytes:
            return hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, dklen=len(expected))

        return derive, expected
    raise ValueError("expected argon2id:m:t:p:salt:hash, scrypt:N:r:p:salt:hash or "
                     "pbkdf2_sha256:iterations:salt:hash")


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash (constant-time comparison)."""
    try:
        derive, expected = _parse_hash(stored)
    except (ValueError, binascii.Error):
        return False
    if len(expected) < 16:
        return False
    return hmac.compare_digest(derive(password.encode("utf-8")), expected)


# --------------------------------------------------------------------------- signing


@dataclass(frozen=True)
class Session:
    user: str
    sid: str
    issued_at: float
    expires_at: float


class Signer:
    """Signs and checks the session and pre-login cookies, and derives CSRF tokens."""

    def __init__(self, secret: str, credential: str = "") -> None:
        """`credential`: the password hash; sessions signed under another one are not accepted."""
        if len(secret or "") < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"RAPPORT_REVIEW_SECRET must be at least {MIN_SECRET_LENGTH} characters; make one "
                "with: .venv/bin/python -m bot.web new-secret"
            )
        root = secret.encode("utf-8")
        self._session_key = hmac.new(root, b"rapport-review session v1", hashlib.sha256).digest()
        self._login_key = hmac.new(root, b"rapport-review login-form v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(root, b"rapport-review csrf v1", hashlib.sha256).digest()
        self._credential_tag = self.credential_tag(credential)

    def credential_tag(self, credential: str) -> str:
        """A keyed fingerprint of a password hash, carried in the session cookie."""
        return _b64(
            hmac.new(self._session_key, b"credential\x00" + credential.encode("utf-8"), hashlib.sha256).digest()[:16]
        )

    # -- generic signed values

    @staticmethod
    def _sign(key: bytes, payload: dict[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        mac = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
        return f"{body}.{mac}"

    @staticmethod
    def _unsign(key: bytes, value: str | None) -> dict[str, Any] | None:
        if not value or len(value) > 4096 or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        try:
            expected = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(expected, mac):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        return payload if isinstance(payload, dict) else None

    # -- sessions

    def new_session(
        self, user: str, minutes: float, now: float | None = None, credential: str | None = None
    ) -> tuple[Session, str]:
        """A session for `user`, bound to `credential` (their password hash; default: the one
        this Signer was made with)."""
        now = time.time() if now is None else now
        session = Session(user, secrets.token_urlsafe(18), now, now + minutes * 60)
        return session, self.sign_session(session, credential)

    def sign_session(self, session: Session, credential: str | None = None) -> str:
        tag = self._credential_tag if credential is None else self.credential_tag(credential)
        return self._sign(
            self._session_key,
            {"u": session.user, "sid": session.sid, "iat": session.issued_at, "exp": session.expires_at, "pw": tag},
        )

    def read_session(
        self,
        value: str | None,
        now: float | None = None,
        credential_of: Callable[[str], str | None] | None = None,
    ) -> Session | None:
        """The session in a cookie value, or None when unsigned, tampered or expired, or signed
        under another password hash than the user's current one. `credential_of(user)`: that
        user's password hash now, or None when they may not log in (default: this Signer's)."""
        payload = self._unsign(self._session_key, value)
        if payload is None:
            return None
        try:
            session = Session(str(payload["u"]), str(payload["sid"]), float(payload["iat"]), float(payload["exp"]))
        except (KeyError, TypeError, ValueError):
            return None
        now = time.time() if now is None else now
        if not session.issued_at - 60 <= now < session.expires_at:
            return None
        if credential_of is None:
            expected = self._credential_tag
        else:
            credential = credential_of(session.user)
            if credential is None:
                return None  # no such account any more, or deactivated
            expected = self.credential_tag(credential)
        if not hmac.compare_digest(str(payload.get("pw", "")), expected):
            return None  # signed before the password changed
        return session

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.new(self._csrf_key, b"session\x00" + session.sid.encode(), hashlib.sha256).digest())

    # -- the login form, before there is a session

    def new_login_nonce(self, now: float | None = None) -> tuple[str, str]:
        """(nonce, signed cookie value) for a login form."""
        now = time.time() if now is None else now
        nonce = secrets.token_urlsafe(18)
        return nonce, self._sign(self._login_key, {"n": nonce, "exp": now + LOGIN_FORM_SECONDS})

    def read_login_nonce(self, value: str | None, now: float | None = None) -> str | None:
        payload = self._unsign(self._login_key, value)
        if payload is None or not isinstance(payload.get("n"), str):
            return None
        now = time.time() if now is None else now
        try:
            if now >= float(payload["exp"]):
                return None
        except (KeyError, TypeError, ValueError):
            return None
        return payload["n"]

    def login_csrf_token(self, nonce: str) -> str:
        return _b64(hmac.new(self._csrf_key, b"login\x00" + nonce.encode(), hashlib.sha256).digest())


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two secrets (hashed first, so their lengths do not leak)."""
    if not given or not expected:
        return False
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, b)


# --------------------------------------------------------------------------- logins


@dataclass(frozen=True)
class LoginLimits:
    per_address: int = MAX_FAILURES
    per_user: int = MAX_FAILURES_PER_USER
    overall: int = MAX_FAILURES_OVERALL
    window: float = FAILURE_WINDOW


@dataclass(frozen=True)
class Attempt:
    """A login under way: the counters it was entered in, and when."""

    keys: tuple[str, ...]
    at: float


class LoginLimiter:
    """Failed and unfinished logins in a sliding window, per client address, per user name and
    overall. An attempt is counted when it begins, before the password hash is checked (which takes
    a fraction of a second): counted after, a parallel burst had hundreds of guesses before the
    first failure was recorded. A successful attempt is taken back, with its address's failures."""

    _MAX_KEYS = 10_000  # bound memory under a flood of addresses or user names

    def __init__(self, limits: LoginLimits = LoginLimits(), clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._entries: dict[str, deque[float]] = {}

    def _limit(self, key: str) -> int:
        kind = key.partition(":")[0]
        return {"address": self.limits.per_address, "user": self.limits.per_user}.get(kind, self.limits.overall)

    def _recent(self, key: str, now: float) -> deque[float]:
        entries = self._entries.get(key)
        if entries is None:
            return deque()
        while entries and entries[0] <= now - self.limits.window:
            entries.popleft()
        if not entries:
            del self._entries[key]
        return entries

    def begin(self, address: str, user: str) -> tuple[Attempt | None, int]:
        """(the attempt, 0) when it may go ahead, else (None, seconds until it may)."""
        now = self._clock()
        keys = (f"address:{address}", f"user:{user.strip().casefold()[:256]}", "overall")
        wait = 0
        for key in keys:
            entries = self._recent(key, now)
            if len(entries) >= self._limit(key):
                wait = max(wait, max(1, int(entries[0] + self.limits.window - now) + 1))
        if wait:
            return None, wait
        if len(self._entries) > self._MAX_KEYS:
            for stale in [key for key in list(self._entries)[: self._MAX_KEYS // 2] if key != "overall"]:
                del self._entries[stale]
        for key in keys:
            self._entries.setdefault(key, deque()).append(now)
        return Attempt(keys, now), 0

    def succeeded(self, attempt: Attempt) -> None:
        for key in attempt.keys:
            entries = self._entries.get(key)
            if entries is not None and attempt.at in entries:
                entries.remove(attempt.at)
        self._entries.pop(attempt.keys[0], None)  # the address starts afresh


class LoggedOut:
    """Session ids logged out before they expired (kept until they would have expired)."""

    def __init__(self) -> None:
        self._ids: dict[str, float] = {}

    def add(self, session: Session) -> None:
        now = time.time()
        self._ids = {sid: exp for sid, exp in self._ids.items() if exp > now}
        self._ids[session.sid] = session.expires_at

    def __contains__(self, session: Session) -> bool:
        return session.sid in self._ids


def new_secret() -> str:
    return secrets.token_urlsafe(48)
