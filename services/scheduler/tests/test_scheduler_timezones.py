"""Wall-clock times in IANA zones, including the hours daylight saving skips or repeats."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from siar_scheduler.domain import resolve_local_time
from siar_scheduler.errors import InvalidSchedule


def wall(text: str) -> datetime:
    """A wall-clock time with no zone: exactly what a person types into a calendar."""
    return datetime.fromisoformat(text)


def test_a_wall_clock_time_in_a_zone_gets_its_offset() -> None:
    at = resolve_local_time(wall("2026-05-01T09:00"), "Asia/Jakarta")
    assert at.utcoffset() == timedelta(hours=7)
    assert at.isoformat() == "2026-05-01T09:00:00+07:00"


def test_an_explicit_offset_is_kept_as_given() -> None:
    given = datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert resolve_local_time(given, "America/New_York") is given


@pytest.mark.parametrize(
    ("wall", "zone"),
    [
        (wall("2026-03-08T02:30"), "America/New_York"),
        (wall("2026-03-29T02:30"), "Europe/Berlin"),
    ],
)
def test_the_hour_the_clocks_skip_is_refused(wall: datetime, zone: str) -> None:
    with pytest.raises(InvalidSchedule, match="does not exist"):
        resolve_local_time(wall, zone)


def test_the_hour_that_happens_twice_needs_an_offset() -> None:
    with pytest.raises(InvalidSchedule, match="happens twice") as refused:
        resolve_local_time(wall("2026-11-01T01:30"), "America/New_York")
    assert "-04:00" in str(refused.value)
    assert "-05:00" in str(refused.value)


def test_a_summer_time_is_summer_and_a_winter_time_is_winter() -> None:
    summer = resolve_local_time(wall("2026-07-01T09:00"), "Europe/Berlin")
    winter = resolve_local_time(wall("2026-12-01T09:00"), "Europe/Berlin")
    assert (summer.utcoffset(), winter.utcoffset()) == (timedelta(hours=2), timedelta(hours=1))


@pytest.mark.parametrize("zone", [None, ""])
def test_a_naive_time_without_a_zone_is_refused(zone: str | None) -> None:
    with pytest.raises(InvalidSchedule, match="offset"):
        resolve_local_time(wall("2026-05-01T09:00"), zone)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "Not A Zone"])
def test_unknown_zones_are_refused(zone: str) -> None:
    with pytest.raises(InvalidSchedule, match="unknown time zone"):
        resolve_local_time(wall("2026-05-01T09:00"), zone)
