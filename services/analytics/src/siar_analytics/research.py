"""Research domain: tracked hashtags, keywords and competitors, and their report (no I/O).

A tracked item is searched on one network through one of the workspace's connected
accounts (whose token makes the calls). Share of voice is an item's share of all
mentions found for the workspace's mention-tracking items in the same period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from siar_analytics.errors import InvalidResearchItem
from siar_analytics.reports import Delta, delta

ItemKind = Literal["hashtag", "keyword", "competitor"]
MAX_ITEMS = 50
"""Tracked items per workspace: each costs API calls on a schedule."""

_HASHTAG = re.compile(r"^#?(\w{1,100})$", re.UNICODE)
_HANDLE = re.compile(r"^@?([\w.\-]{1,100}(@[\w.\-]{1,200})?)$", re.UNICODE)


class TrackedItemCreate(BaseModel):
    """What to track, and which connected account searches for it."""

    kind: ItemKind
    value: str = Field(min_length=1, max_length=200)
    account_id: str = Field(min_length=1, max_length=100)

    @field_validator("value")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class TrackedItem(BaseModel):
    """A hashtag, keyword or competitor a workspace follows on one network."""

    id: str
    workspace_id: str
    kind: ItemKind
    value: str
    account_id: str
    network: str
    created_by: str
    created_at: datetime
    last_polled_at: datetime | None = None
    last_error: str | None = None


def normalise(kind: ItemKind, value: str) -> str:
    """The canonical form of a tracked value, or :class:`InvalidResearchItem`."""
    if kind == "hashtag":
        match = _HASHTAG.match(value)
        if not match:
            raise InvalidResearchItem("a hashtag is # followed by letters, digits or _")
        return "#" + match.group(1).lower()
    if kind == "competitor":
        match = _HANDLE.match(value)
        if not match:
            raise InvalidResearchItem("a competitor is an account handle, e.g. @rival")
        return match.group(1).lower()
    if len(value) < 2 or len(value) > 100:
        raise InvalidResearchItem("a keyword has 2 to 100 characters")
    return value


def search_query(item: TrackedItem) -> str:
    """What to search for: the hashtag or keyword, or mentions of a competitor's handle."""
    return f"@{item.value}" if item.kind == "competitor" else item.value


class ItemTrend(BaseModel):
    """One tracked item over a period: mentions per day, share of voice, profile figures."""

    item: TrackedItem
    mentions: Delta
    engagement: float
    share_of_voice_pct: float | None
    daily_mentions: list[tuple[str, int]]
    followers: list[tuple[str, float]] = []
    follower_growth: float | None = None


class ResearchReport(BaseModel):
    """Every tracked item of a workspace over [start, end], with the previous period."""

    start: date
    end: date
    items: list[ItemTrend]


def research_report(
    start: date,
    end: date,
    items: Iterable[TrackedItem],
    current: Mapping[str, Mapping[str, tuple[int, float]]],
    previous: Mapping[str, int],
    profiles: Mapping[str, list[tuple[str, float]]],
) -> ResearchReport:
    """Assemble the report from per-item, per-day (mentions, engagement) and follower points."""
    items = list(items)
    totals = {i.id: sum(n for n, _ in current.get(i.id, {}).values()) for i in items}
    voice = sum(totals.values())
    trends = []
    for item in items:
        days = current.get(item.id, {})
        followers = profiles.get(item.id, [])
        trends.append(
            ItemTrend(
                item=item,
                mentions=delta(totals[item.id], previous.get(item.id, 0)),
                engagement=sum(e for _, e in days.values()),
                share_of_voice_pct=round(totals[item.id] / voice * 100, 2) if voice else None,
                daily_mentions=[(d, n) for d, (n, _) in sorted(days.items())],
                followers=followers,
                follower_growth=followers[-1][1] - followers[0][1] if followers else None,
            )
        )
    return ResearchReport(start=start, end=end, items=trends)
