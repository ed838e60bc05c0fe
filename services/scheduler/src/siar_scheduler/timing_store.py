"""Storage of queues and best-time data: posting schedules, per-post engagement, followers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_scheduler.besttime import Sample
from siar_scheduler.domain import PostStatus
from siar_scheduler.queues import QueueSchedule

TIMING_INDEXES = (
    IndexSpec("queues", [("workspace_id", ASCENDING), ("account_id", ASCENDING)], unique=True),
    IndexSpec(
        "post_stats",
        [("workspace_id", ASCENDING), ("account_id", ASCENDING), ("published_ts", ASCENDING)],
    ),
    IndexSpec("queue_claims", [("workspace_id", ASCENDING), ("claimed_ts", ASCENDING)]),
)

HOLDS_A_SLOT = [
    PostStatus.SCHEDULED.value,
    PostStatus.IN_REVIEW.value,
    PostStatus.CHANGES_REQUESTED.value,
]
"""Posts that occupy their queue slot: scheduled, or waiting for approval of that time."""

MAX_TAKEN = 10_000

CLAIM_TTL_S = 60.0
"""A queue slot claim holds its slot this long; after that only a stored post holds it."""


def claim_key(workspace_id: str, account_id: str, at: datetime) -> str:
    """The ``queue_claims`` id of one account's slot: one claim per slot, whoever claims it."""
    return f"{workspace_id}|{account_id}|{at.timestamp():.0f}"


def claimed_slot(key: str) -> tuple[str, str, datetime]:
    """The workspace, account and slot of a ``queue_claims`` id (see :func:`claim_key`)."""
    workspace_id, account_id, ts = key.split("|")
    return workspace_id, account_id, datetime.fromtimestamp(int(ts), UTC)


class TimingStore:
    """Queues, per-post engagement samples and follower counts, scoped to a workspace."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.queues = TenantCollection(db["queues"])
        self.stats = TenantCollection(db["post_stats"])
        self.followers = TenantCollection(db["account_stats"])
        self.posts = TenantCollection(db["posts"])
        self.claims = TenantCollection(db["queue_claims"])

    async def queue(self, workspace_id: str, account_id: str) -> QueueSchedule | None:
        """The account's posting schedule, if it has one."""
        doc = await self.queues.find_one(workspace_id, {"account_id": account_id})
        return QueueSchedule.model_validate(doc) if doc else None

    async def save_queue(self, workspace_id: str, account_id: str, queue: QueueSchedule) -> None:
        """Replace the account's posting schedule."""
        await self.queues.update_one(
            workspace_id,
            {"account_id": account_id},
            {"$set": {**queue.model_dump(), "account_id": account_id, "updated_ts": time.time()}},
            upsert=True,
        )

    async def taken(
        self, workspace_id: str, account_ids: list[str], start: datetime, end: datetime
    ) -> set[datetime]:
        """Times in [start, end) already held by a post to any of these accounts."""
        docs = await self.posts.find(
            workspace_id,
            {
                # $elemMatch, not a dotted path: nx-27017 matches no $in through arrays.
                "targets": {"$elemMatch": {"account_id": {"$in": account_ids}}},
                "status": {"$in": HOLDS_A_SLOT},
                "scheduled_at": {"$gte": start, "$lt": end},
            },
            projection={"scheduled_at": 1},
            limit=MAX_TAKEN,
        )
        return {d["scheduled_at"].astimezone(UTC) for d in docs}

    async def published_at(
        self, workspace_id: str, account_id: str, network_post_id: str
    ) -> datetime | None:
        """When this account's post with that network id was published, if it was ours.

        Unindexed beyond the workspace on purpose: on nx-27017 a multikey index on
        ``targets`` made every dispatch write ~5x slower (tests/bench/bench_scheduler_spike.py).
        """
        doc = await self.posts.find_one(
            workspace_id,
            {
                "targets": {
                    "$elemMatch": {"network_post_id": network_post_id, "account_id": account_id}
                }
            },
        )
        for target in (doc or {}).get("targets", []):
            if (
                target.get("account_id") == account_id
                and target.get("network_post_id") == network_post_id
            ):
                at = target.get("published_at") or target.get("dispatched_at")
                return datetime.fromisoformat(at) if isinstance(at, str) else at
        return None

    async def save_sample(self, workspace_id: str, key: str, doc: dict[str, Any]) -> None:
        """Keep the latest snapshot per post: an older one never overwrites a newer one."""
        full = {**doc, "_id": key, "workspace_id": workspace_id}
        try:
            await self.stats.raw.insert_one(full)
        except DuplicateKeyError:
            await self.stats.replace_one(
                workspace_id, {"_id": key, "collected_ts": {"$lt": doc["collected_ts"]}}, full
            )

    async def samples(self, workspace_id: str, account_id: str, since_ts: float) -> list[Sample]:
        """Engagement samples of the account's posts published since ``since_ts``."""
        docs = await self.stats.find(
            workspace_id,
            {"account_id": account_id, "published_ts": {"$gte": since_ts}},
            limit=MAX_TAKEN,
        )
        return [
            Sample(
                published_at=datetime.fromtimestamp(d["published_ts"], UTC),
                engagement=float(d["engagement"]),
            )
            for d in docs
        ]

    async def save_followers(self, workspace_id: str, account_id: str, followers: float) -> None:
        """The account's latest follower count (engagement per follower needs it)."""
        await self.followers.update_one(
            workspace_id,
            {"account_id": account_id},
            {"$set": {"account_id": account_id, "followers": followers}},
            upsert=True,
        )

    async def follower_count(self, workspace_id: str, account_id: str) -> float | None:
        """The account's latest follower count, if any snapshot carried one."""
        doc = await self.followers.find_one(workspace_id, {"account_id": account_id})
        return float(doc["followers"]) if doc and doc.get("followers") else None

    async def claim_slot(self, workspace_id: str, account_ids: list[str], at: datetime) -> bool:
        """Claim ``at`` for these accounts, so two concurrent "add to queue" calls never
        pick the same slot; a claim older than :data:`CLAIM_TTL_S` may be taken over
        (its post, if it was created, holds the slot by itself)."""
        now = time.time()
        keys = [claim_key(workspace_id, a, at) for a in account_ids]
        won: list[str] = []
        for key in keys:
            doc = {"_id": key, "claimed_ts": now}
            try:
                await self.claims.insert(workspace_id, doc)
            except DuplicateKeyError:
                stale = {"_id": key, "claimed_ts": {"$lt": now - CLAIM_TTL_S}}
                if not await self.claims.replace_one(workspace_id, stale, doc):
                    await self._release(workspace_id, won, now)
                    return False
            won.append(key)
        return True

    async def _release(self, workspace_id: str, keys: list[str], claimed_ts: float) -> None:
        for key in keys:
            await self.claims.delete_one(workspace_id, {"_id": key, "claimed_ts": claimed_ts})

    async def claimed(self, workspace_id: str, account_ids: list[str]) -> set[datetime]:
        """Slots claimed within :data:`CLAIM_TTL_S` for any of these accounts."""
        docs = await self.claims.find(
            workspace_id, {"claimed_ts": {"$gte": time.time() - CLAIM_TTL_S}}, limit=MAX_TAKEN
        )
        wanted = set(account_ids)
        found: set[datetime] = set()
        for doc in docs:
            _, account, at = claimed_slot(str(doc["_id"]))
            if account in wanted:
                found.add(at)
        return found
