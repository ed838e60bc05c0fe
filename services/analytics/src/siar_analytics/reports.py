"""Report computations: pure functions from stored figures to report sections (no I/O).

Engagement rate is defined per network in :data:`RATE_BASIS` and documented in
docs/analytics-reports.md; every other figure here is a sum, an average or a count.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, model_validator

ENGAGEMENT_METRICS = (
    "likes",
    "comments",
    "replies",
    "shares",
    "reposts",
    "retweets",
    "quotes",
    "saves",
)
"""Interactions that count as engagement, under the names connectors report them."""

RATE_BASIS: dict[str, tuple[str, ...]] = {
    "x": ("impressions",),
    "linkedin": ("impressions",),
    "facebook": ("impressions", "reach"),
    "instagram": ("reach", "impressions"),
    "threads": ("views",),
    "pinterest": ("impressions",),
    "youtube": ("views",),
    "tiktok": ("views",),
    "sandbox": ("impressions",),
    # Bluesky and Mastodon report no impressions: engagement per follower.
    "bluesky": ("followers",),
    "mastodon": ("followers",),
}
"""Per network, the denominators of the engagement rate, first one present wins."""
DEFAULT_BASIS = ("impressions", "views", "reach", "followers")

HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})", re.UNICODE)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Delta(BaseModel):
    """A figure for the period, the same figure for the previous one, and the change."""

    current: float
    previous: float
    change: float
    change_pct: float | None


class PostFacts(BaseModel):
    """One published post as reports see it: what it was and how it did."""

    post_id: str
    account_id: str
    network: str
    network_post_id: str
    published_at: datetime
    text: str = ""
    permalink: str | None = None
    content_type: str = "text"
    format: str = "feed"
    hashtags: list[str] = []
    metrics: dict[str, float] = {}
    followers: float | None = None
    engagement: float = 0.0
    engagement_rate: float | None = None

    @model_validator(mode="after")
    def _score(self) -> PostFacts:
        # Computed once here: a year's report groups the same posts many ways.
        self.engagement = engagement(self.metrics)
        self.engagement_rate = engagement_rate(self.network, self.metrics, self.followers)
        return self


def scored_post(**fields: Any) -> PostFacts:
    """A :class:`PostFacts` from trusted fields, skipping validation but not scoring."""
    post = PostFacts.model_construct(**fields)
    post.engagement = engagement(post.metrics)
    post.engagement_rate = engagement_rate(post.network, post.metrics, post.followers)
    return post


class RankedPost(BaseModel):
    """A post in a top or bottom list."""

    post_id: str
    account_id: str
    network: str
    permalink: str | None
    published_at: datetime
    text: str
    engagement: float
    engagement_rate: float | None


class Breakdown(BaseModel):
    """Posts grouped by one attribute: how many, total and average engagement."""

    key: str
    posts: int
    engagement: float
    avg_engagement: float
    avg_engagement_rate: float | None


class Heatmap(BaseModel):
    """Average engagement per post by weekday (0 = Monday) and hour, with post counts."""

    timezone: str
    weekdays: list[str]
    avg_engagement: list[list[float]]
    posts: list[list[int]]
    best: list[tuple[int, int]]


def delta(current: float, previous: float) -> Delta:
    """``current`` against ``previous``; the percentage is undefined from zero."""
    pct = None if previous == 0 else round((current - previous) / abs(previous) * 100, 2)
    return Delta(current=current, previous=previous, change=current - previous, change_pct=pct)


def hashtags_of(text: str) -> list[str]:
    """The distinct hashtags of a text, lower-cased, in order of appearance."""
    seen: dict[str, None] = {}
    for tag in HASHTAG.findall(text):
        seen.setdefault(tag.lower(), None)
    return list(seen)


def content_type_of(media_kinds: Sequence[str], media_count: int, link: str | None) -> str:
    """What a post mainly carries: video, image, link or text."""
    if "video" in media_kinds:
        return "video"
    if media_kinds or media_count:
        return "image" if not media_kinds or "image" in media_kinds else media_kinds[0]
    return "link" if link else "text"


def format_of(declared: str | None, media_count: int) -> str:
    """The post's format: as declared, else a carousel for several media, else feed."""
    if declared:
        return declared
    return "carousel" if media_count > 1 else "feed"


def engagement(metrics: Mapping[str, float]) -> float:
    """Total interactions of a post (or an account over a period)."""
    return float(sum(metrics.get(name, 0.0) for name in ENGAGEMENT_METRICS))


def engagement_rate(
    network: str, metrics: Mapping[str, float], followers: float | None = None
) -> float | None:
    """Engagement over the network's basis, in percent; None when no basis is known."""
    basis = RATE_BASIS.get(network, DEFAULT_BASIS)
    known = {**metrics, **({"followers": followers} if followers else {})}
    for name in basis:
        denominator = known.get(name)
        if denominator and denominator > 0:
            return round(engagement(metrics) / denominator * 100, 4)
    return None


def rank(posts: Iterable[PostFacts], *, top: int = 5) -> tuple[list[RankedPost], list[RankedPost]]:
    """The best and the worst posts by engagement (ties broken by recency)."""
    ordered = sorted(posts, key=lambda p: (p.engagement, p.published_at), reverse=True)
    bottom = list(reversed(ordered[-top:])) if len(ordered) > top else []
    return [_ranked(p) for p in ordered[:top]], [_ranked(p) for p in bottom]


def _ranked(post: PostFacts) -> RankedPost:
    return RankedPost(
        post_id=post.post_id,
        account_id=post.account_id,
        network=post.network,
        permalink=post.permalink,
        published_at=post.published_at,
        text=post.text[:280],
        engagement=post.engagement,
        engagement_rate=post.engagement_rate,
    )


class GroupRow(BaseModel):
    """Sums over a group of posts (from MongoDB's ``$group``, or from posts in memory)."""

    key: str
    posts: int
    engagement: float = 0.0
    rate_sum: float = 0.0
    rated: int = 0

    def add(self, other: GroupRow) -> None:
        """Fold another group's sums into this one (regrouping hours, facets)."""
        self.posts += other.posts
        self.engagement += other.engagement
        self.rate_sum += other.rate_sum
        self.rated += other.rated


def breakdown_of(rows: Iterable[GroupRow]) -> list[Breakdown]:
    """Groups as breakdown rows, best average engagement first."""
    out = [
        Breakdown(
            key=r.key,
            posts=r.posts,
            engagement=r.engagement,
            avg_engagement=round(r.engagement / r.posts, 4) if r.posts else 0.0,
            avg_engagement_rate=round(r.rate_sum / r.rated, 4) if r.rated else None,
        )
        for r in rows
        if r.posts
    ]
    return sorted(out, key=lambda b: (-b.avg_engagement, b.key))


def group_posts(posts: Iterable[PostFacts], key: str) -> list[GroupRow]:
    """:class:`GroupRow` per value of ``key`` (``hashtag``: one per tag, ``slot``: the
    post's UTC hour), as the database groups them."""
    rows: dict[str, GroupRow] = {}
    for post in posts:
        for value in _keys(post, key):
            row = rows.setdefault(value, GroupRow(key=value, posts=0))
            row.posts += 1
            row.engagement += post.engagement
            if post.engagement_rate is not None:
                row.rate_sum += post.engagement_rate
                row.rated += 1
    return list(rows.values())


def _keys(post: PostFacts, key: str) -> list[str]:
    if key == "hashtag":
        return post.hashtags
    if key == "slot":
        return [slot_of(post.published_at)]
    if key in ("content_type", "format", "network", "account_id"):
        return [str(getattr(post, key))]
    raise ValueError(f"unknown breakdown {key!r}")


def breakdown(posts: Iterable[PostFacts], key: str, *, tz: str = "UTC") -> list[Breakdown]:
    """Posts grouped by ``content_type``, ``format``, ``network``, ``hashtag`` or ``hour``."""
    if key == "hour":
        return hours_of(group_posts(posts, "slot"), tz)
    return breakdown_of(group_posts(posts, key))


def slot_of(at: datetime) -> str:
    """The UTC hour a time falls in, ``YYYY-MM-DDTHH`` (how the catalog groups posts)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _local_slot(slot: str, tz: str) -> datetime:
    return local(datetime.strptime(slot, "%Y-%m-%dT%H").replace(tzinfo=UTC), tz)


def hours_of(slots: Iterable[GroupRow], tz: str) -> list[Breakdown]:
    """UTC-hour groups regrouped by hour of day in ``tz`` (exact across DST changes)."""
    hours: dict[str, GroupRow] = {}
    for row in slots:
        hour = f"{_local_slot(row.key, tz).hour:02d}"
        hours.setdefault(hour, GroupRow(key=hour, posts=0)).add(row)
    return breakdown_of(hours.values())


def local(at: datetime, tz: str) -> datetime:
    """``at`` in the IANA zone ``tz`` (validated at the edge)."""
    return at.astimezone(ZoneInfo(tz))


def heatmap_of(slots: Iterable[GroupRow], *, tz: str = "UTC", best: int = 3) -> Heatmap:
    """Average engagement per post in each weekday-by-hour slot of ``tz``, from UTC hours."""
    sums = [[0.0] * 24 for _ in range(7)]
    counts = [[0] * 24 for _ in range(7)]
    for row in slots:
        at = _local_slot(row.key, tz)
        sums[at.weekday()][at.hour] += row.engagement
        counts[at.weekday()][at.hour] += row.posts
    averages = [
        [round(sums[d][h] / counts[d][h], 4) if counts[d][h] else 0.0 for h in range(24)]
        for d in range(7)
    ]
    ranked = [(d, h) for d in range(7) for h in range(24) if counts[d][h]]
    ranked.sort(key=lambda s: (-averages[s[0]][s[1]], s))
    return Heatmap(
        timezone=tz,
        weekdays=list(WEEKDAYS),
        avg_engagement=averages,
        posts=counts,
        best=ranked[:best],
    )


def heatmap(posts: Iterable[PostFacts], *, tz: str = "UTC", best: int = 3) -> Heatmap:
    """:func:`heatmap_of` the posts' UTC hours."""
    return heatmap_of(group_posts(posts, "slot"), tz=tz, best=best)


def series_total(series: Mapping[str, Sequence[tuple[date, float]]]) -> list[tuple[date, float]]:
    """Per day, the sum over accounts of each account's value (a workspace's line)."""
    by_day: dict[date, float] = defaultdict(float)
    for points in series.values():
        for day, value in points:
            by_day[day] += value
    return sorted(by_day.items())


def growth(points: Sequence[tuple[date, float]]) -> float:
    """Net change over a level series (e.g. followers): last value minus first."""
    return points[-1][1] - points[0][1] if len(points) >= 2 else 0.0


def last_values(series: Mapping[str, Sequence[tuple[date, float]]]) -> float:
    """The sum over accounts of each account's latest value (e.g. current followers)."""
    return float(sum(points[-1][1] for points in series.values() if points))
