"""Firing due posts in bulk, exactly once per (post, account, occurrence), across replicas.

No multi-document transaction is involved, because on the embedded nx-27017 those of two
processes are not isolated from each other. Two single-document guarantees carry it:

1. **The gate** — one conditional replace per post, filtered on (id, version,
   status=scheduled). Only one replica can match it; an edit or cancel that landed
   first changes the version (or removes the post), so it always wins. The replace
   marks the occurrence fired, moves a repeating post to its next occurrence, and sets
   ``emit_pending`` with a token that tells the winner which posts it won.
2. **The outbox ``_id``** — each ``post.scheduled`` event's id is derived from
   (post, account, occurrence), and the outbox's ``_id`` is the event id. Recording an
   event twice is a duplicate key, so re-emitting after a crash is harmless.

After the events are recorded, ``emit_pending`` is cleared. A crash between the gate and
that point leaves ``emit_pending`` set; :meth:`Firing.recover` (run on every read-ahead)
records the same events again from the post document and clears it.

The gate runs just ahead of the due time (see :mod:`siar_scheduler.dispatch`), so each
event is recorded with its due time as the outbox ``not_before``: the relay sends it
at that instant, and the post is locked from the gate on.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span
from prometheus_client import Counter
from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from siar.contracts import PostScheduled, utcnow
from siar.runtime.mongo import Document, IndexSpec
from siar.runtime.outbox import Outbox
from siar.runtime.tracing import start_continued_span
from siar_scheduler.domain import DispatchRecord, Post, PostStatus, TargetStatus
from siar_scheduler.recurrence import next_evergreen, next_recurrence
from siar_scheduler.requeue import Requeue
from siar_scheduler.scheduled_fields import scheduled_event

log = logging.getLogger(__name__)

FIRING_INDEXES = (IndexSpec("posts", [("emit_pending", ASCENDING)], name="emit_pending"),)

DISPATCHED = Counter(
    "siar_scheduler_dispatched_occurrences",
    "Post occurrences this process won at the gate and fired (one per post, all accounts).",
)

RECOVER_AFTER_S = 30.0
"""A post still flagged this long after it fired lost its process: record its events again."""

KEEP_DISPATCHES = 20
"""How many fired occurrences a post remembers (with their lateness)."""

_EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://siar.dev/events/post.scheduled")


def event_id_for(post_id: str, account_id: str, occurrence: str) -> uuid.UUID:
    """The one id ``post.scheduled`` has for this (post, account, occurrence)."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{post_id}|{account_id}|{occurrence}")


def events_for(post: Post, record: DispatchRecord) -> list[PostScheduled]:
    """One ``post.scheduled`` per target for the occurrence ``record`` describes."""
    # Each target gets its network's variant (caption, format, title, first comment).
    return [
        scheduled_event(
            post,
            target,
            event_id=event_id_for(post.id, target.account_id, record.occurrence),
            occurrence=record.occurrence,
            due_at=record.due_at,
        )
        for target in post.targets
    ]


def _repeat(
    post: Post, due: datetime, now: datetime
) -> tuple[datetime | None, int, dict[str, Any]]:
    """The next occurrence of a repeating post, occurrences skipped, and its new counters."""
    if post.recurrence is not None:
        nxt, skipped = next_recurrence(post.recurrence, due, now)
        counters = {
            "fired": post.recurrence.fired + 1,
            "skipped": post.recurrence.skipped + skipped,
        }
        return nxt, skipped, {"recurrence": post.recurrence.model_copy(update=counters)}
    if post.evergreen is not None:
        nxt = next_evergreen(post.evergreen, due)
        if nxt is not None:
            recycled = post.evergreen.recycled + 1
            return nxt, 0, {"evergreen": post.evergreen.model_copy(update={"recycled": recycled})}
    return None, 0, {}


def fired(post: Post, *, now: datetime, token: str) -> Post:
    """The post after its current occurrence fires (pure): next occurrence or dispatched.

    An evergreen post comes back at its floor here; ``requeue.py`` then moves it into
    its queue's next free slot, after the events are recorded.
    """
    due = post.scheduled_at
    assert due is not None  # noqa: S101 - only scheduled posts reach the gate
    # Gated ahead, the event goes out at the due time; gated late, at once.
    lateness_ms = max(0.0, (now - due).total_seconds() * 1000)
    handed_at = max(now, due)
    nxt, skipped, changes = _repeat(post, due, now)
    record = DispatchRecord(
        occurrence=post.occurrence,
        due_at=due,
        dispatched_at=handed_at,
        lateness_ms=lateness_ms,
        skipped=skipped,
    )
    targets = [
        t.model_copy(
            update={
                "status": TargetStatus.DISPATCHED,
                "dispatched_at": handed_at,
                "lateness_ms": lateness_ms,
                "error": None,
            }
        )
        for t in post.targets
    ]
    return post.model_copy(
        update={
            **changes,
            "targets": targets,
            "status": PostStatus.SCHEDULED if nxt else PostStatus.DISPATCHED,
            "scheduled_at": nxt or due,
            "dispatches": [*post.dispatches, record][-KEEP_DISPATCHES:],
            "emit_pending": True,
            "dispatch_token": token,
            "version": post.version + 1,
            "updated_at": now,
        }
    )


def _due_times(events: Sequence[PostScheduled]) -> list[datetime | None]:
    return [event.due_at for event in events]


def _replacement(post: Post) -> Document:
    doc = post.model_dump(mode="python")
    doc.pop("_id", None)
    return doc


def _traced_events(
    won: list[Post], after: dict[str, Post]
) -> tuple[list[PostScheduled], list[Context], list[Span]]:
    """The events of the posts won, each with a started dispatch span continuing its trace."""
    events: list[PostScheduled] = []
    contexts: list[Context] = []
    spans: list[Span] = []
    for post in won:
        # Each post continues the trace of the request that scheduled it.
        span = start_continued_span(
            "scheduler.dispatch", post.trace_context, {"siar.post_id": post.id}
        )
        spans.append(span)
        mine = events_for(post, after[post.id].dispatches[-1])
        if post.emit_pending and post.dispatches:  # an earlier crash left these unsent
            mine = events_for(post, post.dispatches[-1]) + mine
        events += mine
        contexts += [trace.set_span_in_context(span)] * len(mine)
    return events, contexts, spans


class Firing:
    """Fires batches of due posts against the posts collection and the outbox."""

    def __init__(self, posts: AsyncCollection[Document], outbox: Outbox) -> None:
        # Unscoped on purpose: dispatch is the one system task that spans workspaces.
        self.posts = posts
        self.outbox = outbox
        self.requeue = Requeue(posts.database)
        self._settling: set[asyncio.Task[None]] = set()

    async def fire_many(self, dues: Sequence[tuple[str, str, int, datetime]]) -> set[str]:
        """Fire each (workspace, post, version, due) whose version still matches.

        Returns the ids this call fired; the due time and occurrence are read from the
        stored post, never from the caller's copy.
        """
        wanted = {post_id: version for _, post_id, version, _ in dues}
        docs = await self.posts.find({"_id": {"$in": list(wanted)}}).to_list()
        current = [
            Post.model_validate(doc)
            for doc in docs
            if doc.get("status") == PostStatus.SCHEDULED.value
            and doc.get("version") == wanted[doc["_id"]]
            and doc.get("scheduled_at") is not None
        ]
        if not current:
            return set()
        token = uuid.uuid4().hex
        after, won = await self._gate(current, token)
        events, contexts, spans = _traced_events([p for p in current if p.id in won], after)
        try:
            await self.outbox.add_once(events, contexts=contexts, not_before=_due_times(events))
        finally:
            for span in spans:
                span.end()
        # Off the critical path: until the flag is cleared, a read-ahead may record the
        # same events again, which the outbox ignores; the next chunk need not wait.
        task = asyncio.create_task(self._settle_logged(won, token, [after[i] for i in won]))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        DISPATCHED.inc(len(won))
        return won

    async def _gate(self, current: list[Post], token: str) -> tuple[dict[str, Post], set[str]]:
        """One conditional replace per post; returns the fired posts and the ids won."""
        now = utcnow()
        after = {p.id: fired(p, now=now, token=token) for p in current}
        result = await self.posts.bulk_write(
            [
                ReplaceOne(
                    {
                        "_id": p.id,
                        "workspace_id": p.workspace_id,
                        "version": p.version,
                        "status": PostStatus.SCHEDULED.value,
                    },
                    _replacement(after[p.id]),
                )
                for p in current
            ],
            ordered=False,
        )
        return after, await self._winners(set(after), token, result.matched_count)

    async def _winners(self, tried: set[str], token: str, matched: int) -> set[str]:
        if matched == len(tried):
            return tried  # the usual case: no edit and no other replica got there first
        found = await self.posts.find(
            {"_id": {"$in": list(tried)}, "dispatch_token": token}, projection={"_id": 1}
        ).to_list()
        return {d["_id"] for d in found}

    async def settled(self) -> None:
        """Wait for the background work of the batches fired so far (tests, benchmarks)."""
        await asyncio.gather(*self._settling)

    async def _settle_logged(self, post_ids: set[str], token: str, won: list[Post]) -> None:
        try:
            # Off the gate's path, and before the flag is cleared. A crash in between
            # leaves an evergreen post at its floor (same wall-clock time), never unsent.
            await self.requeue.move(won, token)
        except Exception as err:
            log.warning("could not re-queue the evergreen posts of a batch: %s", err)
        try:
            await self._settle(post_ids, token)
        except Exception as err:  # recover() clears the flag on a later read-ahead
            log.warning("could not clear emit_pending of %d posts: %s", len(post_ids), err)

    async def _settle(self, post_ids: set[str], token: str) -> None:
        if post_ids:
            # A later fire of a repeating post has its own token, and keeps its flag.
            await self.posts.update_many(
                {"_id": {"$in": list(post_ids)}, "dispatch_token": token},
                {"$set": {"emit_pending": False}},
            )

    async def recover(self, limit: int = 1000, *, older_than_s: float = RECOVER_AFTER_S) -> int:
        """Record the events of posts fired before a crash cut them off; returns how many.

        Only posts fired at least ``older_than_s`` ago count: younger ones are still in
        the hands of the process that fired them, and re-recording them would only
        compete with it (harmlessly, but at a cost during a spike).
        """
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        docs = await self.posts.find(
            {"emit_pending": True, "updated_at": {"$lt": cutoff}}, limit=limit
        ).to_list()
        posts = [Post.model_validate(doc) for doc in docs]
        stranded = [p for p in posts if p.dispatches and p.dispatch_token]
        events = [e for p in stranded for e in events_for(p, p.dispatches[-1])]
        recovered = await self.outbox.add_once(events, not_before=_due_times(events))
        by_token: dict[str, set[str]] = {}
        for post in stranded:
            by_token.setdefault(str(post.dispatch_token), set()).add(post.id)
        for token, post_ids in by_token.items():
            await self._settle(post_ids, token)
        return recovered
