"""Evergreen re-queueing: moving each recycled post of a fired batch into a queue slot.

An evergreen post that fires comes back in the first free slot of its posting queue at
or after its *floor*, the same wall-clock time ``every_days`` later. The gate stores
the floor (``firing.fired``); :meth:`Requeue.move` then moves the post to the slot.

A post has one ``scheduled_at`` for all its targets, so it cannot follow each account's
queue. It follows its first target's queue, and the slot must be free on every target:
the rule "add to queue" uses (``Timing.free``), so a post lands the same either way and
never doubles up with another post on any of its accounts. Without a queue for the
first target, or with no free slot in the next 26 weeks, it stays at the floor.

Off the spike's path: the move runs in the background after the batch's events are
recorded, and only the replica that won the gate runs it. For a batch with evergreen
posts it reads, once for all of them, the queues, the posts holding slots and the live
claims; it claims the chosen slots with the keys "add to queue" claims
(``claim_key``), holding the post's id, so an "add to queue" running at the same
moment cannot take the same slot; then one conditional replace per post, filtered on
(id, version, dispatch token), so an edit that landed first wins. If the process dies
before the move, the post keeps its floor: the behaviour without a queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from siar.contracts import utcnow
from siar.runtime.mongo import Document
from siar_scheduler.domain import Post, PostStatus
from siar_scheduler.queues import QueueSchedule, first_free, search_end
from siar_scheduler.timing_store import (
    CLAIM_TTL_S,
    HOLDS_A_SLOT,
    MAX_TAKEN,
    claim_key,
    claimed_slot,
)

log = logging.getLogger(__name__)

CLAIM_ROUNDS = 3
"""Tries per batch when a chosen slot was just claimed by someone else; then the floor."""

_DUPLICATE_KEY = 11000

Key = tuple[str, str]
"""(workspace, account)."""


@dataclass
class Holdings:
    """One batch's view: queues of first targets, and instants already held per account."""

    queues: dict[Key, QueueSchedule] = field(default_factory=dict)
    taken: dict[Key, set[datetime]] = field(default_factory=dict)

    def hold(self, post: Post, at: datetime) -> None:
        """Mark ``at`` held on every target of ``post``."""
        for target in post.targets:
            self.taken.setdefault((post.workspace_id, target.account_id), set()).add(at)


def queue_key(post: Post) -> Key:
    """Whose queue a post follows: its first target's (see the module docstring)."""
    return post.workspace_id, post.targets[0].account_id


def choose(posts: Sequence[Post], holdings: Holdings) -> dict[str, datetime]:
    """The first free slot at or after each post's floor (its ``scheduled_at`` once
    fired), by post id (pure).

    Posts without a queue, or without a free slot, are left out (they use the floor).
    A slot chosen for one post is held for the next, so two posts of one account in
    the same batch never share it.
    """
    chosen: dict[str, datetime] = {}
    for post in posts:
        queue = holdings.queues.get(queue_key(post))
        if queue is None or post.evergreen is None or post.scheduled_at is None:
            continue
        taken: set[datetime] = set()
        for target in post.targets:
            taken |= holdings.taken.get((post.workspace_id, target.account_id), set())
        slot = first_free(queue, post.scheduled_at, taken)
        if slot is not None:
            chosen[post.id] = slot
            holdings.hold(post, slot)
    return chosen


class Requeue:
    """Finds and claims the queue slots of a batch's evergreen posts (unscoped, as firing)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.queues = db["queues"]
        self.posts = db["posts"]
        self.claims = db["queue_claims"]

    async def move(self, fired: Sequence[Post], token: str) -> dict[str, datetime]:
        """Move the evergreen posts among ``fired`` (as the gate stored them, with
        ``token``) into their queue slots; returns the slots they were moved to, by id."""
        back = [
            p
            for p in fired
            if p.evergreen and p.status is PostStatus.SCHEDULED and p.targets and p.scheduled_at
        ]
        if not back:
            return {}  # the usual batch: no reads at all
        holdings = await self._holdings(back, {p.id for p in back})
        queued = [p for p in back if queue_key(p) in holdings.queues]
        slots = await self._claimed_slots(queued, holdings)
        if slots:
            now = utcnow()
            await self.posts.bulk_write(
                [
                    ReplaceOne(
                        {"_id": p.id, "version": p.version, "dispatch_token": token},
                        _stored(p, slots[p.id], now),
                    )
                    for p in queued
                    if p.id in slots
                ],
                ordered=False,
            )
        return slots

    async def _claimed_slots(self, posts: list[Post], holdings: Holdings) -> dict[str, datetime]:
        # Earliest floor first, so earlier posts get earlier slots.
        pending = sorted(posts, key=lambda p: (p.scheduled_at, p.id))
        won: dict[str, datetime] = {}
        for _ in range(CLAIM_ROUNDS):
            chosen = choose(pending, holdings)
            lost = await self._claim([p for p in pending if p.id in chosen], chosen)
            won |= {pid: at for pid, at in chosen.items() if pid not in lost}
            pending = [p for p in pending if p.id in lost]
            if not pending:
                break
        if pending:
            log.warning("%d evergreen posts stay at their floor: slots contended", len(pending))
        return won

    async def _holdings(self, posts: list[Post], batch_ids: set[str]) -> Holdings:
        keys = {queue_key(p) for p in posts}
        spaces = sorted({ws for ws, _ in keys})
        docs = await self.queues.find(
            {"workspace_id": {"$in": spaces}, "account_id": {"$in": sorted({a for _, a in keys})}}
        ).to_list()
        holdings = Holdings()
        for doc in docs:
            if (doc["workspace_id"], doc["account_id"]) in keys:
                holdings.queues[doc["workspace_id"], doc["account_id"]] = (
                    QueueSchedule.model_validate(doc)
                )
        queued = [p for p in posts if queue_key(p) in holdings.queues]
        if queued:
            await self._load_taken(queued, batch_ids, holdings)
        return holdings

    async def _load_taken(self, posts: list[Post], batch_ids: set[str], into: Holdings) -> None:
        floors = [p.scheduled_at for p in posts if p.scheduled_at]
        spaces = sorted({p.workspace_id for p in posts})
        accounts = sorted({t.account_id for p in posts for t in p.targets})
        held = await self.posts.find(
            {
                "workspace_id": {"$in": spaces},
                # $elemMatch, not a dotted path: nx-27017 matches no $in through arrays.
                "targets": {"$elemMatch": {"account_id": {"$in": accounts}}},
                "status": {"$in": HOLDS_A_SLOT},
                "scheduled_at": {"$gte": min(floors), "$lt": search_end(max(floors))},
            },
            projection={"workspace_id": 1, "scheduled_at": 1, "targets": 1},
            limit=MAX_TAKEN,
        ).to_list()
        for doc in held:
            # The batch's own posts are the ones being moved (each sits at its floor).
            if doc["_id"] not in batch_ids:
                at = doc["scheduled_at"].astimezone(UTC)
                for target in doc.get("targets", []):
                    into.taken.setdefault((doc["workspace_id"], target["account_id"]), set()).add(
                        at
                    )
        claims = await self.claims.find(
            {"workspace_id": {"$in": spaces}, "claimed_ts": {"$gte": time.time() - CLAIM_TTL_S}}
        ).to_list()
        for doc in claims:
            if doc.get("post_id") not in batch_ids:
                workspace, account, at = claimed_slot(str(doc["_id"]))
                into.taken.setdefault((workspace, account), set()).add(at)

    async def _claim(self, posts: list[Post], chosen: dict[str, datetime]) -> set[str]:
        """Claim each post's slot on all its targets; returns the posts someone beat."""
        now = time.time()
        docs = [
            {
                "_id": claim_key(p.workspace_id, t.account_id, chosen[p.id]),
                "workspace_id": p.workspace_id,
                "claimed_ts": now,
                "post_id": p.id,
            }
            for p in posts
            for t in p.targets
        ]
        if not docs:
            return set()
        try:
            await self.claims.insert_many(docs, ordered=False)
        except BulkWriteError as err:
            codes = {e.get("code") for e in err.details.get("writeErrors", [])}
            if codes - {_DUPLICATE_KEY}:
                raise
        return await self._beaten(docs, now)

    async def _beaten(self, mine: list[Document], now: float) -> set[str]:
        stored = await self.claims.find({"_id": {"$in": [d["_id"] for d in mine]}}).to_list()
        holder = {d["_id"]: d for d in stored}
        beaten: set[str] = set()
        for doc in mine:
            other = holder.get(doc["_id"])
            if other is None or other.get("post_id") == doc["post_id"]:
                continue  # ours (or an earlier try's claim for the same post)
            # As "add to queue" does, a claim past its term may be taken over.
            stale = {"_id": doc["_id"], "claimed_ts": {"$lt": now - CLAIM_TTL_S}}
            if (await self.claims.replace_one(stale, doc)).matched_count == 0:
                beaten.add(str(doc["post_id"]))
        return beaten


def _stored(post: Post, slot: datetime, now: datetime) -> Document:
    """The whole post at ``slot`` (a whole-document replace: ``$set`` of a top-level
    datetime stores a string on nx-27017)."""
    moved = post.model_copy(update={"scheduled_at": slot, "version": post.version + 1})
    doc = moved.model_copy(update={"updated_at": now}).model_dump(mode="python")
    doc.pop("_id", None)
    return doc
