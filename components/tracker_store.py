"""Rasa's SQL tracker store, made fit for health data: encrypted, erasable, and time-limited.

- Encrypted at rest: each event's JSON (which holds the client's messages and the answer slots)
  is stored as a Fernet token with the same keys as the check-in store (components/encryption.py).
  Rows written before this, as plain JSON, stay readable. Of the columns Rasa keeps beside it,
  only the pseudonymous conversation id, the event type and the time are filled (no intent or
  action names: "crisis" in clear beside a time would say too much).
- Erasable: when the `erase_conversation` slot is set (only by `action_delete_data`, after the
  client confirmed and their check-ins were deleted), every stored event of that sender is
  deleted instead of saving, so the next message starts a conversation with no history.
  Rasa's HTTP API has no way to delete a conversation.
- Time-limited: events older than RAPPORT_RETENTION_DAYS are deleted (checked at most hourly,
  on save), as `python -m bot.review purge` does for check-ins.

Key rotation re-encrypts the stored events with the newest key (plain rows get encrypted too):

    python -m components.tracker_store rotate-keys [--endpoints endpoints.yml]
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import load_settings
from bot.vocabulary import ERASE_SLOT
from components.encryption import encrypt_event, read_event, settings_cipher

logger = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600
ROTATE_BATCH = 500


class ErasableSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = load_settings()
        self.cipher = settings_cipher(settings)
        self.retention_seconds = settings.retention_days * 86400
        self._next_purge = 0.0
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ writing

    async def save(self, tracker: DialogueStateTracker) -> None:
        if tracker.get_slot(ERASE_SLOT):
            self._erase(tracker.sender_id)
            return
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        # Left empty: with the time, an intent ("crisis") or action name in clear
                        # would say what a pseudonymous conversation was about. Rasa reads only
                        # sender_id, type_name and timestamp back; the event itself is encrypted.
                        intent_name=None,
                        action_name=None,
                        data=encrypt_event(data, self.cipher),
                    )
                )
            session.commit()
        self.purge_expired()

    def _erase(self, sender_id: Text) -> None:
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        logger.info("erased a conversation at the client's request (%d events)", deleted)

    def purge_expired(self, now: Optional[float] = None, force: bool = False) -> int:
        """Deletes events older than the retention period; returns how many."""
        now = time.time() if now is None else now
        if not force and now < self._next_purge:
            return 0
        self._next_purge = now + PURGE_EVERY_SECONDS
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.timestamp < now - self.retention_seconds)
                .delete(synchronize_session=False)
            )
            session.commit()
        if deleted:
            logger.info("deleted %d conversation events past the retention period", deleted)
        return deleted

    def rotate_keys(self) -> int:
        """Re-encrypts every stored event with the newest key, in batches; returns how many.

        Each batch is its own transaction: if it stops halfway, every event is still readable
        with the configured keys, and it can simply be run again.
        """
        rotated, last = 0, 0
        while True:
            with self.session_scope() as session:
                rows = (
                    session.query(self.SQLEvent)
                    .filter(self.SQLEvent.id > last)
                    .order_by(self.SQLEvent.id)
                    .limit(ROTATE_BATCH)
                    .all()
                )
                if not rows:
                    return rotated
                for row in rows:
                    row.data = encrypt_event(read_event(row.data, self.cipher), self.cipher)
                session.commit()
                rotated += len(rows)
                last = rows[-1].id

    # ------------------------------------------------------------------ reading

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [read_event(row.data, self.cipher) for row in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.tracker_store")
    parser.add_argument("command", choices=["rotate-keys"])
    parser.add_argument("--endpoints", default="endpoints.yml", help="where the tracker store is configured")
    args = parser.parse_args(argv)

    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import read_endpoint_config

    # The class as Rasa imports it (under `python -m` this module is also `__main__`).
    from components.tracker_store import ErasableSQLTrackerStore as Configured

    config = read_endpoint_config(args.endpoints, "tracker_store")
    store = create_tracker_store(config)
    if not isinstance(store, Configured):
        print(f"{args.endpoints} does not configure components.tracker_store.ErasableSQLTrackerStore",
              file=sys.stderr)
        return 1
    print(f"Re-encrypted {store.rotate_keys()} conversation events with the newest key.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
