"""bot.insights: each alert rule at its edge, private and unfinished check-ins, trends, talking
points (and their copy: no blame, no diagnosis)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot import insights
from bot.dimensions import DIMENSIONS
from bot.insights import (
    ITEM_LOW,
    LOW_ITEM,
    LOW_TOTAL,
    TOTAL_DROP_RULE,
    ITEM_DROP_RULE,
    alerts_by_checkin,
    checkin_alerts,
    current_alerts,
    load_talking_points,
    talking_points,
    total,
    trend,
)
from bot.store import AnswerView, CheckinView

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
_ids = iter(range(1, 10_000))


def make(
    scores: dict[str, int | None] | list[int | None],
    *,
    day: int = 0,
    shared: bool = True,
    status: str = "completed",
    client: str = "c" * 64,
) -> CheckinView:
    """A CheckinView with these scores (list: in DIMENSIONS order; None = skipped)."""
    if isinstance(scores, list):
        scores = dict(zip(DIMENSIONS, scores))
    when = T0 + timedelta(days=day)
    answers = {
        d: AnswerView(d, s, "" if s is None else f"words {s}", None, s is None, when, when)
        for d, s in scores.items()
    }
    return CheckinView(
        id=next(_ids),
        client_id=client,
        channel="test",
        status=status,
        shared=shared,
        started_at=when,
        updated_at=when,
        completed_at=when if status == "completed" else None,
        answers=answers,
        summary="summary",
        events=(),
    )


def rules(alerts: list[insights.Alert]) -> list[tuple[str, str | None]]:
    return [(a.rule, a.dimension) for a in alerts]


# --------------------------------------------------------------------------- low item


def test_item_at_two_fires_at_three_does_not():
    assert rules(checkin_alerts(make([5, 2, 5, 5, 5]))) == [(LOW_ITEM, "heard")]
    assert checkin_alerts(make([5, 3, 5, 5, 5])) == []


def test_every_low_item_is_its_own_alert_and_names_the_rule():
    alerts = checkin_alerts(make([1, 5, 2, 5, 5]))
    assert rules(alerts) == [(LOW_ITEM, "team"), (LOW_ITEM, "warmth")]
    assert alerts[0].score == 1
    assert alerts[0].message == "Therapist on their team scored 1 of 5 (at or below 2)."
    assert ITEM_LOW == 2


def test_skipped_item_is_not_a_low_item():
    assert checkin_alerts(make([None, 5, 5, 5, 5])) == []


# --------------------------------------------------------------------------- low total


def test_total_of_fourteen_fires_fifteen_does_not():
    low = checkin_alerts(make([3, 3, 3, 3, 2]))  # 14, and one low item
    assert (LOW_TOTAL, None) in rules(low)
    assert next(a for a in low if a.rule == LOW_TOTAL).score == 14
    assert checkin_alerts(make([3, 3, 3, 3, 3])) == []  # 15: not below


def test_total_cut_off_is_configurable():
    assert rules(checkin_alerts(make([4, 4, 4, 4, 4]), total_below=21)) == [(LOW_TOTAL, None)]
    assert checkin_alerts(make([4, 4, 4, 4, 4]), total_below=20) == []


def test_skipped_items_scale_the_total_to_25():
    # 4 answered, sum 11 → 13.75 of 25 → below 15
    alerts = checkin_alerts(make([3, 3, 3, None, 2]))
    low_total = [a for a in alerts if a.rule == LOW_TOTAL]
    assert len(low_total) == 1
    assert low_total[0].score == pytest.approx(13.8)
    assert "4 of 5 answered" in low_total[0].message
    # 4 answered, sum 12 → exactly 15.0 → not below
    assert checkin_alerts(make([3, 3, 3, None, 3])) == []
    assert total(make([3, 3, 3, None, 3])) == (15.0, 4)


def test_fewer_than_three_answers_run_no_total_rule():
    assert total(make([3, 3, None, None, None])) is None
    assert checkin_alerts(make([3, 3, None, None, None])) == []
    assert total(make([3, 3, 3, None, None])) == (15.0, 3)


# --------------------------------------------------------------------------- drops


def test_item_drop_of_two_fires_one_does_not():
    before = make([5, 5, 5, 5, 5], day=0)
    assert rules(checkin_alerts(make([5, 5, 3, 5, 5], day=7), before)) == [(ITEM_DROP_RULE, "warmth")]
    assert checkin_alerts(make([5, 5, 4, 5, 5], day=7), before) == []


def test_item_drop_says_from_and_to():
    before = make([4, 4, 4, 4, 4], day=0)
    (drop,) = [a for a in checkin_alerts(make([4, 4, 4, 4, 2], day=7), before) if a.rule == ITEM_DROP_RULE]
    assert (drop.dimension, drop.previous, drop.score) == ("understood", 4, 2)
    assert "from 4 to 2" in drop.message and "2025-03-01" in drop.message


def test_total_drop_of_three_fires_two_does_not():
    before = make([5, 5, 5, 5, 5], day=0)
    fired = checkin_alerts(make([4, 4, 4, 5, 5], day=7), before)  # 25 → 22
    assert rules(fired) == [(TOTAL_DROP_RULE, None)]
    assert (fired[0].previous, fired[0].score) == (25, 22)
    assert checkin_alerts(make([4, 4, 5, 5, 5], day=7), before) == []  # 25 → 23


def test_total_drop_counts_only_items_answered_both_times():
    before = make([5, 5, 5, 5, 1], day=0)
    # understood skipped now: 20 → 17 over the other four items
    fired = checkin_alerts(make([4, 4, 4, 5, None], day=7), before)
    assert rules(fired) == [(TOTAL_DROP_RULE, None)]
    assert "4 items answered both times" in fired[0].message


def test_no_drop_without_a_previous_checkin():
    assert checkin_alerts(make([3, 3, 3, 3, 3])) == []


# --------------------------------------------------------------------------- which check-ins count


def test_private_checkin_raises_nothing():
    assert checkin_alerts(make([1, 1, 1, 1, 1], shared=False)) == []


def test_unfinished_checkin_raises_nothing():
    for status in ("in_progress", "paused", "abandoned"):
        assert checkin_alerts(make([1, 1, 1, 1, 1], status=status)) == []


def test_drop_compares_with_previous_shared_completed_checkin_skipping_private_ones():
    history = [
        make([5, 5, 5, 5, 5], day=0),
        make([1, 1, 1, 1, 1], day=5, shared=False),  # private: never a baseline
        make([1, 1, 1, 1, 1], day=6, status="abandoned"),
        make([5, 3, 5, 5, 5], day=10),
    ]
    latest = current_alerts(history)
    assert rules(latest) == [(ITEM_DROP_RULE, "heard")]
    assert latest[0].checkin_id == history[3].id
    by_checkin = alerts_by_checkin(history)
    assert set(by_checkin) == {history[0].id, history[3].id}  # private/unfinished: not listed


def test_current_alerts_come_from_the_latest_completed_checkin_whatever_the_list_order():
    old_low = make([1, 5, 5, 5, 5], day=0)
    new_fine = make([5, 5, 5, 5, 5], day=9)
    assert current_alerts([new_fine, old_low]) == []
    assert rules(current_alerts([new_fine])) == []
    assert rules(current_alerts([old_low])) == [(LOW_ITEM, "team")]


def test_alerts_carry_client_checkin_and_date():
    checkin = make([2, 5, 5, 5, 5], day=3, client="abc123")
    (alert,) = checkin_alerts(checkin)
    assert alert.as_dict() == {
        "client_id": "abc123",
        "checkin_id": checkin.id,
        "date": "2025-03-04",
        "rule": LOW_ITEM,
        "message": alert.message,
        "dimension": "team",
        "score": 2,
        "previous": None,
    }


# --------------------------------------------------------------------------- trend


def test_trend_has_shared_completed_checkins_oldest_first():
    history = [
        make([4, 4, 4, 4, None], day=7),
        make([1, 1, 1, 1, 1], day=3, shared=False),
        make([3, 3, 3, 3, 3], day=1),
    ]
    points = trend(history)
    assert [p.date for p in points] == ["2025-03-02", "2025-03-08"]
    assert points[1].scores == {"team": 4, "heard": 4, "warmth": 4, "worth": 4, "understood": None}
    data = insights.chart_data(points)
    assert data["labels"] == ["2025-03-02", "2025-03-08"]
    assert [s["dimension"] for s in data["series"]] == list(DIMENSIONS)
    assert data["series"][4]["scores"] == [3, None]
    assert 1 not in sum((s["scores"] for s in data["series"]), [])  # the private check-in is absent


# --------------------------------------------------------------------------- talking points


def test_talking_points_for_low_then_dropped_items_one_per_item():
    copy = load_talking_points()
    history = [make([5, 5, 5, 5, 5], day=0), make([2, 1, 3, 5, 5], day=7)]
    points = talking_points(history)
    assert [(p.dimension, p.reason) for p in points] == [
        ("heard", "low"),  # lowest first
        ("team", "low"),  # also dropped, but one point per item
        ("warmth", "dropped"),
    ]
    assert points[0].text == copy["heard"]["low"]


def test_no_talking_points_when_all_is_well_or_only_private():
    assert talking_points([make([4, 4, 4, 4, 4])]) == []
    assert talking_points([make([1, 1, 1, 1, 1], shared=False)]) == []


def test_talking_point_copy_covers_every_dimension_and_reason():
    copy = load_talking_points()
    assert set(copy) == set(DIMENSIONS)
    for dimension in DIMENSIONS:
        assert set(copy[dimension]) == {"low", "dropped"}


_BLAMING_OR_DIAGNOSING = re.compile(
    r"\b("
    r"fault|blame\w*|fail\w*|wrong|mistake\w*|should|must|need to|bad|poor\w*|"
    r"resist\w*|non-?complian\w*|unmotivated|lazy|manipulat\w*|attention[- ]seeking|"
    r"defensive\w*|denial|difficult|problem\w*|"
    r"diagnos\w*|disorder\w*|symptom\w*|patholog\w*|depress\w*|anxi\w*|borderline|"
    r"narcissis\w*|paranoi\w*|trauma\w*|attachment|avoidant|bpd|ptsd|adhd|"
    r"always feels? that way|you didn't|you don't"
    r")\b",
    re.IGNORECASE,
)


def test_no_talking_point_blames_or_diagnoses():
    copy = load_talking_points()
    for dimension, entries in copy.items():
        for reason, text in entries.items():
            found = _BLAMING_OR_DIAGNOSING.findall(text)
            assert not found, f"{dimension}/{reason} uses {found}: {text!r}"


def test_every_talking_point_describes_then_offers_an_open_question():
    for dimension, entries in load_talking_points().items():
        for reason, text in entries.items():
            assert text.startswith(("They said", "Feeling", "The warmth")), text
            assert "You could" in text, f"{dimension}/{reason} offers no question: {text!r}"
            assert len(text) <= 200, f"{dimension}/{reason} is too long for the page"


def test_the_blame_check_catches_blaming_copy(tmp_path: Path):
    # The word list must actually bite: a blaming line is caught.
    assert _BLAMING_OR_DIAGNOSING.search("They are resistant; you failed to notice their anxiety.")
    bad = {d: {"low": "x", "dropped": "y"} for d in DIMENSIONS}
    bad["heard"]["low"] = "They say it's your fault they don't feel heard."
    path = tmp_path / "points.yml"
    path.write_text(yaml.safe_dump({"talking_points": bad}), encoding="utf-8")
    assert _BLAMING_OR_DIAGNOSING.search(load_talking_points(path)["heard"]["low"])


def test_talking_point_file_must_be_complete(tmp_path: Path):
    path = tmp_path / "points.yml"
    path.write_text(yaml.safe_dump({"talking_points": {"team": {"low": "x"}}}), encoding="utf-8")
    with pytest.raises(ValueError):
        load_talking_points(path)
