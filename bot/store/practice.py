"""Staff accounts and the audit log (bot/store/schema.py: staff, audit_log).

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

from bot.store.base import StoreBase


class PracticeStore(StoreBase):
    """Staff accounts and the audit log."""
