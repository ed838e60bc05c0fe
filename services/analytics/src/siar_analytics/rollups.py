"""Metric roll-ups: which bucket a snapshot falls in, and how it merges there (no I/O).

Every metric a network reports is a value *as of* its ``collected_at``: a level such
as followers, or a window the network itself counts (the day's reach, a post's
lifetime likes). So a bucket keeps, per metric, the value of the newest snapshot that
fell in it, with that snapshot's time. A snapshot arriving late, twice or out of order
only replaces a metric the bucket holds from an older one; nothing is ever summed, so
duplicates cannot inflate a figure. A metric a partial snapshot left out keeps its
older value (or stays absent): missing is never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

Grain = Literal["hour", "day"]
Scope = Literal["account", "post"]
GRAINS: tuple[Grain, ...] = ("hour", "day")

Slot = dict[str, Any]
"""One bucket's merged values: ``{"m": {metric: value}, "t": {metric: ts}, "ts": newest,
"partial": bool, "d": {dimension: {key: share}}, "dt": ts of d}``."""


@dataclass(frozen=True)
class Reading:
    """One snapshot, as roll-ups see it: values at ``ts`` (epoch seconds)."""

    ts: float
    metrics: Mapping[str, float]
    partial: bool = False
    dimensions: Mapping[str, Mapping[str, float]] | None = field(default=None)


def series_key(account_id: str, scope: Scope, network_post_id: str | None) -> str:
    """The series a snapshot belongs to: the account itself, or one of its posts."""
    if scope == "post":
        if not network_post_id:
            raise ValueError("a post-scope snapshot needs its network_post_id")
        return f"{account_id}/post/{network_post_id}"
    return f"{account_id}/account"


def bucket_of(grain: Grain, at: datetime) -> tuple[str, str]:
    """(period, slot) of a time: an hour is slot "HH" of day "YYYY-MM-DD"; a day is
    slot "DD" of month "YYYY-MM" (UTC). One document holds one period's slots."""
    utc = at.astimezone(UTC)
    if grain == "hour":
        return utc.date().isoformat(), f"{utc.hour:02d}"
    return f"{utc.year:04d}-{utc.month:02d}", f"{utc.day:02d}"


def periods_between(grain: Grain, start: datetime, end: datetime) -> list[str]:
    """Every period (document) a range [start, end] touches, in order."""
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    if grain == "hour":
        return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def slot_start(grain: Grain, period: str, slot: str) -> datetime:
    """The UTC start of a bucket named by its period and slot."""
    if grain == "hour":
        return datetime.combine(date.fromisoformat(period), time(int(slot)), tzinfo=UTC)
    year, month = (int(p) for p in period.split("-"))
    return datetime(year, month, int(slot), tzinfo=UTC)


def merge(slot: Slot | None, reading: Reading) -> Slot | None:
    """``slot`` with ``reading`` merged in (newest value per metric wins), or None when
    the reading changes nothing (a duplicate, or older than everything it carries)."""
    current: Slot = (
        {"m": {}, "t": {}, "ts": float("-inf"), "partial": False}
        if slot is None
        else {**slot, "m": dict(slot.get("m", {})), "t": dict(slot.get("t", {}))}
    )
    changed = False
    for name, value in reading.metrics.items():
        if reading.ts > float(current["t"].get(name, float("-inf"))):
            current["m"][name] = float(value)
            current["t"][name] = reading.ts
            changed = True
    if reading.dimensions and reading.ts > float(current.get("dt", float("-inf"))):
        current["d"] = {k: dict(v) for k, v in reading.dimensions.items()}
        current["dt"] = reading.ts
        changed = True
    if reading.ts > float(current["ts"]):
        # The bucket is as partial as the newest snapshot that reached it.
        current["ts"] = reading.ts
        current["partial"] = reading.partial
        changed = True
    return current if changed else None
