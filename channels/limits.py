"""Flood limits inside each Rasa server: messages per sender, messages and new conversations per
client address.

A loop of random senders (the flood of issue 9) is stopped by the per-address limits; one sender
typing a script is stopped by the per-sender limit; other senders are not held up by either.
Settings (.env.example), each 0 to turn that limit off:

    RAPPORT_RATE_PER_SENDER [30]                 messages a minute from one sender on one channel
    RAPPORT_RATE_PER_ADDRESS [120]               messages a minute from one client address
    RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS [30]   senders not seen in the last hour, per address an hour
    RAPPORT_TRUSTED_PROXIES [127.0.0.1,::1]      whose X-Real-IP header names the client's address
    RAPPORT_RATE_STORAGE [memory://]             where the counts live (the `limits` library's URIs)

The per-address limits apply where the client itself calls (the REST channel, the web chat); the
provider channels (Telegram, Slack, Twilio) and the app channel are called by one server on behalf
of many clients, so only the per-sender limit applies there (and each is authenticated: flooding
them takes the provider's or the practice's secret).

Counting is the `limits` library's fixed window (`FixedWindowRateLimiter`: a counter per key
that starts with the key's first message and expires a minute, or an hour, later): a maintained
implementation with expiry handled, and the same code counts in Redis when RAPPORT_RATE_STORAGE
names one (`redis://host:6379/2`), which makes the limits shared by every replica. Its moving
window was the first choice, but in this version (2.4.0) its in-memory store never forgets a key
whose hits have all expired: a flood of random senders would grow it without end. A fixed window
lets at most twice the limit through across the end of one window and the start of the next. With the default
`memory://` each replica counts on its own: N replicas let N times the limit through, and nginx's
per-address limits (deploy/nginx.py) are the shared ones. Keys are keyed hashes (the conversation
id; the address hashed the same way), never a phone number or an address in the clear.
"""
from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from rasa.core.channels.channel import OutputChannel
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import load_settings
from channels.common import conversation_id

logger = logging.getLogger(__name__)

TOO_FAST = ("You are sending messages faster than I can read them. Please wait a minute, "
            "then send your message again.")
SEEN_SECONDS = 3600  # a sender unseen this long starts a "new" conversation again

DEFAULTS = {
    "RAPPORT_RATE_PER_SENDER": 30,
    "RAPPORT_RATE_PER_ADDRESS": 120,
    "RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS": 30,
}


@dataclass(frozen=True)
class Refusal:
    """Why a message was not taken, and when to try again (seconds)."""

    reason: str  # "sender", "address" or "new_conversations": logged, never the key itself
    retry_after: int


class FloodGuard:
    def __init__(self, per_sender: int, per_address: int, new_per_address: int,
                 trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1"), storage: str = "memory://") -> None:
        self.storage = storage_from_string(storage)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.per_sender = RateLimitItemPerMinute(per_sender) if per_sender > 0 else None
        self.per_address = RateLimitItemPerMinute(per_address) if per_address > 0 else None
        self.new_per_address = RateLimitItemPerHour(new_per_address) if new_per_address > 0 else None
        self.trusted = tuple(ipaddress.ip_network(proxy.strip(), strict=False)
                             for proxy in trusted_proxies if proxy.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "FloodGuard":
        def number(name: str) -> int:
            raw = (env.get(name) or "").strip()
            if not raw:
                return DEFAULTS[name]
            if not raw.isdigit():
                raise ValueError(f"{name} must be a whole number (0 turns the limit off), got {raw!r}")
            return int(raw)

        proxies = (env.get("RAPPORT_TRUSTED_PROXIES") or "127.0.0.1,::1").split(",")
        return cls(number("RAPPORT_RATE_PER_SENDER"), number("RAPPORT_RATE_PER_ADDRESS"),
                   number("RAPPORT_NEW_CONVERSATIONS_PER_ADDRESS"), tuple(proxies),
                   (env.get("RAPPORT_RATE_STORAGE") or "memory://").strip())

    def address_of(self, request: Request) -> str:
        """The client's address: the peer's, or X-Real-IP when the peer is a trusted proxy."""
        return self.client_address(request.ip or "", request.headers.get("X-Real-IP") or "")

    def client_address(self, peer: str, real_ip: str) -> str:
        """The same from the connection's address and its X-Real-IP header (a socket.io connection
        has them in its WSGI-style environ: REMOTE_ADDR, HTTP_X_REAL_IP)."""
        forwarded = real_ip.strip()
        if forwarded and self._trusted(peer):
            try:
                return str(ipaddress.ip_address(forwarded))
            except ValueError:
                pass
        return peer

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def admit(self, channel: str, sender: str, address: str | None = None) -> Refusal | None:
        """None when the message may be handled (and counted), else why not. `address` only for
        channels where the client calls itself."""
        sender_key = conversation_id(channel, sender)
        # The address first: a flood of random senders refused there leaves no key per sender.
        if address is not None:
            address_key = conversation_id("address", address)
            if self.new_per_address:
                seen_key = f"rapport/seen/{sender_key}"
                if not self.storage.get(seen_key):
                    if not self.limiter.hit(self.new_per_address, "new", address_key):
                        return self._refusal("new_conversations", self.new_per_address, "new", address_key)
                    self.storage.incr(seen_key, SEEN_SECONDS)
            if self.per_address and not self.limiter.hit(self.per_address, "address", address_key):
                return self._refusal("address", self.per_address, "address", address_key)
        if self.per_sender and not self.limiter.hit(self.per_sender, "sender", sender_key):
            return self._refusal("sender", self.per_sender, "sender", sender_key)
        return None

    def _refusal(self, reason: str, item: object, *keys: str) -> Refusal:
        reset, _ = self.limiter.get_window_stats(item, *keys)  # type: ignore[arg-type]
        return Refusal(reason, max(1, int(reset - time.time()) + 1))


@lru_cache(maxsize=1)
def guard() -> FloodGuard:
    """The process's guard, from the settings (read once)."""
    return FloodGuard.from_env(load_settings().extra)


def too_many_requests(refusal: Refusal, channel: str) -> HTTPResponse:
    """The HTTP channels' answer to a refused message: 429 with a kind message and Retry-After."""
    logger.warning("A %s message was refused: over the %s limit.", channel, refusal.reason)
    return response.json({"error": TOO_FAST}, status=429, headers={"Retry-After": str(refusal.retry_after)})


def limited(request: Request, channel: str, sender: str, per_address: bool) -> HTTPResponse | None:
    """A 429 answer when this message is over a limit, else None (and the message is counted)."""
    limits = guard()
    refusal = limits.admit(channel, sender, limits.address_of(request) if per_address else None)
    return too_many_requests(refusal, channel) if refusal else None


async def dropped_for_flooding(channel: str, sender: str, output: OutputChannel) -> bool:
    """For the provider channels, which answer the provider 2xx anyway (else it redelivers): True
    when the message is over the sender's limit and must be dropped. The client is told to slow
    down, once a minute at most."""
    refusal = guard().admit(channel, sender)
    if refusal is None:
        return False
    logger.warning("A %s message was dropped: over the %s limit.", channel, refusal.reason)
    if notice_due(channel, sender):
        try:
            await output.send_text_message(sender, TOO_FAST)
        except Exception as error:  # noqa: BLE001 - the provider may be down; the drop stands
            logger.warning("Could not tell a %s client to slow down: %s", channel, type(error).__name__)
    return True


def notice_due(channel: str, sender: str) -> bool:
    """Whether a refused client should be told to slow down now (once a minute at most)."""
    return guard().limiter.hit(RateLimitItemPerMinute(1), "notice", conversation_id(channel, sender))
