"""Enrolled clients, invitations and the conversations bound to them (client's enrolment columns, invitation, binding).

Part of the `Store` API (`bot/store/api.py` combines the parts); nothing outside `bot/store/`
touches these tables.
"""
from __future__ import annotations

from bot.store.base import StoreBase


class EnrolmentStore(StoreBase):
    """Enrolled clients, invitations and the conversations bound to them."""
