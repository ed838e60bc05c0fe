"""Metric storage: raw snapshots, and hourly, daily and latest roll-ups kept as they arrive.

Two collections (see docs/analytics-storage.md for the why):

``metric_snapshots``
    Every ``metrics.collected`` as it came, ``_id`` = the event id (a redelivery is a
    no-op). ``collected_at`` is an inserted datetime (nx-27017 keeps those), with
    ``collected_ts`` beside it for range queries; kept for :data:`SNAPSHOT_TTL_S`.

``metric_buckets``
    Bucketed roll-ups, one document per (series, grain, period):

    - ``grain="hour"``: ``period`` a UTC day "YYYY-MM-DD", ``slots`` "00".."23";
    - ``grain="day"``: ``period`` a UTC month "YYYY-MM", ``slots`` "01".."31";
    - ``grain="latest"``: ``period`` "-", one slot "last": the series' current values
      (and, for an account, its current audience dimensions).

    A slot is :data:`siar_analytics.rollups.Slot`. Documents carry ``workspace_id``,
    ``account_id``, ``network``, ``scope`` ("account" | "post"), ``series``,
    ``network_post_id``, ``post_id``, ``published_ts`` (epoch, posts), ``collected_ts``
    (newest snapshot in the document) and ``rev`` (optimistic concurrency).

A snapshot is applied by reading its three documents, merging in Python
(:func:`siar_analytics.rollups.merge`) and writing back only those that changed with
one bulk of whole-document replaces guarded by ``rev``: whole documents because
nx-27017 cannot run update pipelines, and ``rev`` so that two consumers briefly
holding the same partition during a rebalance cannot lose each other's update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from siar.contracts import MetricsCollected
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.errors import AnalyticsError
from siar_analytics.post_scores import PostScores, needs_followers, seen_of
from siar_analytics.rollups import GRAINS, Reading, bucket_of, merge, series_key

SNAPSHOTS = "metric_snapshots"
BUCKETS = "metric_buckets"
LATEST = "latest"
LAST_SLOT = "last"
SNAPSHOT_TTL_S = 400 * 24 * 3600

SERIES_INDEXES = (
    IndexSpec(
        SNAPSHOTS,
        [("workspace_id", ASCENDING), ("series", ASCENDING), ("collected_ts", ASCENDING)],
    ),
    IndexSpec(
        SNAPSHOTS,
        [("collected_at", ASCENDING)],
        name="snapshots_ttl",
        options={"expireAfterSeconds": SNAPSHOT_TTL_S},
    ),
    IndexSpec(
        BUCKETS,
        [
            ("workspace_id", ASCENDING),
            ("account_id", ASCENDING),
            ("grain", ASCENDING),
            ("period", ASCENDING),
        ],
    ),
    IndexSpec(
        BUCKETS,
        [("workspace_id", ASCENDING), ("grain", ASCENDING), ("collected_ts", ASCENDING)],
    ),
    # Reports pick posts by publication time from the latest documents.
    IndexSpec(
        BUCKETS,
        [("workspace_id", ASCENDING), ("grain", ASCENDING), ("published_ts", ASCENDING)],
    ),
)


class RollupConflict(AnalyticsError):
    """Another consumer changed a roll-up between our read and our write; retry."""


def bucket_id(workspace_id: str, grain: str, series: str, period: str) -> str:
    """The ``_id`` of a roll-up document."""
    return f"{workspace_id}|{grain}|{series}|{period}"


def reading_of(event: MetricsCollected) -> Reading:
    """The roll-up view of a snapshot."""
    return Reading(
        ts=event.collected_at.timestamp(),
        metrics=event.metrics,
        partial=event.partial,
        dimensions=event.dimensions,
    )


def series_of(event: MetricsCollected) -> str:
    """The series a snapshot belongs to."""
    return series_key(event.account_id, event.scope, event.network_post_id)


def targets_of(event: MetricsCollected) -> dict[str, tuple[str, str]]:
    """(period, slot) of the snapshot in each roll-up: its hour (unless it is history),
    its day and the latest."""
    targets = {LATEST: ("-", LAST_SLOT)}
    grains = ("day",) if event.history else GRAINS  # a past day's figures say nothing hourly
    targets.update({grain: bucket_of(grain, event.collected_at) for grain in grains})
    return targets


def snapshot_doc(event: MetricsCollected) -> Document:
    """The raw snapshot document of an event."""
    return {
        "_id": str(event.event_id),
        "workspace_id": event.workspace_id,
        "account_id": event.account_id,
        "network": event.network,
        "scope": event.scope,
        "series": series_of(event),
        "network_post_id": event.network_post_id,
        "post_id": event.post_id,
        "collected_at": event.collected_at,
        "collected_ts": event.collected_at.timestamp(),
        "metrics": dict(event.metrics),
        "dimensions": event.dimensions,
        "partial": event.partial,
    }


def rolled_up(
    event: MetricsCollected,
    grain: str,
    period: str,
    slot: str,
    merged: dict[str, Any],
    doc: Document | None,
) -> Document:
    """The roll-up document ``doc`` (None: new) with ``slot`` replaced by ``merged``."""
    old = doc or {}
    slots = {**old.get("slots", {}), slot: merged}
    published = event.published_at.timestamp() if event.published_at else None
    return {
        "workspace_id": event.workspace_id,
        "account_id": event.account_id,
        "network": event.network,
        "scope": event.scope,
        "series": series_of(event),
        "network_post_id": event.network_post_id,
        "post_id": event.post_id or old.get("post_id"),
        "published_ts": published or old.get("published_ts"),
        "grain": grain,
        "period": period,
        "collected_ts": max(float(s["ts"]) for s in slots.values()),
        "slots": slots,
    }


class SeriesStore:
    """Raw metric snapshots and their roll-ups."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.snapshots = TenantCollection(db[SNAPSHOTS])
        self.buckets = TenantCollection(db[BUCKETS])
        self.scores = PostScores(db)

    async def record(self, event: MetricsCollected, session: AsyncClientSession) -> int:
        """Store a snapshot and fold it into its roll-ups; 1 if stored, 0 if seen before."""
        return len(await self.record_many([event], session))

    async def record_many(
        self, events: Sequence[MetricsCollected], session: AsyncClientSession
    ) -> list[MetricsCollected]:
        """Store snapshots not stored before (``_id`` = event id) and fold them into their
        roll-ups, each touched document read and written once; returns the new ones."""
        unique = {str(e.event_id): e for e in events}
        seen = self.snapshots.raw.find(
            {"_id": {"$in": list(unique)}}, projection={"_id": 1}, session=session
        )
        for stored in await seen.to_list():
            unique.pop(str(stored["_id"]), None)
        fresh = list(unique.values())
        if not fresh:
            return []
        await self.snapshots.raw.insert_many(
            [snapshot_doc(e) for e in fresh], ordered=True, session=session
        )
        plans = [(e, grain, *place) for e in fresh for grain, place in targets_of(e).items()]
        ids = {bucket_id(e.workspace_id, g, series_of(e), p) for e, g, p, _ in plans}
        found = self.buckets.raw.find({"_id": {"$in": list(ids)}}, session=session)
        current: dict[str, Document] = {str(d["_id"]): d async for d in found}
        revs = {_id: int(found_doc.get("rev", 0)) for _id, found_doc in current.items()}
        changed: set[str] = set()
        for event, grain, period, slot in plans:
            _id = bucket_id(event.workspace_id, grain, series_of(event), period)
            doc = current.get(_id)
            merged = merge((doc or {}).get("slots", {}).get(slot), reading_of(event))
            if merged is not None:
                current[_id] = rolled_up(event, grain, period, slot, merged, doc)
                changed.add(_id)
        # Each document is replaced once, guarded by the rev it had when read: a
        # missing one is created by the upsert (rev 0 matches nothing stored); one that
        # someone created or changed meanwhile makes the upsert collide on _id. The
        # replacement repeats _id: nx-27017's upserting replace ignores the filter's.
        writes = [
            ReplaceOne(
                {"_id": _id, "workspace_id": current[_id]["workspace_id"], "rev": revs.get(_id, 0)},
                {"_id": _id, **current[_id], "rev": revs.get(_id, 0) + 1},
                upsert=True,
            )
            for _id in sorted(changed)
        ]
        await self._write(writes, session)
        await self._score([current[_id] for _id in sorted(changed)], current, session)
        return fresh

    async def _score(
        self, changed: list[Document], current: dict[str, Document], s: AsyncClientSession
    ) -> None:
        """Carry posts' new latest metrics into their score documents, with the
        followers of their accounts where the network rates engagement per follower."""
        posts = [d for d in changed if d["grain"] == LATEST and d["scope"] == "post"]
        wanted = {
            bucket_id(d["workspace_id"], LATEST, series_key(d["account_id"], "account", None), "-")
            for d in posts
            if needs_followers(str(d["network"]))
        }
        missing = [_id for _id in wanted if _id not in current]
        if missing:
            found = self.buckets.raw.find({"_id": {"$in": missing}}, session=s)
            current = {**current, **{str(d["_id"]): d async for d in found}}
        followers = {
            (d["workspace_id"], d["account_id"]): d["slots"][LAST_SLOT]
            .get("m", {})
            .get("followers")
            for _id in wanted
            if (d := current.get(_id)) is not None
        }
        updates = [
            (
                str(d["workspace_id"]),
                str(d["account_id"]),
                str(d["network_post_id"]),
                seen_of(d, followers.get((d["workspace_id"], d["account_id"]))),
            )
            for d in posts
        ]
        await self.scores.record_seen(updates, s)

    async def _write(self, writes: list[ReplaceOne[Document]], s: AsyncClientSession) -> None:
        if not writes:
            return
        try:
            await self.buckets.raw.bulk_write(writes, ordered=True, session=s)
        except (BulkWriteError, DuplicateKeyError) as err:
            raise RollupConflict("a metric roll-up changed while it was being updated") from err

    # -- reads (see siar_analytics.series for the typed API) -------------------------
    async def bucket_docs(
        self,
        workspace_id: str,
        *,
        grain: str,
        scope: str,
        periods: Sequence[str],
        account_ids: Sequence[str] | None = None,
    ) -> list[Document]:
        """Roll-up documents of some periods, optionally of some accounts only."""
        query: Document = {"grain": grain, "scope": scope, "period": {"$in": list(periods)}}
        if account_ids is not None:
            query["account_id"] = {"$in": list(account_ids)}
        return await self.buckets.find(workspace_id, query, sort=[("period", ASCENDING)])

    async def latest_docs(
        self,
        workspace_id: str,
        *,
        scope: str,
        account_ids: Sequence[str] | None = None,
        since_ts: float | None = None,
    ) -> list[Document]:
        """Latest-value documents of a scope, optionally collected since a time."""
        query: Document = {"grain": LATEST, "scope": scope}
        if account_ids is not None:
            query["account_id"] = {"$in": list(account_ids)}
        if since_ts is not None:
            query["collected_ts"] = {"$gte": since_ts}
        return await self.buckets.find(workspace_id, query)

    async def day_docs_until(
        self, workspace_id: str, account_id: str, month: str, *, limit: int = 3
    ) -> list[Document]:
        """An account's daily documents of ``month`` and before, newest first."""
        query: Document = {
            "account_id": account_id,
            "grain": "day",
            "scope": "account",
            "period": {"$lte": month},
        }
        return await self.buckets.find(
            workspace_id, query, sort=[("period", DESCENDING)], limit=limit
        )
