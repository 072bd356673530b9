"""Rasa's Redis lock store, without the wait that never ends after a replica dies.

Rasa serialises each conversation with a queue of tickets in Redis; a ticket expires
TICKET_LOCK_LIFETIME seconds after it was *issued*, waiting time included. When a replica dies
holding a conversation, the next request for it waits behind the dead ticket. If its own ticket
expires in the same polling interval as the dead one (they are issued moments apart with the same
lifetime, so this is likely), the queue is left empty and Rasa 3.6 keeps waiting for a ticket that
no longer exists: the request hangs until some later message for that conversation deletes the lock.
`bench/load.py` and tests/e2e/test_cluster.py hit exactly that when they kill a replica.

This subclass queues again when its ticket has disappeared while waiting, and polls every quarter
second. Used by endpoints.production.yml (`type: components.lock_store.RequeueingRedisLockStore`).
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncGenerator, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25


class RequeueingRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or ticket not in (t.number for t in lock.tickets):
                    logger.info("A conversation's lock ticket expired while waiting; queueing again.")
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)
                    continue
                if not lock.is_locked(ticket):
                    break
                await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
                self.update_lock(conversation_id)
            yield lock
        finally:
            self.cleanup(conversation_id, ticket)
