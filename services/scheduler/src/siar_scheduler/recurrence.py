"""Repeating posts: RFC 5545 recurrence rules and evergreen recycling (no I/O).

A repeating post keeps one document. Its ``scheduled_at`` is always the next
occurrence; firing an occurrence moves it to the one after, in the same conditional
write that marks the occurrence dispatched (see ``firing.py``).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr
from pydantic import AwareDatetime, BaseModel, Field

from siar_scheduler.errors import InvalidSchedule

MAX_OCCURRENCES = 500
"""Most occurrences one recurring post may have; more is refused, never truncated."""

MISSED_GRACE = timedelta(minutes=15)
"""After downtime, occurrences older than this are skipped (and counted), not all fired."""

_TOO_FREQUENT = ("SECONDLY", "MINUTELY")


class InvalidRecurrence(InvalidSchedule):
    """The recurrence rule or evergreen settings cannot be used."""


class Recurrence(BaseModel):
    """An RFC 5545 RRULE read in an IANA zone, so 09:00 stays 09:00 across DST."""

    rrule: str = Field(description="e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10")
    timezone: str
    dtstart: AwareDatetime = Field(description="The first occurrence the rule counts from.")
    fired: int = Field(default=0, ge=0)
    skipped: int = Field(default=0, ge=0, description="Occurrences missed during downtime.")


class Evergreen(BaseModel):
    """Re-queue a post ``every_days`` days after it goes out, ``max_times`` times.

    It comes back in the first free slot of its first account's posting queue at or after
    the same wall-clock time ``every_days`` later; without a queue, at that time.
    """

    every_days: int = Field(ge=1, le=3650)
    max_times: int = Field(ge=1, le=MAX_OCCURRENCES)
    timezone: str = "UTC"
    recycled: int = Field(default=0, ge=0)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidRecurrence(f"unknown time zone {name!r}; use an IANA name") from err


def _rule(text: str, dtstart: datetime, zone: ZoneInfo) -> rrule:
    body = text.strip().removeprefix("RRULE:")
    if not body or "\n" in body or "DTSTART" in body.upper():
        raise InvalidRecurrence("rrule must be one RRULE line, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=8")
    try:
        rule = rrulestr(body, dtstart=dtstart.astimezone(zone))
    except (ValueError, TypeError) as err:
        raise InvalidRecurrence(f"invalid RRULE {body!r}: {err}") from err
    if not isinstance(rule, rrule):
        raise InvalidRecurrence(f"invalid RRULE {body!r}: one rule expected")
    return rule


def parse_recurrence(text: str, timezone: str, dtstart: datetime) -> Recurrence:
    """Validate a rule; refuses endless, too frequent or too long rules, naming why."""
    rule = _rule(text, dtstart, _zone(timezone))
    upper = text.upper()
    if any(f"FREQ={freq}" in upper for freq in _TOO_FREQUENT):
        raise InvalidRecurrence("RRULE repeats more often than hourly; use FREQ=HOURLY or slower")
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise InvalidRecurrence(
            "RRULE never ends: add COUNT (e.g. COUNT=10) or UNTIL (e.g. UNTIL=20270101T000000Z)"
        )
    if len(list(itertools.islice(rule, MAX_OCCURRENCES + 1))) > MAX_OCCURRENCES:
        raise InvalidRecurrence(
            f"RRULE gives more than {MAX_OCCURRENCES} occurrences; lower COUNT or UNTIL"
        )
    first = rule.after(dtstart.astimezone(_zone(timezone)), inc=True)
    if first is None:
        raise InvalidRecurrence("RRULE gives no occurrence at or after its start")
    return Recurrence(
        rrule=text.strip().removeprefix("RRULE:"), timezone=timezone, dtstart=first.astimezone(UTC)
    )


def check_evergreen(every_days: int, max_times: int, timezone: str) -> Evergreen:
    """Validate evergreen settings (each at least 1) with a clear message."""
    if every_days < 1:
        raise InvalidRecurrence("evergreen every_days must be at least 1")
    if max_times < 1:
        raise InvalidRecurrence("evergreen max_times must be at least 1")
    _zone(timezone)
    return Evergreen(every_days=every_days, max_times=max_times, timezone=timezone)


def next_recurrence(rec: Recurrence, due: datetime, now: datetime) -> tuple[datetime | None, int]:
    """The occurrence after ``due`` and how many missed ones were skipped to reach it."""
    zone = _zone(rec.timezone)
    rule = _rule(rec.rrule, rec.dtstart, zone)
    nxt = rule.after(due.astimezone(zone))
    floor = now - MISSED_GRACE
    if nxt is None or nxt >= floor:
        return (nxt.astimezone(UTC) if nxt else None), 0
    skipped = len(rule.between(due.astimezone(zone), floor.astimezone(zone)))
    later = rule.after(floor.astimezone(zone), inc=True)
    return (later.astimezone(UTC) if later else None), skipped


def evergreen_floor(ever: Evergreen, due: datetime) -> datetime:
    """The same wall-clock time ``every_days`` after ``due``, in the post's zone."""
    zone = _zone(ever.timezone)
    wall = due.astimezone(zone).replace(tzinfo=None) + timedelta(days=ever.every_days)
    # fold=0 reads a skipped wall time with the earlier offset, as RFC 5545 does.
    return wall.replace(tzinfo=zone).astimezone(UTC)


def next_evergreen(ever: Evergreen, due: datetime) -> datetime | None:
    """Its floor (:func:`evergreen_floor`), or None once recycled ``max_times``.

    Firing stores the floor; ``requeue.py`` then moves the post into its queue's first
    free slot at or after it, if its account has a queue.
    """
    if ever.recycled >= ever.max_times:
        return None
    return evergreen_floor(ever, due)
