"""Delivery outcomes (``post.published`` / ``post.failed``) recorded safely across replicas.

No multi-document transaction: on the embedded nx-27017 those of two processes are not
isolated, so an outcome could be rolled back by, or overwrite, a concurrent edit, fire or
retry on another replica. Three single-document writes carry it instead, in this order:

1. **The post**: a replace conditional on its version (re-read and re-applied on a
   conflict, a bounded number of times). The outcome's event id goes on the post
   (``applied_events``), so applying it is idempotent by itself: a redelivery, or two
   replicas handling the same event at once, change the post once.
2. **The failure notice** (``post.failed`` only): ``_id`` derived from the event id, so a
   second insert is a duplicate key and is ignored.
3. **The processed mark** (``<consumer>:<event id>``, as ``UnitOfWork.run_once`` writes
   it): last, so a crash before it only means the event is handled again, which steps 1
   and 2 make harmless. A delivery that finds the mark stops at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymongo.errors import DuplicateKeyError

from siar.contracts import PostFailed, PostPublished, utcnow
from siar.runtime.consumption import mark_duplicate
from siar.runtime.uow import PROCESSED
from siar_scheduler.domain import Outcome, Post, outcome_applied
from siar_scheduler.errors import PostLocked

if TYPE_CHECKING:
    from siar_scheduler.service import SchedulerService

MAX_CONFLICTS = 20
"""Version conflicts tolerated before the handler fails (and is run again by the consumer)."""


def outcome_of(event: PostPublished | PostFailed) -> Outcome:
    """What ``event`` says of its target, free of the event envelope."""
    if isinstance(event, PostPublished):
        return Outcome(
            event_id=str(event.event_id),
            account_id=event.account_id,
            published=True,
            network_post_id=event.network_post_id,
            permalink=event.permalink,
            published_at=event.published_at,
            warnings=event.warnings,
        )
    return Outcome(
        event_id=str(event.event_id),
        account_id=event.account_id,
        published=False,
        reason=event.reason,
    )


async def apply_to_post(
    service: SchedulerService, event: PostPublished | PostFailed
) -> Post | None:
    """Apply the outcome to its post once; returns the post as it now stands (None if gone)."""
    outcome = outcome_of(event)
    for _ in range(MAX_CONFLICTS):
        post = await service.store.get_post(event.workspace_id, event.post_id)
        if post is None:
            return None  # deleted meanwhile: nothing left to record it on
        updated = outcome_applied(post, outcome, now=utcnow())
        if updated is None:
            mark_duplicate()  # applied before: a redelivery, or another replica got it
            return post
        if await service.store.replace_post(updated, expected_version=post.version):
            # A repeating post waits for its next occurrence: the new version must fire.
            service.hand_to_dispatch(updated)
            return updated
    # The consumer's middleware runs the handler again, then dead-letters the event.
    raise PostLocked(f"post {event.post_id} kept changing while its outcome was recorded")


async def record_outcome(
    service: SchedulerService, event: PostPublished | PostFailed, consumer: str
) -> None:
    """Record ``event`` on its post, notice a failure, then mark the event processed."""
    processed = service.uow.db[PROCESSED]
    marker = f"{consumer}:{event.event_id}"
    if await processed.find_one({"_id": marker}, projection={"_id": 1}):
        mark_duplicate()
        return
    post = await apply_to_post(service, event)
    if post is not None and isinstance(event, PostFailed) and service.on_failed is not None:
        await service.on_failed(event, post)
    try:
        await processed.insert_one({"_id": marker, "processed_at": utcnow()})
    except DuplicateKeyError:
        mark_duplicate()  # the same event, handled at the same time elsewhere
    if isinstance(event, PostFailed) and service.after_failed is not None:
        await service.after_failed()
