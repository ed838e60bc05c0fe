"""Report computations: engagement rate per network, rankings, breakdowns, heatmap, inbox."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from siar_analytics.inbox_report import inbox_summary, median_bucket, time_bucket
from siar_analytics.report_service import Scope, join_posts
from siar_analytics.reports import (
    GroupRow,
    PostFacts,
    breakdown,
    breakdown_of,
    content_type_of,
    delta,
    engagement,
    engagement_rate,
    format_of,
    group_posts,
    hashtags_of,
    heatmap,
    heatmap_of,
    hours_of,
    rank,
)
from siar_analytics.series import PostMetrics


def post(n: int, at: datetime, likes: float, **kw: object) -> PostFacts:
    fields: dict[str, object] = {
        "post_id": f"pst_{n}",
        "account_id": "acc_1",
        "network": "x",
        "network_post_id": f"n{n}",
        "published_at": at,
        "metrics": {"likes": likes, "impressions": 100.0},
    }
    fields.update(kw)
    return PostFacts.model_validate(fields)


def test_engagement_counts_interactions_not_views() -> None:
    metrics = {"likes": 5, "comments": 2, "shares": 1, "saves": 1, "impressions": 500, "views": 9}
    assert engagement(metrics) == 9


def test_engagement_rate_uses_each_networks_basis() -> None:
    metrics = {"likes": 10.0, "reposts": 5.0, "impressions": 1000.0}
    assert engagement_rate("x", metrics) == 1.5  # per impression
    # Bluesky has no impressions: per follower.
    assert engagement_rate("bluesky", {"likes": 10.0, "reposts": 5.0}, 300.0) == 5.0
    # Instagram prefers reach over impressions.
    assert engagement_rate("instagram", {"likes": 10.0, "reach": 200.0, "impressions": 1000.0}) == 5
    # No basis at all: unknown, not zero.
    assert engagement_rate("x", {"likes": 3.0}) is None
    assert engagement_rate("mastodon", {"likes": 3.0}, None) is None


def test_delta_has_no_percentage_from_zero() -> None:
    assert delta(12, 10).change_pct == 20.0
    assert delta(5, 0).change_pct is None
    assert delta(5, 0).change == 5


def test_hashtags_content_type_and_format() -> None:
    assert hashtags_of("New #Launch! #launch #café and a#not #x_y") == ["launch", "café", "x_y"]
    assert content_type_of(["image", "video"], 2, None) == "video"
    assert content_type_of([], 1, None) == "image"
    assert content_type_of([], 0, "https://siar.dev") == "link"
    assert content_type_of([], 0, None) == "text"
    assert format_of(None, 3) == "carousel"
    assert format_of("reel", 1) == "reel"
    assert format_of(None, 1) == "feed"


def test_rank_picks_top_and_bottom_without_overlap() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    posts = [post(i, at, float(i)) for i in range(8)]
    top, bottom = rank(posts, top=3)
    assert [p.post_id for p in top] == ["pst_7", "pst_6", "pst_5"]
    assert [p.post_id for p in bottom] == ["pst_0", "pst_1", "pst_2"]
    few_top, few_bottom = rank(posts[:3], top=5)
    assert len(few_top) == 3
    assert few_bottom == []


def test_breakdowns_by_hashtag_and_local_hour() -> None:
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 06:30 next day in Jakarta
    posts = [
        post(1, at, 10, hashtags=["a", "b"]),
        post(2, at, 20, hashtags=["a"]),
        post(3, datetime(2026, 3, 2, 8, tzinfo=UTC), 3, hashtags=[]),
    ]
    tags = {b.key: b for b in breakdown(posts, "hashtag")}
    assert tags["a"].posts == 2
    assert tags["a"].avg_engagement == 15
    assert tags["b"].engagement == 10
    hours = {b.key: b.posts for b in breakdown(posts, "hour", tz="Asia/Jakarta")}
    assert hours == {"06": 2, "15": 1}
    with pytest.raises(ValueError, match="unknown breakdown"):
        breakdown(posts, "colour")


def test_heatmap_averages_per_slot_in_the_zone() -> None:
    monday_9 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    posts = [
        post(1, monday_9, 10),
        post(2, monday_9, 30),
        post(3, datetime(2026, 3, 8, 1, tzinfo=UTC), 5),
    ]
    utc = heatmap(posts)
    assert utc.avg_engagement[0][9] == 20
    assert utc.posts[0][9] == 2
    assert utc.posts[6][1] == 1  # Sunday 01:00
    assert utc.best[0] == (0, 9)
    jakarta = heatmap(posts, tz="Asia/Jakarta")
    assert jakarta.posts[0][16] == 2
    assert sum(map(sum, jakarta.posts)) == 3


def test_utc_hour_groups_regroup_exactly_across_a_dst_change() -> None:
    # Berlin moved from UTC+1 to UTC+2 on 2026-03-29: 08:00 UTC is 09:00, then 10:00.
    slots = group_posts(
        [
            post(1, datetime(2026, 3, 28, 8, tzinfo=UTC), 10),  # Saturday
            post(2, datetime(2026, 3, 30, 8, tzinfo=UTC), 30),  # Monday
        ],
        "slot",
    )
    assert sorted(r.key for r in slots) == ["2026-03-28T08", "2026-03-30T08"]
    hours = {b.key: b.avg_engagement for b in hours_of(slots, "Europe/Berlin")}
    assert hours == {"09": 10, "10": 30}
    berlin = heatmap_of(slots, tz="Europe/Berlin")
    assert (berlin.posts[5][9], berlin.posts[0][10]) == (1, 1)
    assert breakdown_of([GroupRow(key="x", posts=0)]) == []


def test_join_keeps_posts_of_the_period_with_what_the_catalog_knows() -> None:
    inside = datetime(2026, 3, 5, 12, tzinfo=UTC)
    metrics = [
        PostMetrics(
            account_id="acc_1",
            network="x",
            network_post_id=nid,
            post_id=None,
            published_at=at,
            collected_at=inside,
            metrics={"likes": 4.0},
            partial=False,
        )
        for nid, at in (("n1", inside), ("n2", datetime(2026, 1, 1, tzinfo=UTC)), ("n3", None))
    ]
    catalog = [
        {
            "account_id": "acc_1",
            "network_post_id": "n3",
            "post_id": "pst_3",
            "published_ts": inside.timestamp(),
            "hashtags": ["spring"],
            "content_type": "image",
            "format": "feed",
            "text": "#spring",
        }
    ]
    joined = join_posts(metrics, catalog, {"acc_1": 50.0}, date(2026, 3, 1), date(2026, 3, 31))
    assert sorted(p.network_post_id for p in joined) == ["n1", "n3"]
    known = next(p for p in joined if p.network_post_id == "n3")
    assert (known.post_id, known.content_type, known.hashtags) == ("pst_3", "image", ["spring"])
    unknown = next(p for p in joined if p.network_post_id == "n1")
    assert unknown.content_type == "unknown"
    assert join_posts(metrics, catalog, {}, date(2026, 3, 1), date(2026, 3, 31), network="li") == []
    assert Scope().account_id is None


def test_inbox_summary_adds_days_and_accounts() -> None:
    docs = [
        {
            "day": "2026-03-01",
            "received": 4,
            "kinds": {"comment": 3, "dm": 1},
            "sentiment": {"positive": 2, "negative": 1, "unscored": 1},
            "responded": 2,
            "response_s": 600.0,
            "response_h": {"le_5m": 1, "le_15m": 1},
        },
        {
            "day": "2026-03-01",
            "received": 1,
            "kinds": {"comment": 1},
            "sentiment": {"neutral": 1},
            "resolved": 1,
            "resolution_s": 7200.0,
            "resolution_h": {"le_4h": 1},
        },
        {
            "day": "2026-03-02",
            "received": 2,
            "sentiment": {"negative": 2},
            "influencer": 1,
            "reopened": 1,
        },
    ]
    summary = inbox_summary(docs)
    assert summary.received == 7
    assert summary.by_kind == {"comment": 4, "dm": 1}
    assert summary.sentiment == {"positive": 2, "neutral": 1, "negative": 3, "unscored": 1}
    assert summary.avg_first_response_s == 300
    assert summary.median_first_response == "le_5m"
    assert summary.avg_resolution_s == 7200
    assert summary.influencer_messages == 1
    assert summary.reopened == 1
    assert [d.day for d in summary.daily] == ["2026-03-01", "2026-03-02"]
    assert summary.daily[0].net_sentiment == 0.25  # (2 - 1) / 4 scored
    assert summary.daily[1].net_sentiment == -1
    empty = inbox_summary([])
    assert (empty.received, empty.avg_first_response_s, empty.median_first_response) == (
        0,
        None,
        None,
    )


def test_time_buckets() -> None:
    assert time_bucket(0) == "le_5m"
    assert time_bucket(301) == "le_15m"
    assert time_bucket(10 * 86400) == "gt_48h"
    assert median_bucket({"le_5m": 1, "le_1h": 1, "gt_48h": 1}) == "le_1h"
