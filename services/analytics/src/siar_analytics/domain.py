"""Analytics domain: daily activity counters and report ranges (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from siar_analytics.errors import InvalidRange

COUNTERS = ("posts_published", "posts_failed", "messages_received")


class ActivitySummary(BaseModel):
    """Activity totals of a workspace over a date range, with the previous period."""

    start: date
    end: date
    posts_published: int = 0
    posts_failed: int = 0
    messages_received: int = 0
    previous: dict[str, int] = {}


def day_of(at: datetime) -> str:
    """The UTC day bucket of a time."""
    return at.astimezone(UTC).date().isoformat()


def check_range(start: date, end: date, *, max_days: int) -> None:
    """A range must run forwards and not exceed ``max_days``."""
    if end < start:
        raise InvalidRange("'to' is before 'from'")
    if (end - start).days + 1 > max_days:
        raise InvalidRange(f"a report covers at most {max_days} days")


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of equal length just before [start, end]."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)
