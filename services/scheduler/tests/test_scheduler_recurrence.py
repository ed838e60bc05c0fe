"""Recurring and evergreen posts: rule validation, next occurrences, and firing (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from siar_scheduler.domain import Post, PostStatus, Target, TargetStatus
from siar_scheduler.firing import event_id_for, events_for, fired
from siar_scheduler.recurrence import (
    MAX_OCCURRENCES,
    InvalidRecurrence,
    check_evergreen,
    next_evergreen,
    next_recurrence,
    parse_recurrence,
)

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 23, 9, 0, tzinfo=BERLIN)  # a Monday, before the DST change


def wall(year: int, month: int, day: int) -> datetime:
    """09:00 on a day in Berlin, without its offset (what a person reads on a clock)."""
    return datetime(year, month, day, 9, 0, tzinfo=BERLIN).replace(tzinfo=None)


def test_weekly_rule_keeps_wall_clock_time_across_dst() -> None:
    rec = parse_recurrence("FREQ=WEEKLY;BYDAY=MO;COUNT=3", "Europe/Berlin", START)
    assert rec.dtstart == START.astimezone(UTC)
    second, skipped = next_recurrence(rec, rec.dtstart, now=START)
    assert second is not None
    assert skipped == 0
    assert second.astimezone(BERLIN).replace(tzinfo=None) == wall(2026, 3, 30)
    assert second - rec.dtstart == timedelta(days=7) - timedelta(hours=1)  # clocks went forward
    third, _ = next_recurrence(rec, second, now=START)
    assert third is not None
    assert next_recurrence(rec, third, now=START) == (None, 0)


def test_first_occurrence_is_the_first_that_matches_the_rule() -> None:
    rec = parse_recurrence("RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=2", "Europe/Berlin", START)
    assert rec.dtstart.astimezone(BERLIN).replace(tzinfo=None) == wall(2026, 3, 25)
    assert rec.rrule == "FREQ=WEEKLY;BYDAY=WE;COUNT=2"


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=DAILY", "never ends"),
        ("FREQ=DAILY;INTERVAL=2", "COUNT"),
        ("FREQ=FORTNIGHTLY;COUNT=2", "invalid RRULE"),
        ("not a rule", "invalid RRULE"),
        ("", "one RRULE line"),
        ("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY;COUNT=2", "one RRULE line"),
        ("FREQ=MINUTELY;COUNT=5", "more often than hourly"),
        (f"FREQ=DAILY;COUNT={MAX_OCCURRENCES + 1}", f"more than {MAX_OCCURRENCES}"),
        ("FREQ=HOURLY;UNTIL=20300101T000000Z", f"more than {MAX_OCCURRENCES}"),
        ("FREQ=DAILY;UNTIL=20200101T000000Z", "no occurrence"),
    ],
)
def test_bad_rules_are_refused_naming_the_problem(rule: str, says: str) -> None:
    with pytest.raises(InvalidRecurrence, match=says):
        parse_recurrence(rule, "Europe/Berlin", START)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidRecurrence, match="unknown time zone"):
        parse_recurrence("FREQ=DAILY;COUNT=2", "Mars/Olympus", START)


def test_occurrences_missed_during_downtime_are_skipped_and_counted() -> None:
    rec = parse_recurrence("FREQ=HOURLY;COUNT=48", "UTC", datetime(2026, 1, 1, tzinfo=UTC))
    now = rec.dtstart + timedelta(hours=5, minutes=5)
    nxt, skipped = next_recurrence(rec, rec.dtstart, now=now)
    # 01:00..04:00 are more than the grace old; 05:00 is recent enough to still go (late).
    assert (nxt, skipped) == (rec.dtstart + timedelta(hours=5), 4)


@pytest.mark.parametrize(("every", "times"), [(0, 3), (3, 0), (-1, 1)])
def test_evergreen_needs_positive_settings(every: int, times: int) -> None:
    with pytest.raises(InvalidRecurrence, match="at least 1"):
        check_evergreen(every, times, "UTC")


def test_evergreen_stops_after_max_times_and_keeps_local_time() -> None:
    ever = check_evergreen(7, 1, "Europe/Berlin")
    due = START.astimezone(UTC)
    nxt = next_evergreen(ever, due)
    assert nxt is not None
    assert nxt.astimezone(BERLIN).replace(tzinfo=None) == wall(2026, 3, 30)
    assert next_evergreen(ever.model_copy(update={"recycled": 1}), nxt) is None


def _post(**extra: object) -> Post:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Post.model_validate(
        {
            "id": "pst_1",
            "workspace_id": "ws_1",
            "text": "hello",
            "scheduled_at": now,
            "status": PostStatus.SCHEDULED,
            "targets": [
                Target(account_id="acc_a", network="sandbox"),
                Target(account_id="acc_b", network="sandbox"),
            ],
            "created_by": "usr_1",
            "created_at": now,
            "updated_at": now,
            **extra,
        }
    )


def test_one_off_post_fires_once_and_records_lateness() -> None:
    post = _post()
    assert post.scheduled_at is not None
    after = fired(post, now=post.scheduled_at + timedelta(milliseconds=250), token="t")
    assert after.status is PostStatus.DISPATCHED
    assert after.version == post.version + 1
    assert after.emit_pending
    assert after.dispatch_token == "t"
    assert {t.status for t in after.targets} == {TargetStatus.DISPATCHED}
    assert [t.lateness_ms for t in after.targets] == [250.0, 250.0]
    [record] = after.dispatches
    assert record.occurrence == post.scheduled_at.isoformat()
    assert record.lateness_ms == 250.0
    events = events_for(post, record)
    assert [e.account_id for e in events] == ["acc_a", "acc_b"]
    assert events[0].event_id == event_id_for("pst_1", "acc_a", record.occurrence)
    assert events_for(post, record)[0].event_id == events[0].event_id  # same key, same id


def test_recurring_post_moves_to_its_next_occurrence() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rec = parse_recurrence("FREQ=DAILY;COUNT=2", "UTC", start)
    post = _post(recurrence=rec)
    first = fired(post, now=start, token="a")
    assert first.status is PostStatus.SCHEDULED
    assert first.scheduled_at == start + timedelta(days=1)
    assert first.recurrence is not None
    assert first.recurrence.fired == 1
    second = fired(first, now=start + timedelta(days=1), token="b")
    assert second.status is PostStatus.DISPATCHED
    assert [d.occurrence for d in second.dispatches] == [
        start.isoformat(),
        (start + timedelta(days=1)).isoformat(),
    ]
