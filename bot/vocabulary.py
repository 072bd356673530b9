"""Names that more than one layer uses, each written once: check-in statuses, event kinds, and the
slot a Rasa plug-in reads besides the actions. (The five dimensions, their names and the 1-5
levels are in `bot.dimensions`; the crisis layer's risk levels in `bot.safety`.)
"""
from __future__ import annotations

from typing import Final, Mapping

# A check-in's status (the store's `checkin.status`).
IN_PROGRESS: Final = "in_progress"
COMPLETED: Final = "completed"
PAUSED: Final = "paused"
ABANDONED: Final = "abandoned"
STATUSES: Final[tuple[str, ...]] = (IN_PROGRESS, COMPLETED, PAUSED, ABANDONED)
OPEN_STATUSES: Final[tuple[str, ...]] = (IN_PROGRESS, PAUSED)

# What the store records as an event (the store's `event.kind`; never any words), and how the
# review page names it.
CRISIS: Final = "crisis"
CRISIS_UNCLEAR: Final = "crisis_unclear"
CRISIS_KINDS: Final[tuple[str, ...]] = (CRISIS, CRISIS_UNCLEAR)
EVENT_NAMES: Final[Mapping[str, str]] = {CRISIS: "Crisis language", CRISIS_UNCLEAR: "Possible crisis language"}

# The slot "delete my data" sets (actions/data_rights.py) and the tracker store reads
# (components/tracker_store.py) to erase the stored conversation.
ERASE_SLOT: Final = "erase_conversation"
