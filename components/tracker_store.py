"""A SQL tracker store that can erase a conversation, for "delete my data".

Rasa's HTTP API has no way to delete a conversation, and replacing its events does not remove
the stored rows. When the `erase_conversation` slot is set (only by `action_delete_data`, after
the client confirmed and their check-ins were deleted), this store deletes every stored event of
that sender instead of saving, so the next message starts a new conversation with no history.
"""
from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from actions.data_rights import ERASE_SLOT

logger = logging.getLogger(__name__)


class ErasableSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        if not tracker.get_slot(ERASE_SLOT):
            await super().save(tracker)
            return
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == tracker.sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        logger.info("erased a conversation at the client's request (%d events)", deleted)
