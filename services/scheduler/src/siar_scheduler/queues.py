"""Posting queues: an account's weekly slots in its time zone, and which are free (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from siar_scheduler.errors import InvalidSchedule

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SLOTS = 168
"""At most one slot per hour of the week, on average."""

SEARCH_WEEKS = 26
"""How far ahead free slots are looked for before giving up."""

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class InvalidQueue(InvalidSchedule):
    """A posting schedule that cannot be used (no slots, bad time, unknown zone)."""


class NoQueue(InvalidSchedule):
    """The account has no posting schedule, or no free slot in it."""


class Slot(BaseModel):
    """A weekly slot: a day and a wall-clock time in the queue's zone."""

    day: Day
    time: str = Field(description="HH:MM, 24-hour", examples=["09:00"])

    @property
    def minutes(self) -> int:
        """Minutes after Monday 00:00."""
        hours, minutes = self.time.split(":")
        return DAYS.index(self.day) * 1440 + int(hours) * 60 + int(minutes)


class QueueSchedule(BaseModel):
    """An account's weekly posting schedule."""

    timezone: str
    slots: list[Slot]


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone, or :class:`InvalidQueue` naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidQueue(f"unknown time zone {name!r}; use an IANA name") from err


def make_schedule(timezone: str, slots: Iterable[Slot]) -> QueueSchedule:
    """Validate a schedule: a known zone, at least one slot, valid distinct times, sorted."""
    zone_of(timezone)
    given = list(slots)
    if not given:
        raise InvalidQueue("a queue needs at least one slot, e.g. {'day': 'mon', 'time': '09:00'}")
    if len(given) > MAX_SLOTS:
        raise InvalidQueue(f"a queue has at most {MAX_SLOTS} slots")
    for slot in given:
        if not _TIME.match(slot.time):
            raise InvalidQueue(f"slot time {slot.time!r} must be HH:MM between 00:00 and 23:59")
    unique = {s.minutes: s for s in given}
    return QueueSchedule(timezone=timezone, slots=sorted(unique.values(), key=lambda s: s.minutes))


def upcoming(schedule: QueueSchedule, after: datetime) -> Iterator[datetime]:
    """Slot instants (UTC) after ``after``, in order, for up to :data:`SEARCH_WEEKS` weeks.

    A slot whose wall time is skipped by a DST change happens at the same instant as the
    RFC 5545 reading (the earlier offset), so it moves forward by the gap; instants are
    never repeated.
    """
    zone = zone_of(schedule.timezone)
    local = after.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=None
    )
    seen: set[datetime] = set()
    for week in range(SEARCH_WEEKS + 1):
        for slot in schedule.slots:
            wall = monday + timedelta(weeks=week, minutes=slot.minutes)
            at = wall.replace(tzinfo=zone).astimezone(UTC)
            if at > after and at not in seen:
                seen.add(at)
                yield at


def free_slots(
    schedule: QueueSchedule, after: datetime, taken: set[datetime], count: int
) -> list[datetime]:
    """The next ``count`` slot instants not already taken by a scheduled post."""
    found: list[datetime] = []
    for at in upcoming(schedule, after):
        if at not in taken:
            found.append(at)
            if len(found) == count:
                break
    return found


def first_free(schedule: QueueSchedule, start: datetime, taken: set[datetime]) -> datetime | None:
    """The first slot instant at or after ``start`` not in ``taken``; None within the window."""
    # upcoming() yields instants strictly after its argument; slots are whole minutes.
    found = free_slots(schedule, start - timedelta(microseconds=1), taken, 1)
    return found[0] if found else None


def search_end(after: datetime) -> datetime:
    """The end of the window :func:`upcoming` searches (for loading taken slots)."""
    return after + timedelta(weeks=SEARCH_WEEKS + 1)
