"""Score documents: what each side knows, joined; group keys that split back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from siar_analytics.post_scores import about_of, score_doc, seen_of
from siar_analytics.reports import GroupRow
from siar_analytics.score_queries import split_facets

TS = datetime(2026, 3, 4, 9, 30, tzinfo=UTC).timestamp()
LATEST = {
    "network": "instagram",
    "post_id": None,
    "published_ts": None,
    "slots": {"last": {"m": {"likes": 8.0, "saves": 2.0, "reach": 200.0}, "ts": TS + 60}},
}
CATALOG = {
    "post_id": "pst_1",
    "network": "instagram",
    "content_type": "video",
    "format": "reel",
    "hashtags": ["spring"],
    "permalink": "https://example.invalid/p/1",
    "published_ts": TS,
    "text": "not copied",
}


def test_metrics_alone_are_not_scored_until_the_publication_time_is_known() -> None:
    doc = score_doc("ws", "acc", "n1", about=None, seen=seen_of(LATEST, None))
    assert doc["scored"] is False
    assert (doc["engagement"], doc["rate"], doc["rated"]) == (10.0, 5.0, 1)  # per reach
    assert (doc["content_type"], doc["format"], doc["post_id"]) == ("unknown", "unknown", "n1")


def test_both_sides_make_a_scored_document_keyed_for_grouping() -> None:
    doc = score_doc("ws", "acc", "n1", about=about_of(CATALOG), seen=seen_of(LATEST, None))
    assert doc["scored"] is True
    assert (doc["post_id"], doc["published_ts"], doc["slot"]) == ("pst_1", TS, "2026-03-04T09")
    assert json.loads(doc["facets"]) == ["instagram", "video", "reel", ["spring"]]
    assert "text" not in doc["about"]


def test_a_catalog_entry_alone_has_no_engagement_rate() -> None:
    doc = score_doc("ws", "acc", "n1", about=about_of(CATALOG), seen=None)
    assert (doc["scored"], doc["rate"], doc["rated"], doc["rate_value"]) == (False, None, 0, 0.0)


def test_facet_groups_split_into_each_breakdown() -> None:
    rows = [
        GroupRow(key=json.dumps(["x", "text", "feed", ["a", "b"]]), posts=2, engagement=10.0),
        GroupRow(key=json.dumps(["x", "image", "feed", ["a"]]), posts=1, engagement=4.0, rated=1),
    ]
    groups = split_facets(rows)
    by = {name: {r.key: (r.posts, r.engagement) for r in rows} for name, rows in groups.items()}
    assert by["network"] == {"x": (3, 14.0)}
    assert by["content_type"] == {"text": (2, 10.0), "image": (1, 4.0)}
    assert by["hashtag"] == {"a": (3, 14.0), "b": (2, 10.0)}
