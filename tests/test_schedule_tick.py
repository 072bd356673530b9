"""bot/schedule_tick.py: one scheduler round, with the time moved by an injected clock and the
messages recorded by a sender double (the real sending through Rasa is tested in
tests/e2e/test_scheduler.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import metrics
from bot.crypto import TextCipher
from bot.schedule_tick import REMINDER_INTENT, SCHEDULED_INTENT, SendFailed, tick
from bot.store import Store
from bot.vocabulary import AFTER_SESSION, DUE_COMPLETED, DUE_EXPIRED, WEEKLY

# Monday 30 November 2026, 09:00 UTC (= London time in winter)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
CONVERSATION = "a" * 64


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail = False

    def open(self, conversation_id: str, output_channel: str, intent: str) -> None:
        if self.fail:
            raise SendFailed("down")
        self.sent.append((conversation_id, output_channel, intent))


class World:
    def __init__(self, store: Store, clock: dict) -> None:
        self.store, self.clock, self.sender = store, clock, Recorder()

    def at(self, moment: datetime, worker: str = "w1"):
        self.clock["now"] = moment
        return tick(self.store, self.sender, worker, moment)

    def client(self, channel: str = "telegram", address: str = "4242", conversation: str = CONVERSATION, **schedule) -> str:
        client = self.store.enrol_client(name="Jo", clinician_id=None, timezone="Europe/London")
        self.store.bind_conversation(conversation, client, channel, address)
        values = {"kind": AFTER_SESSION, "send_time": "10:00", "remind_after_hours": 24, "max_reminders": 2, "window_days": 3}
        values.update(schedule)
        self.store.set_schedule(client, **values)
        return client


@pytest.fixture
def world(store_url: str, cipher: TextCipher):
    clock = {"now": MONDAY - timedelta(days=7)}  # schedules are set a week before
    store = Store(store_url, cipher, clock=lambda: clock["now"])
    yield World(store, clock)
    store.dispose()


def test_the_day_after_a_session_it_opens_the_conversation_then_reminds_up_to_the_limit_then_closes(world) -> None:
    client = world.client()
    world.store.add_session(client, MONDAY + timedelta(hours=5))  # Monday 14:00
    assert world.at(MONDAY + timedelta(hours=1)).sent == 0  # Monday 10:00: not yet
    tuesday_ten = MONDAY + timedelta(days=1, hours=1)
    assert world.at(tuesday_ten - timedelta(minutes=1)).sent == 0
    before = metrics.SCHEDULED_SENDS.labels(outcome="sent")._value.get()
    assert world.at(tuesday_ten).sent == 1
    assert world.sender.sent == [(CONVERSATION, "telegram", SCHEDULED_INTENT)]
    assert metrics.SCHEDULED_SENDS.labels(outcome="sent")._value.get() == before + 1
    assert world.at(tuesday_ten + timedelta(minutes=1), "w2").sent == 0  # sent once, whoever ticks
    assert world.at(tuesday_ten + timedelta(hours=24)).reminded == 1
    assert world.at(tuesday_ten + timedelta(hours=48)).reminded == 1
    assert world.at(tuesday_ten + timedelta(hours=71)).reminded == 0  # two reminders at most
    assert [intent for _, _, intent in world.sender.sent] == [SCHEDULED_INTENT, REMINDER_INTENT, REMINDER_INTENT]
    assert world.at(tuesday_ten + timedelta(hours=72)).closed == 1
    [row] = world.store.scheduled_checkins(client)
    assert (row.status, row.reminders_sent) == (DUE_EXPIRED, 2)
    summary = world.store.schedule_summaries([client])[client]
    assert (summary.sent, summary.completed, summary.response_rate) == (1, 0, 0.0)


def test_a_time_in_quiet_hours_moves_to_their_end(world) -> None:
    world.client(kind=WEEKLY, weekday=0, send_time="07:00", quiet_start="21:30", quiet_end="08:15", remind_after_hours=13)
    world.at(MONDAY - timedelta(days=7))  # planned from a week before
    assert world.at(MONDAY - timedelta(hours=2)).sent == 0  # Monday 07:00 London: quiet
    assert world.at(MONDAY - timedelta(minutes=46)).sent == 0  # 08:14
    assert world.at(MONDAY - timedelta(minutes=45)).sent == 1  # 08:15
    # the first reminder 13 hours later, at 21:15; the second would be 10:15 on Tuesday
    assert world.at(MONDAY + timedelta(hours=12, minutes=15)).reminded == 1
    assert world.at(MONDAY + timedelta(days=1, hours=1, minutes=14)).reminded == 0
    assert world.at(MONDAY + timedelta(days=1, hours=1, minutes=15)).reminded == 1


def test_a_scheduler_that_wakes_in_quiet_hours_waits_for_their_end(world) -> None:
    world.client(kind=WEEKLY, weekday=0, send_time="20:00", quiet_start="21:00", quiet_end="08:00")
    world.at(MONDAY - timedelta(days=1))
    # the scheduler was down at 20:00 and comes back at 22:00: quiet, so it waits
    result = world.at(MONDAY + timedelta(hours=13))
    assert (result.sent, result.postponed) == (0, 1)
    assert world.at(MONDAY + timedelta(hours=22, minutes=59)).sent == 0  # Tuesday 07:59
    assert world.at(MONDAY + timedelta(hours=23)).sent == 1  # Tuesday 08:00
    assert len(world.sender.sent) == 1


def test_a_stopped_address_or_a_client_who_left_gets_nothing(world) -> None:
    client = world.client(kind=WEEKLY, weekday=0, send_time="09:00")
    world.store.set_conversation_stopped(CONVERSATION, True)  # SMS STOP, say
    world.at(MONDAY - timedelta(days=1))
    assert world.at(MONDAY).sent == 0 and world.at(MONDAY + timedelta(hours=1)).sent == 0
    assert world.sender.sent == []
    world.store.set_conversation_stopped(CONVERSATION, False)  # START
    world.store.set_client_stopped(client, True)  # ... but the client left
    assert world.at(MONDAY + timedelta(hours=2)).sent == 0
    assert world.sender.sent == []
    assert world.store.schedule_summaries([client])[client].sent == 0


def test_a_completed_check_in_stops_the_reminders_and_counts_as_a_response(world) -> None:
    client = world.client(kind=WEEKLY, weekday=0, send_time="09:00")
    world.at(MONDAY - timedelta(days=1))
    assert world.at(MONDAY).sent == 1
    checkin = world.store.start_checkin(CONVERSATION, "telegram", True)
    world.clock["now"] = MONDAY + timedelta(hours=2)
    world.store.complete_checkin(checkin, "thank you")
    assert world.at(MONDAY + timedelta(hours=3)).completed == 1
    assert world.at(MONDAY + timedelta(hours=30)).reminded == 0
    assert [intent for _, _, intent in world.sender.sent] == [SCHEDULED_INTENT]
    statuses = [r.status for r in world.store.scheduled_checkins(client)]
    assert statuses[0] == DUE_COMPLETED
    summary = world.store.schedule_summaries([client])[client]
    assert (summary.sent, summary.completed, summary.response_rate) == (1, 1, 1.0)
    assert summary.next_due_at == MONDAY + timedelta(days=7)


def test_a_failed_send_is_tried_again_later_and_twilio_bindings_go_through_twilio(world) -> None:
    world.client(channel="sms", address="+447700900123", kind=WEEKLY, weekday=0, send_time="09:00")
    world.at(MONDAY - timedelta(days=1))
    world.sender.fail = True
    assert world.at(MONDAY).failed == 1
    world.sender.fail = False
    assert world.at(MONDAY + timedelta(minutes=5)).sent == 0  # waits RETRY
    assert world.at(MONDAY + timedelta(minutes=15)).sent == 1
    assert world.sender.sent == [(CONVERSATION, "twilio", SCHEDULED_INTENT)]


def test_only_the_web_chat_bound_waits_for_a_channel_rapport_can_write_to(world) -> None:
    world.client(channel="web", address="session-1", kind=WEEKLY, weekday=0, send_time="09:00")
    world.at(MONDAY - timedelta(days=1))
    assert world.at(MONDAY).postponed == 1 and world.sender.sent == []


def test_a_schedule_set_after_its_time_sends_nothing_for_the_past(world) -> None:
    world.clock["now"] = MONDAY + timedelta(hours=1)
    world.client(kind=WEEKLY, weekday=0, send_time="09:00")
    assert world.at(MONDAY + timedelta(hours=1)).sent == 0
    assert world.at(MONDAY + timedelta(days=7)).sent == 1
