"""Inbox report computations: volume, sentiment trend and response times (no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from pydantic import BaseModel

TIME_BUCKETS: tuple[tuple[str, float], ...] = (
    ("le_5m", 300),
    ("le_15m", 900),
    ("le_1h", 3600),
    ("le_4h", 4 * 3600),
    ("le_8h", 8 * 3600),
    ("le_24h", 24 * 3600),
    ("le_48h", 48 * 3600),
    ("gt_48h", float("inf")),
)
"""Histogram buckets of response and resolution times (upper bounds, seconds)."""
SENTIMENTS = ("positive", "neutral", "negative", "unscored")


def time_bucket(seconds: float) -> str:
    """The histogram bucket of a duration."""
    return next(name for name, bound in TIME_BUCKETS if seconds <= bound)


def median_bucket(histogram: Mapping[str, float]) -> str | None:
    """The bucket holding the median of a histogram, or None when it is empty."""
    total = sum(histogram.get(name, 0) for name, _ in TIME_BUCKETS)
    running = 0.0
    for name, _ in TIME_BUCKETS:
        running += histogram.get(name, 0)
        if total and running >= total / 2:
            return name
    return None


class InboxDay(BaseModel):
    """One day of the inbox: volume, sentiment split and net sentiment (-1..1)."""

    day: str
    received: int
    sentiment: dict[str, int]
    net_sentiment: float | None


class InboxSummary(BaseModel):
    """Inbox volume, sentiment trend and response times over a period."""

    received: int
    by_kind: dict[str, int]
    sentiment: dict[str, int]
    influencer_messages: int
    responded: int
    avg_first_response_s: float | None
    median_first_response: str | None
    resolved: int
    avg_resolution_s: float | None
    median_resolution: str | None
    reopened: int = 0
    daily: list[InboxDay]


def inbox_summary(docs: Iterable[Mapping[str, object]]) -> InboxSummary:
    """Sum daily inbox roll-ups (any accounts) into one summary with a daily trend."""
    sums: dict[str, float] = defaultdict(float)
    nested: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_day: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for doc in docs:
        day = str(doc["day"])
        for field in ("received", "influencer", "responded", "response_s", "resolved", "reopened"):
            sums[field] += _num(doc.get(field))
        sums["resolution_s"] += _num(doc.get("resolution_s"))
        per_day[day]["received"] += _num(doc.get("received"))
        for group in ("kinds", "sentiment", "response_h", "resolution_h"):
            for key, value in _map(doc.get(group)).items():
                nested[group][key] += value
                if group == "sentiment":
                    per_day[day][key] += value
    return InboxSummary(
        received=int(sums["received"]),
        by_kind={k: int(v) for k, v in sorted(nested["kinds"].items())},
        sentiment={s: int(nested["sentiment"].get(s, 0)) for s in SENTIMENTS},
        influencer_messages=int(sums["influencer"]),
        responded=int(sums["responded"]),
        avg_first_response_s=_mean(sums["response_s"], sums["responded"]),
        median_first_response=median_bucket(nested["response_h"]),
        resolved=int(sums["resolved"]),
        avg_resolution_s=_mean(sums["resolution_s"], sums["resolved"]),
        median_resolution=median_bucket(nested["resolution_h"]),
        reopened=int(sums["reopened"]),
        daily=[_inbox_day(day, figures) for day, figures in sorted(per_day.items())],
    )


def _inbox_day(day: str, figures: Mapping[str, float]) -> InboxDay:
    split = {s: int(figures.get(s, 0)) for s in SENTIMENTS}
    scored = split["positive"] + split["neutral"] + split["negative"]
    net = round((split["positive"] - split["negative"]) / scored, 4) if scored else None
    return InboxDay(
        day=day, received=int(figures.get("received", 0)), sentiment=split, net_sentiment=net
    )


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _map(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): _num(v) for k, v in value.items()}


def _mean(total: float, count: float) -> float | None:
    return round(total / count, 2) if count else None
