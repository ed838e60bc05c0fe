"""Research storage: tracked items, the public mentions found, competitors' daily figures.

Times that queries compare (next poll, lease, a mention's post time) are epoch
seconds: nx-27017 turns a datetime given to ``$set`` on an existing document into a
string, and numbers compare the same on every server.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from siar.connectors import PublicPost, PublicProfile
from siar.runtime.leases import Leases
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.post_catalog import day_bounds
from siar_analytics.research import TrackedItem

RESEARCH_INDEXES = (
    IndexSpec("research_items", [("workspace_id", ASCENDING), ("id", ASCENDING)], unique=True),
    IndexSpec("research_items", [("next_poll_ts", ASCENDING)]),
    IndexSpec(
        "research_mentions",
        [("workspace_id", ASCENDING), ("item_id", ASCENDING), ("network_post_id", ASCENDING)],
        unique=True,
    ),
    IndexSpec(
        "research_mentions",
        [("workspace_id", ASCENDING), ("posted_ts", ASCENDING)],
    ),
    IndexSpec(
        "research_profiles",
        [("workspace_id", ASCENDING), ("item_id", ASCENDING), ("day", ASCENDING)],
        unique=True,
    ),
)
DUPLICATE_KEY = 11000


class ResearchStore:
    """Tracked items with their polling state, mentions and competitor snapshots."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.items = TenantCollection(db["research_items"])
        self.mentions = TenantCollection(db["research_mentions"])
        self.profiles = TenantCollection(db["research_profiles"])

    # -- items ---------------------------------------------------------------------------
    async def add(self, item: TrackedItem) -> None:
        """Store a new item, due for its first poll now."""
        doc = item.model_dump()
        doc.update(next_poll_ts=0.0, lease_until_ts=0.0, cursor_ts=None)
        await self.items.insert(item.workspace_id, doc)

    async def all(self, workspace_id: str) -> list[TrackedItem]:
        """Every item of a workspace, oldest first."""
        docs = await self.items.find(workspace_id, {}, sort=[("created_at", ASCENDING)])
        return [TrackedItem.model_validate(d) for d in docs]

    async def get(self, workspace_id: str, item_id: str) -> TrackedItem | None:
        """One item, or None."""
        doc = await self.items.find_one(workspace_id, {"id": item_id})
        return TrackedItem.model_validate(doc) if doc else None

    async def count(self, workspace_id: str) -> int:
        """How many items a workspace tracks."""
        return await self.items.count(workspace_id)

    async def remove(self, workspace_id: str, item_id: str) -> bool:
        """Stop tracking an item (its collected figures stay for past reports)."""
        return await self.items.delete_one(workspace_id, {"id": item_id}) == 1

    def leases(self, holder: str, lease_s: float) -> Leases:
        """``holder``'s leases on the items (each item document carries its own)."""
        return Leases(
            self.items.raw,
            lease_s=lease_s,
            holder=holder,
            holder_field="lease_owner",
            until_field="lease_until_ts",
        )

    async def claim_due(self, leases: Leases, now: float) -> Document | None:
        """Take the lease on one item due for polling, across workspaces (one replica wins)."""
        return await leases.take_due(
            {"next_poll_ts": {"$lte": now}}, sort=[("next_poll_ts", ASCENDING)], now=now
        )

    async def polled(
        self,
        leases: Leases,
        doc: Document,
        *,
        next_ts: float,
        cursor_ts: float | None,
        error: str | None,
    ) -> None:
        """Record a poll's outcome and release the lease (whole document: datetimes stay)."""
        updated = {
            **doc,
            "next_poll_ts": next_ts,
            "cursor_ts": cursor_ts,
            "last_error": error,
            "last_polled_at": datetime.now(UTC),
        }
        await leases.release_replacing(doc["_id"], updated)

    # -- collected figures ---------------------------------------------------------------
    async def add_mentions(self, item: TrackedItem, posts: Sequence[PublicPost]) -> int:
        """Store newly found posts; ones already stored for the item are skipped."""
        if not posts:
            return 0
        docs = [
            {
                "workspace_id": item.workspace_id,
                "item_id": item.id,
                "network_post_id": p.network_post_id,
                "author_handle": p.author_handle,
                "text": p.text[:1000],
                "url": p.url,
                "posted_ts": p.posted_at.timestamp(),
                "day": (day := p.posted_at.astimezone(UTC).date().isoformat()),
                # One grouping key: nx-27017 does not evaluate a document-valued $group _id.
                "item_day": f"{item.id}|{day}",
                "engagement": p.likes + p.reposts + p.replies,
            }
            for p in posts
        ]
        try:
            result = await self.mentions.raw.insert_many(docs, ordered=False)
            return len(result.inserted_ids)
        except BulkWriteError as err:
            # Overlapping search pages find the same posts again: those are duplicates.
            if any(e.get("code") != DUPLICATE_KEY for e in err.details.get("writeErrors", [])):
                raise
            return int(err.details.get("nInserted", 0))

    async def add_profile(self, item: TrackedItem, profile: PublicProfile) -> None:
        """Keep the competitor's figures of the day (the latest poll of a day wins)."""
        day = profile.collected_at.astimezone(UTC).date().isoformat()
        await self.profiles.update_one(
            item.workspace_id,
            {"item_id": item.id, "day": day},
            {"$set": {f"metrics.{k}": v for k, v in profile.metrics.items()}},
            upsert=True,
        )

    async def recent_mentions(self, item: TrackedItem, limit: int) -> list[Document]:
        """The newest mentions found for an item."""
        return await self.mentions.find(
            item.workspace_id,
            {"item_id": item.id},
            sort=[("posted_ts", DESCENDING)],
            limit=limit,
            projection={"_id": 0, "workspace_id": 0},
        )

    async def daily_mentions(
        self, workspace_id: str, start: date, end: date
    ) -> dict[str, dict[str, tuple[int, float]]]:
        """Per item and UTC day: mentions found and their engagement."""
        first, last = day_bounds(start, end)
        rows = await self.mentions.aggregate(
            workspace_id,
            [
                {"$match": {"posted_ts": {"$gte": first, "$lte": last}}},
                {
                    "$group": {
                        "_id": "$item_day",
                        "n": {"$sum": 1},
                        "engagement": {"$sum": "$engagement"},
                    }
                },
            ],
        )
        out: dict[str, dict[str, tuple[int, float]]] = defaultdict(dict)
        for row in rows:
            item_id, _, day = str(row["_id"]).rpartition("|")
            out[item_id][day] = (int(row["n"]), float(row["engagement"]))
        return out

    async def followers(
        self, workspace_id: str, start: date, end: date
    ) -> dict[str, list[tuple[str, float]]]:
        """Per competitor item, its followers per day of [start, end]."""
        docs = await self.profiles.find(
            workspace_id,
            {"day": {"$gte": start.isoformat(), "$lte": end.isoformat()}},
            sort=[("day", ASCENDING)],
        )
        out: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for doc in docs:
            value = (doc.get("metrics") or {}).get("followers")
            if isinstance(value, int | float):
                out[str(doc["item_id"])].append((str(doc["day"]), float(value)))
        return out
