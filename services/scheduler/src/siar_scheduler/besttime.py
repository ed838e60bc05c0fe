"""Best time to post: engagement by hour of week, decayed by age, per account (no I/O).

Engagement of one post = (likes + comments + shares + saves) / impressions, from its
latest ``metrics.collected`` snapshot; without impressions, divided by the account's
followers instead; without either it is not used. Each post counts with weight
``0.5 ** (age_days / HALF_LIFE_DAYS)`` (age from publication), so a post from three
months ago counts an eighth as much as today's. An hour of the week's score is its
weighted mean engagement, shrunk towards the account's overall mean by ``PRIOR_WEIGHT``
(one recent post's worth) so one lucky post does not win a slot alone.

With less data than ``MIN_WEIGHT`` the suggestions are the network's defaults below:
widely published starting points (weekday mornings, lunch and early evening), not
measurements; they are replaced by the account's own data as soon as it has enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from siar_scheduler.queues import DAYS, Slot

HALF_LIFE_DAYS = 30.0
PRIOR_WEIGHT = 1.0
MIN_WEIGHT = 3.0
ENGAGEMENTS = ("likes", "comments", "shares", "saves")

_WEEKDAYS = (0, 1, 2, 3, 4)
_ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)


def _hours(days: Iterable[int], hours: Iterable[int]) -> tuple[int, ...]:
    return tuple(d * 24 + h for h in hours for d in days)


DEFAULT_HOURS: dict[str, tuple[int, ...]] = {
    "linkedin": _hours((1, 2, 3), (8, 10, 12)),
    "x": _hours(_WEEKDAYS, (9, 12, 17)),
    "bluesky": _hours(_WEEKDAYS, (9, 12, 18)),
    "mastodon": _hours(_WEEKDAYS, (9, 13, 19)),
    "facebook": _hours(_WEEKDAYS, (9, 13, 19)),
    "instagram": _hours(_ALL_DAYS, (11, 19)),
    "threads": _hours(_ALL_DAYS, (10, 20)),
    "pinterest": _hours(_ALL_DAYS, (20, 21)),
    "tiktok": _hours(_ALL_DAYS, (18, 21)),
    "youtube": _hours((3, 4, 5, 6), (15, 17)),
}
"""Hours of the week (0 = Monday 00:00, local time) suggested before there is data."""
FALLBACK_HOURS = _hours(_WEEKDAYS, (9, 12, 17))


@dataclass(frozen=True)
class Sample:
    """One published post's engagement rate and when it went out."""

    published_at: datetime
    engagement: float


@dataclass(frozen=True)
class Suggestion:
    """A suggested hour of the week, its score and where it came from."""

    hour_of_week: int
    score: float
    posts: float
    source: str  # "data" or "default"

    def slot(self) -> Slot:
        """As a queue slot on the hour."""
        day, hour = divmod(self.hour_of_week, 24)
        return Slot(day=DAYS[day], time=f"{hour:02d}:00")


def engagement_rate(metrics: dict[str, float], followers: float | None) -> float | None:
    """Engagements per impression, else per follower; None when neither is known."""
    engaged = sum(metrics.get(name, 0.0) for name in ENGAGEMENTS)
    impressions = metrics.get("impressions") or metrics.get("views") or 0.0
    if impressions > 0:
        return engaged / impressions
    if followers:
        return engaged / followers
    return None


def hour_of_week(at: datetime, zone: ZoneInfo) -> int:
    """0..167: Monday 00:00 to Sunday 23:00 in ``zone``."""
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


def suggest(
    samples: Iterable[Sample], *, zone: ZoneInfo, network: str, now: datetime, count: int
) -> list[Suggestion]:
    """The ``count`` best hours of the week, from data when there is enough."""
    sums: dict[int, list[float]] = {}
    for sample in samples:
        age_days = max(0.0, (now - sample.published_at).total_seconds() / 86400)
        weight = 0.5 ** (age_days / HALF_LIFE_DAYS)
        bucket = sums.setdefault(hour_of_week(sample.published_at, zone), [0.0, 0.0])
        bucket[0] += weight * sample.engagement
        bucket[1] += weight
    total_weight = sum(w for _, w in sums.values())
    if total_weight < MIN_WEIGHT:
        return defaults(network, count)
    mean = sum(s for s, _ in sums.values()) / total_weight
    ranked = sorted(
        (
            Suggestion(
                hour_of_week=hour,
                score=(s + PRIOR_WEIGHT * mean) / (w + PRIOR_WEIGHT),
                posts=w,
                source="data",
            )
            for hour, (s, w) in sums.items()
        ),
        key=lambda s: (-s.score, s.hour_of_week),
    )
    return ranked[:count]


def defaults(network: str, count: int) -> list[Suggestion]:
    """The documented starting hours for a network, in week order."""
    hours = sorted(DEFAULT_HOURS.get(network, FALLBACK_HOURS))[:count]
    return [Suggestion(hour_of_week=h, score=0.0, posts=0.0, source="default") for h in hours]
