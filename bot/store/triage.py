"""Crisis triage: acknowledging crisis events and escalating those left unacknowledged (event's triage columns).

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

from bot.store.base import StoreBase


class TriageStore(StoreBase):
    """Crisis triage: acknowledging crisis events and escalating those left unacknowledged."""
