"""What every action needs: settings, the store, and who the client is."""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Callable, TypeVar

from rasa_sdk import Tracker

from bot.config import Settings, load_settings
from bot.identity import client_id, is_pseudonym
from bot.outbox import AlertOutbox, OutboxSettings, send_unqueued
from bot.store import Store
from bot.vocabulary import PAUSED

logger = logging.getLogger(__name__)
T = TypeVar("T")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def store() -> Store:
    """The store, migrated on first use. Raises if the database is unreachable."""
    s = Store.from_settings(settings())
    s.migrate()
    return s


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "unknown"


def client_of(tracker: Tracker) -> str:
    """Who the conversation's check-ins belong to: the enrolled client it is bound to (an
    invitation was used in it: Store.client_for_conversation, one primary-key lookup), else the
    pseudonymous client id, a keyed hash of channel + sender id.

    The channels already hand Rasa that hash as the conversation id (channels.common.
    conversation_id); a conversation opened some other way (Rasa's HTTP API) is hashed here.
    When the store cannot be reached the conversation counts as anonymous (its writes fail anyway
    and are made again in full when the check-in is submitted).
    """
    if is_pseudonym(tracker.sender_id):
        conversation = tracker.sender_id
    else:
        conversation = client_id(channel_of(tracker), tracker.sender_id, settings().id_secret)
    _, enrolled = with_store("client_for_conversation", lambda s: s.client_for_conversation(conversation))
    return enrolled or conversation


def button_level(tracker: Tracker) -> int | None:
    """The 1-5 level when the client tapped a quick-reply button, else None."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "level":
            try:
                level = int(str(entity.get("value")).strip())
            except ValueError:
                return None
            return level if 1 <= level <= 5 else None
    return None


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def with_store(what: str, fn: Callable[[Store], T]) -> tuple[bool, T | None]:
    """Run `fn(store)`; on any database failure log it (never the client's words) and go on.

    Returns (ok, result). The conversation keeps every answer in the Rasa tracker, and the
    check-in is written again in full when it is submitted, so a failed write loses nothing.
    """
    try:
        return True, fn(store())
    except Exception as exc:  # noqa: BLE001 - a store failure must not break the conversation
        logger.error("store call %s failed: %s", what, type(exc).__name__)
        return False, None


@lru_cache(maxsize=1)
def outbox() -> AlertOutbox:
    """The practice's alerts, on the store's database (bot/outbox.py). Raises like `store()`."""
    return AlertOutbox(store().engine, OutboxSettings.from_env(settings().extra))


def alert_practice(tracker: Tracker, kind: str, checkin_id: int | None = None) -> None:
    """Queues a minimal alert (no words) for the practice's webhook, if one is configured.

    The alert is a row of the outbox, sent by the delivery worker: it never blocks or breaks the
    conversation, and survives a restart of the action server."""
    record_and_alert(tracker, kind, checkin_id, record=False)


def record_and_alert(tracker: Tracker, kind: str, checkin_id: int | None = None, *, record: bool = True) -> None:
    """Records the event `kind` (when `record`) and queues the practice's alert in the same
    transaction. Whatever fails, the rest is still done: an event that could not be written with
    its alert is written alone, an alert that could not be queued is sent once at once
    (bot.outbox.send_unqueued: not retried, but not lost to a database outage)."""
    client = client_of(tracker)
    webhook = settings().alert_webhook
    if checkin_id is None:
        checkin_id = tracker.get_slot("checkin_id")
    queued = False
    if record:
        then = (lambda session: outbox().adder(client, kind, checkin_id)(session)) if webhook else None
        queued, _ = with_store("record_event", lambda s: s.record_event(client, kind, checkin_id, then=then))
        if not queued:
            with_store("record_event", lambda s: s.record_event(client, kind, checkin_id))
        queued = queued and bool(webhook)
    if not webhook:
        return
    if not queued:
        queued, _ = with_store("queue_alert", lambda _: outbox().add(client, kind, checkin_id))
    if queued:
        outbox().start()  # already running in the action server; tests run actions in-process
        outbox().wake()
    else:
        send_unqueued(OutboxSettings.from_env(settings().extra), client, kind, checkin_id)


def own_checkin(tracker: Tracker) -> int | None:
    """The check-in id in the conversation's slot, unless the store says it is another client's.

    When the store cannot be reached the id is kept: the write fails anyway and is made again in
    full when the check-in is submitted."""
    slot = tracker.get_slot("checkin_id")
    try:
        checkin_id = int(slot) if slot is not None else None
    except (TypeError, ValueError):
        checkin_id = None
    if checkin_id is None:
        return None
    reached, owned = with_store("owns", lambda s: s.owns(client_of(tracker), checkin_id))
    if reached and not owned:
        logger.warning("the conversation's check-in slot names a check-in of another client; not writing to it")
        return None
    return checkin_id


def pause_checkin(tracker: Tracker) -> None:
    """Marks this conversation's check-in, if any, as paused in the store."""
    checkin_id = own_checkin(tracker)
    if checkin_id is not None:
        with_store("set_status", lambda s: s.set_status(checkin_id, PAUSED))


def _deliver_alerts_in_the_action_server() -> None:
    """Starts the alert outbox's delivery worker when the action server starts (rasa_sdk creates
    its Sanic app, "rasa_sdk", before it imports this package), so alerts left pending by a
    previous run are sent even before anyone talks to the bot. Elsewhere (tests running actions
    in-process) the worker starts with the first alert."""
    from sanic import Sanic
    from sanic.exceptions import SanicException

    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:
        return

    async def start(_app: object, _loop: object) -> None:
        if settings().alert_webhook:
            try:
                outbox().start()
            except Exception as exc:  # noqa: BLE001 - the first alert tries again
                logger.error("alert outbox: the delivery worker could not start: %s", type(exc).__name__)

    async def stop(_app: object, _loop: object) -> None:
        if settings().alert_webhook and outbox.cache_info().currsize:
            outbox().stop()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


_deliver_alerts_in_the_action_server()
