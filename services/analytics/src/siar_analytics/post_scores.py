"""Per-post scores kept as events arrive, so reports group posts in the database.

One ``post_scores`` document per (workspace, account, network post id) joins what the
two sides know about a published post:

``seen``
    From the metrics consumer: the post's latest roll-up (each metric the newest the
    network gave, so late, duplicate and out-of-order snapshots are already resolved
    there), when it was collected, the network, the snapshot's publication time and,
    for networks that rate engagement per follower, the account's followers at that
    collection.
``about``
    From the post catalog (``post.scheduled`` and ``post.published``): the post id,
    content type, format, hashtags, permalink and the publication time.

Whichever side writes second completes the document; each writer reads the document,
replaces its own part and recomputes the derived fields with :func:`score_doc` (one
pure function, also used to seed benchmarks), guarded by ``rev`` like the roll-ups: a
concurrent change makes the write collide and the unit of work is retried. Derived
fields are what reports group by: ``published_ts`` (the catalog's, else the
snapshot's), ``slot`` (UTC hour), ``engagement``, ``rate`` / ``rated`` / ``rate_value``
(``$sum``-able without expressions), ``facets`` (one string key of network, content
type, format and hashtags: nx-27017 does not evaluate a ``$group`` on a document of
field paths) and ``scored`` (metrics and a publication time are both known).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.errors import AnalyticsError
from siar_analytics.reports import (
    DEFAULT_BASIS,
    RATE_BASIS,
    engagement,
    engagement_rate,
    slot_of,
)

SCORES = "post_scores"
SCORE_INDEXES = (IndexSpec(SCORES, [("workspace_id", ASCENDING), ("published_ts", ASCENDING)]),)
ABOUT_FIELDS = ("post_id", "network", "content_type", "format", "hashtags", "permalink")


class ScoreConflict(AnalyticsError):
    """A post score changed between our read and our write; the unit of work retries."""


def score_id(workspace_id: str, account_id: str, network_post_id: str) -> str:
    """The ``_id`` of a post's score document."""
    return f"{workspace_id}|{account_id}|{network_post_id}"


def needs_followers(network: str) -> bool:
    """Whether the network's engagement rate may be per follower (see RATE_BASIS)."""
    return "followers" in RATE_BASIS.get(network, DEFAULT_BASIS)


def about_of(catalog: Mapping[str, Any]) -> Document:
    """The catalog's part of a score document, from a ``post_catalog`` document."""
    about: Document = {k: catalog[k] for k in ABOUT_FIELDS if catalog.get(k) is not None}
    if catalog.get("published_ts") is not None:
        about["published_ts"] = float(catalog["published_ts"])
    return about


def seen_of(latest: Mapping[str, Any], followers: float | None) -> Document:
    """The metrics' part of a score document, from a post's ``latest`` roll-up."""
    last = latest["slots"]["last"]
    return {
        "network": latest["network"],
        "post_id": latest.get("post_id"),
        "published_ts": latest.get("published_ts"),
        "metrics": dict(last.get("m", {})),
        "collected_ts": float(last["ts"]),
        "followers": followers,
    }


def score_doc(
    workspace_id: str,
    account_id: str,
    network_post_id: str,
    *,
    about: Mapping[str, Any] | None,
    seen: Mapping[str, Any] | None,
) -> Document:
    """The whole score document of a post from what each side knows (None: not yet)."""
    about, seen = about or {}, seen or {}
    network = str(seen.get("network") or about.get("network") or "unknown")
    published = about.get("published_ts") or seen.get("published_ts")
    metrics: dict[str, float] = dict(seen.get("metrics") or {})
    rate = engagement_rate(network, metrics, seen.get("followers")) if seen else None
    content_type = str(about.get("content_type") or "unknown")
    fmt = str(about.get("format") or "unknown")
    hashtags = list(about.get("hashtags") or [])
    return {
        "_id": score_id(workspace_id, account_id, network_post_id),
        "workspace_id": workspace_id,
        "account_id": account_id,
        "network_post_id": network_post_id,
        "about": dict(about) or None,
        "seen": dict(seen) or None,
        "network": network,
        "post_id": str(about.get("post_id") or seen.get("post_id") or network_post_id),
        "permalink": about.get("permalink"),
        "published_ts": float(published) if published is not None else None,
        "slot": slot_of(datetime.fromtimestamp(float(published), UTC)) if published else None,
        "content_type": content_type,
        "format": fmt,
        "hashtags": hashtags,
        "facets": json.dumps([network, content_type, fmt, hashtags]),
        "engagement": engagement(metrics),
        "rate": rate,
        "rated": 0 if rate is None else 1,
        "rate_value": rate or 0.0,
        "scored": bool(seen) and published is not None,
    }


class PostScores:
    """Writes post score documents (reads are :mod:`siar_analytics.score_queries`)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.scores = TenantCollection(db[SCORES])

    async def record_seen(
        self, updates: Sequence[tuple[str, str, str, Document]], session: AsyncClientSession
    ) -> None:
        """Replace the metrics' part of posts: (workspace, account, network post id, seen)."""
        await self._apply([(ws, acc, nid, "seen", part) for ws, acc, nid, part in updates], session)

    async def record_about(self, catalog: Mapping[str, Any], session: AsyncClientSession) -> None:
        """Replace the catalog's part of a post, once its network post id is known."""
        if not catalog.get("network_post_id"):
            return  # scheduled, not published yet: nothing to join the metrics with
        key = (str(catalog["workspace_id"]), str(catalog["account_id"]))
        part = about_of(catalog)
        await self._apply([(*key, str(catalog["network_post_id"]), "about", part)], session)

    async def _apply(
        self, changes: Iterable[tuple[str, str, str, str, Document]], s: AsyncClientSession
    ) -> None:
        planned = {
            score_id(ws, acc, nid): (ws, acc, nid, side, part)
            for ws, acc, nid, side, part in changes
        }
        if not planned:
            return
        found = self.scores.raw.find({"_id": {"$in": list(planned)}}, session=s)
        current = {str(d["_id"]): d async for d in found}
        writes = []
        for _id, (ws, acc, nid, side, part) in sorted(planned.items()):
            old = current.get(_id, {})
            parts = {"about": old.get("about"), "seen": old.get("seen"), side: part}
            doc = score_doc(ws, acc, nid, about=parts["about"], seen=parts["seen"])
            rev = int(old.get("rev", 0))
            # Guarded by the rev read (0 matches nothing stored): a concurrent writer
            # makes this upsert collide on _id. The replacement repeats _id, which
            # nx-27017's upserting replace takes from the document, not the filter.
            writes.append(
                ReplaceOne(
                    {"_id": _id, "workspace_id": ws, "rev": rev},
                    {**doc, "rev": rev + 1},
                    upsert=True,
                )
            )
        try:
            await self.scores.raw.bulk_write(writes, ordered=True, session=s)
        except (BulkWriteError, DuplicateKeyError) as err:
            raise ScoreConflict("a post score changed while it was being updated") from err
