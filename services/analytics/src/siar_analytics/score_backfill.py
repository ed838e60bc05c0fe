"""Score documents for posts stored before ``post_scores`` existed, built once.

The overview reads posts only from ``post_scores``; a database that already held post
roll-ups and catalog entries would otherwise show no posts for past periods (old posts
are no longer collected, so the consumer never scores them). At start-up each replica
runs :func:`backfill` in the background: unless the marker says it was done, it joins
every post's ``latest`` roll-up with its catalog entry and its account's followers
(:func:`siar_analytics.post_scores.score_doc`, as the consumer would) and inserts the
documents that do not exist yet. An insert never overwrites: a document the consumer
or a catalog handler wrote meanwhile is newer and wins (a duplicate key is skipped),
and a consumer write racing an insert collides on ``rev`` and is retried.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from siar.runtime.mongo import Document
from siar_analytics.post_scores import (
    SCORES,
    about_of,
    needs_followers,
    score_doc,
    score_id,
    seen_of,
)
from siar_analytics.series_store import BUCKETS, LAST_SLOT, LATEST

log = logging.getLogger(__name__)
MARKER = "post_scores_backfill_v1"
CHUNK = 1000


async def backfill(db: AsyncDatabase[Document]) -> int:
    """Insert the missing score documents of every workspace; returns how many."""
    marks = db["analytics_migrations"]
    if await marks.find_one({"_id": MARKER}):
        return 0
    have = {str(d["_id"]) async for d in db[SCORES].find({}, {"_id": 1})}
    accounts = db[BUCKETS].find({"grain": LATEST, "scope": "account"})
    followers: dict[tuple[str, str], Any] = {
        (d["workspace_id"], d["account_id"]): d["slots"][LAST_SLOT].get("m", {}).get("followers")
        async for d in accounts
    }
    catalog = db["post_catalog"].find({"network_post_id": {"$ne": None}}, {"text": 0})
    about = {
        (d["workspace_id"], d["account_id"], d.get("network_post_id")): d async for d in catalog
    }
    docs: list[Document] = []
    inserted = 0
    async for post in db[BUCKETS].find({"grain": LATEST, "scope": "post"}):
        ws, account, nid = post["workspace_id"], post["account_id"], post["network_post_id"]
        if score_id(ws, account, nid) in have:
            continue
        entry = about.get((ws, account, nid))
        rated_per_follower = needs_followers(str(post["network"]))
        seen = seen_of(post, followers.get((ws, account)) if rated_per_follower else None)
        doc = score_doc(ws, account, nid, about=about_of(entry) if entry else None, seen=seen)
        docs.append({**doc, "rev": 1})
        if len(docs) >= CHUNK:
            inserted += await _insert(db, docs)
            docs = []
    inserted += await _insert(db, docs)
    # _id repeated in the replacement: nx-27017's upserting replace ignores the filter's.
    await marks.replace_one({"_id": MARKER}, {"_id": MARKER, "inserted": inserted}, upsert=True)
    if inserted:
        log.info("scored %d posts stored before post scores existed", inserted)
    return inserted


async def run_backfill(db: AsyncDatabase[Document]) -> None:
    """:func:`backfill`, logged instead of raised: a replica keeps serving without it,
    and the next start tries again (the marker is written only on success)."""
    try:
        await backfill(db)
    except Exception:
        log.exception("post score backfill failed; it runs again at the next start")


async def _insert(db: AsyncDatabase[Document], docs: list[Document]) -> int:
    if not docs:
        return 0
    try:
        result = await db[SCORES].insert_many(docs, ordered=False)
        return len(result.inserted_ids)
    except BulkWriteError as err:  # written meanwhile by the consumer: theirs is newer
        return int(err.details.get("nInserted", 0))
