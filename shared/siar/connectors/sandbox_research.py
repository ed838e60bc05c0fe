"""The sandbox's public world for research: seeded mentions and competitor profiles.

Everything is a deterministic function of (query or handle, time), so a demo shows
the same trend lines on every run and tests can predict them: each term gets a
base volume from its hash, a weekly rhythm (weekdays busier) and a slow trend.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from siar.connectors.models import PublicPost, PublicProfile

WINDOW = timedelta(days=7)
"""How far back a search reaches, like X's recent search."""
MAX_RESULTS = 100


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def mentions_in_hour(query: str, hour: datetime) -> int:
    """How many public posts mention ``query`` in the hour starting at ``hour``."""
    base = 0.2 + 1.8 * _unit(query.lower(), "base")
    weekly = 1.3 if hour.weekday() < 5 else 0.6
    daily = 0.5 + math.sin(math.pi * hour.hour / 24)
    expected = base * weekly * daily
    return int(expected + _unit(query.lower(), hour.isoformat()))


def search(query: str, since: datetime | None, now: datetime | None = None) -> list[PublicPost]:
    """The seeded public posts mentioning ``query`` after ``since``, newest first."""
    now = now or datetime.now(UTC)
    start = max(since or now - WINDOW, now - WINDOW)
    hour = start.replace(minute=0, second=0, microsecond=0)
    found: list[PublicPost] = []
    while hour <= now:
        for n in range(mentions_in_hour(query, hour)):
            at = hour + timedelta(minutes=int(60 * _unit(query, hour.isoformat(), n)))
            if start < at <= now:
                found.append(_post(query, at, n))
        hour += timedelta(hours=1)
    found.sort(key=lambda p: p.posted_at, reverse=True)
    return found[:MAX_RESULTS]


def _post(query: str, at: datetime, n: int) -> PublicPost:
    key = hashlib.sha256(f"{query.lower()}|{at.isoformat()}|{n}".encode()).hexdigest()[:16]
    author = f"fan{int(_unit(key, 'author') * 500)}.sandbox"
    return PublicPost(
        network_post_id=f"sbxpublic_{key}",
        author_handle=author,
        text=f"Talking about {query} today",
        posted_at=at,
        likes=float(int(20 * _unit(key, "likes"))),
        reposts=float(int(5 * _unit(key, "reposts"))),
        replies=float(int(4 * _unit(key, "replies"))),
    )


def profile(handle: str, now: datetime | None = None) -> PublicProfile:
    """A competitor's seeded public figures on the day of ``now``."""
    now = now or datetime.now(UTC)
    name = handle.removeprefix("@").lower()
    days = (now.date() - datetime(2026, 1, 1, tzinfo=UTC).date()).days
    base = 1000 + 49000 * _unit(name, "followers")
    daily_growth = 0.0005 + 0.002 * _unit(name, "growth")
    noise = (_unit(name, now.date().isoformat()) - 0.5) * base * 0.002
    followers = round(base * (1 + daily_growth) ** days + noise)
    return PublicProfile(
        handle=name,
        display_name=name.split(".")[0].title(),
        collected_at=now,
        metrics={
            "followers": float(followers),
            "following": float(int(100 + 900 * _unit(name, "following"))),
            "posts": float(int(200 + days * (1 + 3 * _unit(name, "cadence")))),
        },
    )
