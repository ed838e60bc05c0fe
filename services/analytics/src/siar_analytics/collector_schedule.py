"""What to collect and when: accounts and their recent posts, and one lease per account.

``collect_targets`` holds one document per connected account (from account.connected /
account.disconnected), ``collect_posts`` one per published post (from post.published).
Every analytics replica runs a collector; a replica takes an account's *slot* by
leasing its target document (:class:`siar.runtime.leases.Leases` on the target's
``lease_owner``/``lease_until_ts``), so two replicas never collect the same account
at once, and a crashed replica's lease simply runs out. All times are epoch seconds,
which nx-27017 keeps as numbers under ``$set``.

Pacing (rate limits): a round costs one call for the account and one per recent post.
The next round is due after ``interval_s``, or later if the round's calls would
otherwise exceed ``budget_share`` of the network's per-account limit: the publisher
and the inbox need the rest of it. A network that still answers "rate limited" pushes
the next round past its ``retry_after``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.connectors import RateLimit
from siar.contracts import AccountConnected, AccountDisconnected, PostPublished
from siar.runtime.leases import Leases
from siar.runtime.mongo import Document, IndexSpec

TARGETS = "collect_targets"
POSTS = "collect_posts"

SCHEDULE_INDEXES = (
    IndexSpec(TARGETS, [("active", ASCENDING), ("next_ts", ASCENDING)]),
    IndexSpec(
        POSTS,
        [("workspace_id", ASCENDING), ("account_id", ASCENDING), ("published_ts", ASCENDING)],
    ),
)


@dataclass(frozen=True)
class Pacing:
    """How often an account is collected, and what share of its rate limit that may use."""

    interval_s: float = 3600.0
    budget_share: float = 0.2
    post_window_days: float = 30.0
    max_posts: int = 100
    lease_s: float = 300.0
    after_publish_s: float = 600.0

    def next_due(self, now: float, calls: int, limit: RateLimit | None) -> float:
        """When the next round may start after a round of ``calls`` calls."""
        spacing = self.interval_s
        if limit is not None and limit.calls > 0:
            allowed_per_s = self.budget_share * limit.calls / limit.per_seconds
            spacing = max(spacing, calls / allowed_per_s)
        return now + spacing


def target_id(workspace_id: str, account_id: str) -> str:
    """``_id`` of an account's collection target."""
    return f"{workspace_id}|{account_id}"


class CollectorSchedule:
    """The targets' documents: connects, disconnects, published posts and leases."""

    def __init__(self, db: AsyncDatabase[Document], pacing: Pacing) -> None:
        self.targets = db[TARGETS]
        self.posts = db[POSTS]
        self.pacing = pacing

    async def connected(self, event: AccountConnected) -> None:
        """Start (or resume) collecting an account, due at once; older events lose."""
        _id = target_id(event.workspace_id, event.account_id)
        with contextlib.suppress(DuplicateKeyError):
            # Plain insert first: nx-27017 ignores _id in $setOnInsert (docs/embedded-stack.md).
            await self.targets.insert_one(
                {
                    "_id": _id,
                    "workspace_id": event.workspace_id,
                    "account_id": event.account_id,
                    "changed_ts": 0.0,
                    "lease_until_ts": 0.0,
                    "backfilled": False,
                }
            )
        changed = event.occurred_at.timestamp()
        await self.targets.update_one(
            {"_id": _id, "changed_ts": {"$lte": changed}},
            {
                "$set": {
                    "network": event.network,
                    "handle": event.handle,
                    "active": True,
                    "next_ts": time.time(),
                    "changed_ts": changed,
                }
            },
        )

    async def disconnected(self, event: AccountDisconnected) -> None:
        """Stop collecting an account (unless it was reconnected after this event)."""
        await self.targets.update_one(
            {
                "_id": target_id(event.workspace_id, event.account_id),
                "changed_ts": {"$lte": event.occurred_at.timestamp()},
            },
            {"$set": {"active": False, "changed_ts": event.occurred_at.timestamp()}},
        )

    async def published(self, event: PostPublished) -> None:
        """Remember a published post, so its metrics are collected for a while; its
        account is due ``after_publish_s`` after publication at the latest (a first look)."""
        await self.posts.update_one(
            {"_id": f"{event.workspace_id}|{event.account_id}|{event.network_post_id}"},
            {
                "$set": {
                    "workspace_id": event.workspace_id,
                    "account_id": event.account_id,
                    "network": event.network,
                    "network_post_id": event.network_post_id,
                    "post_id": event.post_id,
                    "published_ts": event.published_at.timestamp(),
                    "recorded_ts": time.time(),
                }
            },
            upsert=True,
        )
        # After the post is known, so the round this brings forward includes it.
        first_look = event.published_at.timestamp() + self.pacing.after_publish_s
        await self.targets.update_one(
            {"_id": target_id(event.workspace_id, event.account_id)},
            {"$min": {"next_ts": first_look}},
        )

    def leases(self, owner: str) -> Leases:
        """``owner``'s leases on the targets (each target document carries its own)."""
        return Leases(
            self.targets,
            lease_s=self.pacing.lease_s,
            holder=owner,
            holder_field="lease_owner",
            until_field="lease_until_ts",
        )

    async def lease_due(self, owner: str, now: float | None = None) -> Document | None:
        """Take the most overdue account nobody holds; None when none is due."""
        now = time.time() if now is None else now
        return await self.leases(owner).take_due(
            {"active": True, "next_ts": {"$lte": now}}, sort=[("next_ts", ASCENDING)], now=now
        )

    async def recent_posts(self, target: Document, now: float) -> list[Document]:
        """The account's posts published within the window, newest first, capped; posts
        past the window are forgotten (their last figures stay in the roll-ups)."""
        since = now - self.pacing.post_window_days * 86400
        account = {"workspace_id": target["workspace_id"], "account_id": target["account_id"]}
        await self.posts.delete_many({**account, "published_ts": {"$lt": since}})
        query = {**account, "published_ts": {"$gte": since}}
        cursor = self.posts.find(query, sort=[("published_ts", -1)], limit=self.pacing.max_posts)
        return await cursor.to_list()

    async def release(
        self,
        target: Document,
        *,
        owner: str,
        next_ts: float,
        outcome: Document,
        started_ts: float,
    ) -> None:
        """Give the slot back with its next due time and how the round went."""
        await self.leases(owner).release(target["_id"], also={"next_ts": next_ts, **outcome})
        # A post recorded while the round ran may have been missed, and its first look
        # (brought forward by published()) was just overwritten: bring it forward again.
        # Checked after the write, so a post recorded later brings it forward itself.
        late = await self.posts.find(
            {
                "workspace_id": target["workspace_id"],
                "account_id": target["account_id"],
                "recorded_ts": {"$gte": started_ts},
            },
            projection={"published_ts": 1},
        ).to_list()
        if late:
            first = min(float(p["published_ts"]) for p in late) + self.pacing.after_publish_s
            await self.targets.update_one({"_id": target["_id"]}, {"$min": {"next_ts": first}})

    async def due_in(self, now: float) -> float | None:
        """Seconds until the next account falls due (0 if one is), None if none is active."""
        doc = await self.targets.find_one(
            {"active": True}, sort=[("next_ts", ASCENDING)], projection={"next_ts": 1}
        )
        return None if doc is None else max(0.0, float(doc["next_ts"]) - now)


def published_at_of(post: Document) -> datetime | None:
    """A tracked post's publication time, as an aware datetime."""
    ts = post.get("published_ts")
    return datetime.fromtimestamp(float(ts), UTC) if ts is not None else None
