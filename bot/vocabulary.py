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

# Practice accounts (the store's `staff.role`): an admin sees every client and manages accounts; a
# clinician sees only the clients enrolled with them.
ADMIN: Final = "admin"
CLINICIAN: Final = "clinician"
ROLES: Final[tuple[str, ...]] = (ADMIN, CLINICIAN)

# Where a client is reached and invited (the store's `client.preferred_channel`, `invitation.channel`).
WEB: Final = "web"
TELEGRAM: Final = "telegram"
SLACK: Final = "slack"
SMS: Final = "sms"
WHATSAPP: Final = "whatsapp"
CLIENT_CHANNELS: Final[tuple[str, ...]] = (WEB, TELEGRAM, SLACK, SMS, WHATSAPP)

# A client's schedule (the store's `schedule.kind`).
AFTER_SESSION: Final = "after_session"
WEEKLY: Final = "weekly"
SCHEDULE_KINDS: Final[tuple[str, ...]] = (AFTER_SESSION, WEEKLY)

# A scheduled check-in (the store's `scheduled_checkin.status`): waiting to be sent, sent (with
# reminders), done by the client, its window closed without it, or called off (the client left or
# the schedule changed).
DUE_PENDING: Final = "pending"
DUE_SENT: Final = "sent"
DUE_COMPLETED: Final = "completed"
DUE_EXPIRED: Final = "expired"
DUE_CANCELLED: Final = "cancelled"
DUE_STATUSES: Final[tuple[str, ...]] = (DUE_PENDING, DUE_SENT, DUE_COMPLETED, DUE_EXPIRED, DUE_CANCELLED)

# A crisis event's triage status (derived: `event.acknowledged_at` set or not).
TRIAGE_NEW: Final = "new"
TRIAGE_ACKNOWLEDGED: Final = "acknowledged"

# What the audit log records (the store's `audit_log.action`): who viewed or exported which client,
# and every change to the practice's accounts.
AUDIT_VIEW_CLIENT: Final = "view_client"
AUDIT_VIEW_REPORT: Final = "view_report"
AUDIT_EXPORT_CLIENT: Final = "export_client"
AUDIT_EXPORT_ALL: Final = "export_all"  # one line per client in a whole export
AUDIT_API_CLIENT: Final = "api_client"
AUDIT_FHIR: Final = "fhir_export"  # one line per client in the bundle
AUDIT_ASSIGN: Final = "assign_clinician"
AUDIT_STAFF_CREATE: Final = "staff_create"
AUDIT_STAFF_PASSWORD: Final = "staff_password"
AUDIT_STAFF_DEACTIVATE: Final = "staff_deactivate"
AUDIT_LOG_EXPORT: Final = "audit_export"
AUDIT_ACTIONS: Final[tuple[str, ...]] = (
    AUDIT_VIEW_CLIENT, AUDIT_VIEW_REPORT, AUDIT_EXPORT_CLIENT, AUDIT_EXPORT_ALL, AUDIT_API_CLIENT, AUDIT_FHIR,
    AUDIT_ASSIGN, AUDIT_STAFF_CREATE, AUDIT_STAFF_PASSWORD, AUDIT_STAFF_DEACTIVATE, AUDIT_LOG_EXPORT,
)
# Audit actors that are not staff accounts: the API bearer token and the command line.
API_ACTOR: Final = "api"
CLI_ACTOR: Final = "cli"
ACTOR_NAMES_RESERVED: Final[tuple[str, ...]] = (API_ACTOR, CLI_ACTOR)
