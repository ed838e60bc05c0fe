"""The overview's post sections as MongoDB aggregations over ``post_scores``.

Four queries over the posts published in a period (an indexed range on
``(workspace_id, published_ts)``), run together:

- a ``$group`` per UTC hour over this period and the previous one: the totals of both
  periods (posts, engagement, average rate), the hour breakdown and the heatmap (hours
  regrouped in the report's zone in Python, exact across DST changes);
- a ``$group`` per ``facets`` key (network, content type, format and hashtags in one
  string, since nx-27017 evaluates only single-field group keys) over this period, split
  in Python into the four breakdowns: a few hundred rows, not one per post;
- the five best and the five worst posts by ``$sort`` + ``$limit``.

Nothing ships a post per row back to Python; see docs/analytics-reports.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document, TenantCollection
from siar_analytics.post_catalog import day_bounds
from siar_analytics.post_scores import SCORES
from siar_analytics.reports import (
    Delta,
    GroupRow,
    RankedPost,
    breakdown_of,
    delta,
    heatmap_of,
    hours_of,
)

TOP = 5
FACETS = ("network", "content_type", "format")
SUMS = {
    "posts": {"$sum": 1},
    "engagement": {"$sum": "$engagement"},
    "rate_sum": {"$sum": "$rate_value"},
    "rated": {"$sum": "$rated"},
}
RANKED_FIELDS = ("post_id", "account_id", "network", "permalink", "published_ts", "engagement")


def _rows(docs: Sequence[Document]) -> list[GroupRow]:
    return [
        GroupRow(
            key=str(d["_id"]),
            posts=int(d["posts"]),
            engagement=float(d["engagement"]),
            rate_sum=float(d["rate_sum"]),
            rated=int(d["rated"]),
        )
        for d in docs
    ]


def _add(into: dict[str, GroupRow], key: str, row: GroupRow) -> None:
    into.setdefault(key, GroupRow(key=key, posts=0)).add(row)


def _sum(rows: Sequence[GroupRow]) -> GroupRow:
    total = GroupRow(key="", posts=0)
    for row in rows:
        total.add(row)
    return total


def split_facets(rows: Sequence[GroupRow]) -> dict[str, list[GroupRow]]:
    """Rows keyed by ``[network, content_type, format, hashtags]`` (JSON) regrouped by
    each attribute, and by each hashtag."""
    groups: dict[str, dict[str, GroupRow]] = {k: {} for k in (*FACETS, "hashtag")}
    for row in rows:
        network, content_type, fmt, hashtags = json.loads(row.key)
        for name, value in zip(FACETS, (network, content_type, fmt), strict=True):
            _add(groups[name], str(value), row)
        for tag in hashtags:
            _add(groups["hashtag"], str(tag), row)
    return {name: list(rows.values()) for name, rows in groups.items()}


def _ranked(doc: Document) -> RankedPost:
    return RankedPost(
        post_id=str(doc["post_id"]),
        account_id=str(doc["account_id"]),
        network=str(doc["network"]),
        permalink=doc.get("permalink"),
        published_at=datetime.fromtimestamp(float(doc["published_ts"]), UTC),
        text="",
        engagement=float(doc["engagement"]),
        engagement_rate=doc.get("rate"),
    )


def _period(total: GroupRow) -> tuple[float, float, int]:
    rate = round(total.rate_sum / total.rated, 4) if total.rated else 0.0
    return total.engagement, rate, total.posts


class ScoreQueries:
    """Reads of the post score documents kept by :class:`~siar_analytics.post_scores.PostScores`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.scores = TenantCollection(db[SCORES])

    async def _aggregate(self, match: Document, *stages: Document) -> list[Document]:
        # One $match with the workspace first, so the (workspace_id, published_ts)
        # index serves it (TenantCollection.aggregate would add a second one).
        cursor = await self.scores.raw.aggregate([{"$match": match}, *stages])
        return await cursor.to_list()

    async def sections(
        self,
        workspace_id: str,
        start: date,
        end: date,
        previous_start: date,
        *,
        account_ids: Sequence[str] | None,
        network: str | None,
        tz: str,
    ) -> dict[str, Any]:
        """The overview's fields about posts (texts of ranked posts left empty)."""
        now = _match(workspace_id, start, end, account_ids, network)
        both = _match(workspace_id, previous_start, end, account_ids, network)
        ranked = {"$project": dict.fromkeys((*RANKED_FIELDS, "rate"), 1)}
        slots, facets, top, bottom = await asyncio.gather(
            self._aggregate(both, {"$group": {"_id": "$slot", **SUMS}}),
            self._aggregate(now, {"$group": {"_id": "$facets", **SUMS}}),
            self._aggregate(
                now, {"$sort": {"engagement": -1, "published_ts": -1}}, {"$limit": TOP}, ranked
            ),
            self._aggregate(
                now, {"$sort": {"engagement": 1, "published_ts": 1}}, {"$limit": TOP}, ranked
            ),
        )
        hours = _rows(slots)
        current = [r for r in hours if r.key[:10] >= start.isoformat()]
        before = [r for r in hours if r.key[:10] < start.isoformat()]
        (eng, rate, posts), (eng_b, rate_b, posts_b) = map(_period, (_sum(current), _sum(before)))
        groups = split_facets(_rows(facets))
        figures: dict[str, Delta] = {
            "engagement": delta(eng, eng_b),
            "engagement_rate": delta(rate, rate_b),
            "posts_published": delta(posts, posts_b),
        }
        return {
            **figures,
            "top_posts": [_ranked(d) for d in top],
            "bottom_posts": [_ranked(d) for d in bottom] if posts > TOP else [],
            "by_network": breakdown_of(groups["network"]),
            "by_content_type": breakdown_of(groups["content_type"]),
            "by_format": breakdown_of(groups["format"]),
            "by_hashtag": breakdown_of(groups["hashtag"])[:25],
            "by_hour": hours_of(current, tz),
            "heatmap": heatmap_of(current, tz=tz),
        }


def _match(
    workspace_id: str,
    start: date,
    end: date,
    account_ids: Sequence[str] | None,
    network: str | None,
) -> Document:
    first, last = day_bounds(start, end)
    match: Document = {
        "workspace_id": workspace_id,
        "published_ts": {"$gte": first, "$lte": last},
        "scored": True,
    }
    if account_ids is not None:
        match["account_id"] = {"$in": list(account_ids)}
    if network is not None:
        match["network"] = network
    return match
