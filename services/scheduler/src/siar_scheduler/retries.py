"""``:retry`` of a post's failed targets: once, even when two replicas get the call at once.

No multi-document transaction (on the embedded nx-27017 those of two processes are not
isolated). The post is the gate: one replace conditional on its version turns the failed
targets back to ``dispatched`` and writes the retry on the post (``retry_pending``). Only
one caller can win a version, and the loser, reading the post again, finds nothing
failed. The winner then records the events with ids derived from (post, account, retry
occurrence), so recording them twice is a duplicate key, and clears ``retry_pending``.
A crash in between leaves ``retry_pending`` set: :func:`resume_retries`, run by every
replica's failure-notice loop, records the same events again and clears it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from siar.contracts import PostScheduled, utcnow
from siar_scheduler.domain import (
    Post,
    RetryBatch,
    ReviewEntry,
    Target,
    TargetStatus,
    status_after_outcome,
)
from siar_scheduler.errors import NothingToRetry, PostLocked, PostNotFound
from siar_scheduler.firing import event_id_for
from siar_scheduler.scheduled_fields import scheduled_event

if TYPE_CHECKING:
    from siar_scheduler.service import SchedulerService

MAX_CONFLICTS = 20
"""Version conflicts (an outcome landing meanwhile) tolerated before answering 409."""

RESUME_AFTER_S = 30.0
"""A retry still pending this long after it was written lost its process: record it again."""

# Matches only posts whose retry_pending is set: nx-27017 counts a missing field as
# "$ne: null", and this range query is served from the store's retry_pending index.
_PENDING = {"retry_pending.occurrence": {"$gt": ""}}


def retried(post: Post, *, by: str, now: datetime) -> Post:
    """The post with its failed targets on their way again (pure).

    Raises :class:`NothingToRetry` when no target failed. A repeating post that waits
    for its next occurrence stays scheduled.
    """
    again = [t.account_id for t in post.targets if t.status is TargetStatus.FAILED]
    if not again:
        raise NothingToRetry(
            f"post {post.id} has no failed account to retry (it is {post.status.value})"
        )
    targets = [
        t.model_copy(
            update={"status": TargetStatus.DISPATCHED, "error": None, "dispatched_at": now}
        )
        if t.account_id in again
        else t
        for t in post.targets
    ]
    retries = post.retries + 1
    # A new occurrence per retry: the publisher's ledger (post, account, occurrence) sees
    # a new delivery. The base is the occurrence that last fired, not the next one.
    base = post.dispatches[-1].occurrence if post.dispatches else post.occurrence
    entry = ReviewEntry(at=now, by=by, action="retried", comment=", ".join(sorted(again)))
    return post.model_copy(
        update={
            "targets": targets,
            "status": status_after_outcome(post, targets),
            "retries": retries,
            "retry_pending": RetryBatch(
                occurrence=f"{base}#retry-{retries}", account_ids=again, due_at=now
            ),
            "review": [*post.review, entry],
            "version": post.version + 1,
            "updated_at": now,
        }
    )


def retry_events(post: Post) -> list[PostScheduled]:
    """The ``post.scheduled`` events of the post's pending retry (none without one)."""
    batch = post.retry_pending
    if batch is None:
        return []
    targets: dict[str, Target] = {t.account_id: t for t in post.targets}
    return [
        scheduled_event(
            post,
            targets[account_id],
            event_id=event_id_for(post.id, account_id, batch.occurrence),
            occurrence=batch.occurrence,
            due_at=batch.due_at,
        )
        for account_id in batch.account_ids
        if account_id in targets
    ]


async def _record(posts: SchedulerService, post: Post) -> int:
    """Record the pending retry's events (at most once each), then clear it on the post."""
    batch = post.retry_pending
    if batch is None:
        return 0
    recorded = await posts.uow.outbox.add_once(retry_events(post))
    await _clear(posts, post, batch.occurrence)
    return recorded


async def _clear(posts: SchedulerService, post: Post | None, occurrence: str) -> None:
    """Clear this retry's flag (not a later retry's) with a version-conditional replace.

    A bare ``$set`` would race a concurrent outcome's whole-document replace, which
    would write the flag back. Should the post keep changing, the flag stays and
    :func:`resume_retries` clears it later (recording nothing twice).
    """
    for _ in range(MAX_CONFLICTS):
        if post is None or post.retry_pending is None:
            return
        if post.retry_pending.occurrence != occurrence:
            return
        cleared = post.model_copy(update={"retry_pending": None, "version": post.version + 1})
        if await posts.store.replace_post(cleared, expected_version=post.version):
            posts.hand_to_dispatch(cleared)  # a repeating post's next occurrence is this version
            return
        post = await posts.store.get_post(post.workspace_id, post.id)


async def retry_failed(
    posts: SchedulerService, workspace_id: str, post_id: str, *, by: str
) -> Post:
    """Deliver the post's failed targets again, once: a new occurrence per retry."""
    for _ in range(MAX_CONFLICTS):
        post = await posts.store.get_post(workspace_id, post_id)
        if post is None:
            raise PostNotFound(f"post {post_id} not found")
        if post.retry_pending is not None:
            await _record(posts, post)  # an earlier retry cut short: finish it first
            continue  # clearing it changed the version: read the post again
        updated = retried(post, by=by, now=utcnow())
        if await posts.store.replace_post(updated, expected_version=post.version):
            await _record(posts, updated)
            return await posts.get_post(workspace_id, post_id)
    raise PostLocked(f"post {post_id} is changing too often; try again")


async def resume_retries(
    posts: SchedulerService, *, older_than_s: float = RESUME_AFTER_S, limit: int = 500
) -> int:
    """Record the events of retries a crash cut off; returns how many events were new.

    Only retries written at least ``older_than_s`` ago count: younger ones are still in
    the hands of the call that wrote them.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    docs = await posts.store.posts.raw.find(_PENDING, limit=limit).to_list()
    stranded = [p for p in map(Post.model_validate, docs) if p.updated_at < cutoff]
    return sum([await _record(posts, post) for post in stranded])
