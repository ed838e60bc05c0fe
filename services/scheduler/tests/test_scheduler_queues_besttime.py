"""Queue slots across DST, free-slot search, and the best-time scoring (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from siar_scheduler.besttime import (
    DEFAULT_HOURS,
    MIN_WEIGHT,
    Sample,
    defaults,
    engagement_rate,
    suggest,
)
from siar_scheduler.queues import InvalidQueue, Slot, free_slots, make_schedule, upcoming

BERLIN = ZoneInfo("Europe/Berlin")


def test_slots_keep_wall_clock_time_across_dst_and_skipped_hours_move_forward() -> None:
    queue = make_schedule("Europe/Berlin", [Slot(day="sun", time="02:30")])
    before = datetime(2026, 3, 22, tzinfo=UTC)
    first, second, third = list(upcoming(queue, before))[:3]
    assert first.astimezone(BERLIN).hour == 2  # 22 March: still winter time
    # 29 March 02:30 does not exist in Berlin: read with the earlier offset, as RFC 5545 does.
    assert second == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert second.astimezone(BERLIN).hour == 3
    assert (third.astimezone(BERLIN).day, third.astimezone(BERLIN).hour) == (5, 2)


def test_schedule_is_sorted_and_deduplicated() -> None:
    queue = make_schedule(
        "UTC",
        [
            Slot(day="fri", time="09:00"),
            Slot(day="mon", time="19:00"),
            Slot(day="fri", time="09:00"),
        ],
    )
    assert [(s.day, s.time) for s in queue.slots] == [("mon", "19:00"), ("fri", "09:00")]


@pytest.mark.parametrize(
    ("zone", "slots", "says"),
    [
        ("UTC", [], "at least one slot"),
        ("UTC", [Slot(day="mon", time="7pm")], "HH:MM"),
        ("Nowhere/City", [Slot(day="mon", time="09:00")], "unknown time zone"),
    ],
)
def test_bad_schedules_are_refused(zone: str, slots: list[Slot], says: str) -> None:
    with pytest.raises(InvalidQueue, match=says):
        make_schedule(zone, slots)


def test_taken_slots_are_not_free() -> None:
    queue = make_schedule("UTC", [Slot(day="mon", time="09:00"), Slot(day="mon", time="10:00")])
    after = datetime(2026, 1, 4, tzinfo=UTC)  # a Sunday
    monday9, monday10 = datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert free_slots(queue, after, {monday9}, 2) == [monday10, monday9 + timedelta(weeks=1)]


def test_engagement_is_per_impression_else_per_follower() -> None:
    metrics = {"likes": 8.0, "comments": 1.0, "shares": 0.5, "saves": 0.5, "replies": 99.0}
    assert engagement_rate({**metrics, "impressions": 100.0}, followers=10) == 0.1
    assert engagement_rate(metrics, followers=50) == 0.2
    assert engagement_rate(metrics, followers=None) is None


def test_without_enough_data_the_network_defaults_are_suggested() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    few = [Sample(published_at=now, engagement=0.5)] * int(MIN_WEIGHT - 1)
    found = suggest(few, zone=ZoneInfo("UTC"), network="linkedin", now=now, count=3)
    assert [s.source for s in found] == ["default"] * 3
    assert {s.hour_of_week for s in found} <= set(DEFAULT_HOURS["linkedin"])
    assert defaults("unknown-network", 2)[0].source == "default"


def test_recent_engagement_outweighs_old_engagement() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    monday_9 = now - timedelta(days=now.weekday(), hours=3)  # Monday 09:00 this week
    old_good = [Sample(published_at=monday_9 - timedelta(weeks=20), engagement=0.9)] * 3
    new_fair = [Sample(published_at=monday_9 + timedelta(hours=1), engagement=0.3)] * 3
    new_poor = [Sample(published_at=monday_9 + timedelta(hours=5), engagement=0.05)] * 6
    samples = old_good + new_fair + new_poor
    top = suggest(samples, zone=ZoneInfo("UTC"), network="x", now=now, count=3)
    # Monday 09:00 was great 20 weeks ago; 10:00 is fair now; 14:00 is poor now.
    assert [s.hour_of_week for s in top] == [10, 9, 14]
    assert top[0].source == "data"
