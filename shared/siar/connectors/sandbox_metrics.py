"""The sandbox network's metrics: a deterministic function of (account, post, time).

So the demo has months of believable data without storing any: each account gets a
size, growth rate and engagement rate from a hash of its handle; followers grow along
a trend with a little daily noise; the day's reach follows a weekly rhythm; a post's
figures rise towards a ceiling set by the audience at publication time and by the hour
of the week it went out (weekday mornings and evenings do best, which the scheduler's
best-time suggestions should find). Now and then the "insights API" is unavailable
for an hour and a snapshot comes back partial, as real networks do.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from siar.connectors.models import MetricsSnapshot

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
"""Day zero of every sandbox account's trend."""
WEEKDAY_REACH = (1.0, 1.05, 1.1, 1.08, 1.0, 0.8, 0.75)
"""Relative reach Monday..Sunday."""
AGES = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_SHAPE = (0.03, 0.25, 0.33, 0.2, 0.11, 0.05, 0.03)
GENDERS = ("female", "male", "unknown")
CITIES = {
    "ID": "Jakarta",
    "US": "New York",
    "IN": "Mumbai",
    "BR": "São Paulo",
    "GB": "London",
    "DE": "Berlin",
    "PH": "Manila",
    "SG": "Singapore",
}
INSIGHTS = ("reach", "impressions", "profile_views")


def unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _days(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / 86400


def followers(handle: str, at: datetime) -> float:
    """Followers at a time: exponential trend plus a small daily wobble."""
    base = 800 + unit(handle, "base") * 40_000
    growth = 0.0008 + unit(handle, "growth") * 0.003
    wobble = 1 + (unit(handle, "f", at.date()) - 0.5) * 0.004
    return float(round(base * math.exp(growth * max(0.0, _days(at))) * wobble))


def hour_of_week_factor(at: datetime) -> float:
    """How well a post published at this (UTC) hour of the week does, relative."""
    factor = 0.6
    if 9 <= at.hour <= 11:
        factor += 0.6
    elif 18 <= at.hour <= 20:
        factor += 0.5
    elif at.hour < 6:
        factor -= 0.3
    return factor * (0.8 if at.weekday() >= 5 else 1.0)


def dimensions(handle: str, at: datetime) -> dict[str, dict[str, float]]:
    """Audience shares by age, gender, country and city, drifting slowly."""
    drift = _days(at) / 45

    def shares(keys: tuple[str, ...], shape: tuple[float, ...], name: str) -> dict[str, float]:
        raw = [
            w * (0.5 + unit(handle, name, k)) * (1 + 0.1 * math.sin(drift + 6 * unit(handle, k)))
            for k, w in zip(keys, shape, strict=True)
        ]
        total = sum(raw)
        return {k: round(v / total, 4) for k, v in zip(keys, raw, strict=True)}

    countries = tuple(CITIES)
    country = shares(countries, tuple(1.0 for _ in countries), "country")
    return {
        "age": shares(AGES, AGE_SHAPE, "age"),
        "gender": shares(GENDERS, (0.5, 0.45, 0.05), "gender"),
        "country": country,
        "city": {CITIES[c]: round(s * 0.6, 4) for c, s in country.items()},
    }


def account_snapshot(handle: str, at: datetime) -> MetricsSnapshot:
    """An account's figures at ``at``: levels now, and the day's reach so far as a whole."""
    count = followers(handle, at)
    day = at.date()
    reach = count * (0.08 + unit(handle, "rr") * 0.1) * WEEKDAY_REACH[at.weekday()]
    reach *= 0.85 + 0.3 * unit(handle, "reach", day)
    metrics = {
        "followers": count,
        "following": float(round(150 + unit(handle, "fw") * 1200 + _days(at) * 0.2)),
        "reach": float(round(reach)),
        "impressions": float(round(reach * (1.4 + 0.3 * unit(handle, "imp", day)))),
        "profile_views": float(round(reach * (0.015 + 0.01 * unit(handle, "pv", day)))),
    }
    # About one hour in 25 the insights are "unavailable": only the levels come back.
    hour = at.replace(minute=0, second=0, microsecond=0)
    partial = unit(handle, "outage", hour.isoformat()) < 0.04
    if partial:
        metrics = {k: v for k, v in metrics.items() if k not in INSIGHTS}
    return MetricsSnapshot(
        collected_at=at, metrics=metrics, partial=partial, dimensions=dimensions(handle, at)
    )


def account_history(handle: str, now: datetime, days: int) -> list[MetricsSnapshot]:
    """One end-of-day snapshot for each of the ``days`` days before ``now``'s day."""
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    moments = [
        today - timedelta(days=n) + timedelta(hours=23, minutes=30) for n in range(1, days + 1)
    ]
    return [account_snapshot(handle, at) for at in sorted(moments)]


def post_snapshot(
    handle: str,
    post_id: str,
    published_at: datetime,
    at: datetime,
    *,
    has_video: bool = False,
    has_link: bool = False,
) -> MetricsSnapshot:
    """A post's lifetime figures at ``at``: rising towards their ceiling over a day or so."""
    age_h = max(0.0, (at - published_at).total_seconds() / 3600)
    progress = 1 - math.exp(-age_h / 8)
    luck = 0.6 + 0.8 * unit(post_id, "luck")
    how = hour_of_week_factor(published_at)
    audience = followers(handle, published_at)
    reach = audience * (0.2 + 0.3 * unit(post_id, "reach")) * how * luck * progress
    rate = (0.02 + unit(handle, "er") * 0.04) * how * luck
    likes = reach * rate
    metrics = {
        "reach": reach,
        "impressions": reach * 1.3,
        "likes": likes,
        "comments": likes * 0.08,
        "shares": likes * 0.05,
        "saves": likes * 0.04,
    }
    if has_video:
        metrics["video_views"] = reach * 0.6
    if has_link:
        metrics["clicks"] = reach * 0.012
    return MetricsSnapshot(
        collected_at=at, metrics={k: float(round(v)) for k, v in metrics.items()}
    )
