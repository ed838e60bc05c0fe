"""A delivery's one outcome: its ledger entry and its event, written together once."""

from __future__ import annotations

import logging

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.connectors import ConnectorError, PublishedPost
from siar.contracts import PostFailed, PostPublished, PostScheduled, utcnow
from siar.runtime.consumption import mark_duplicate
from siar.runtime.leases import LeaseLost
from siar.runtime.uow import UnitOfWork
from siar_publisher.domain import Delivery, DeliveryStatus
from siar_publisher.store import PublisherStore
from siar_publisher.variant import NONE, CommentOutcome

log = logging.getLogger(__name__)

PUBLISH_OUTCOMES = Counter(
    "siar_publish_outcomes",
    "Delivery outcomes by network and outcome (published, failed, duplicate, reconciled, "
    "claim_lost).",
    ["network", "outcome"],
)


class Outcomes:
    """Records deliveries' outcomes for one publisher (the holder ``owner`` of its claims)."""

    def __init__(self, *, store: PublisherStore, uow: UnitOfWork, owner: str) -> None:
        self.store = store
        self.uow = uow
        self.owner = owner

    async def published(
        self,
        delivery: Delivery,
        event: PostScheduled,
        published: PublishedPost,
        comment: CommentOutcome = NONE,
    ) -> Delivery:
        """The post is live: the delivery as recorded (by us, or first by another)."""
        first_comment, warnings = comment
        done = delivery.model_copy(
            update={
                "status": DeliveryStatus.PUBLISHED,
                "network_post_id": published.network_post_id,
                "permalink": published.permalink,
                "first_comment": first_comment,
                "warnings": warnings,
                "updated_at": utcnow(),
            }
        )
        outcome = PostPublished.new(
            workspace_id=event.workspace_id,
            post_id=event.post_id,
            account_id=event.account_id,
            network=event.network,
            occurrence=event.occurrence,
            network_post_id=published.network_post_id,
            permalink=published.permalink,
            published_at=published.published_at,
            due_at=event.due_at,
            attempts=max(1, len(done.attempts)),
            warnings=warnings,
        )
        if not await self._finish(done, outcome):
            return await self._recorded_elsewhere(done)
        PUBLISH_OUTCOMES.labels(event.network, "published").inc()
        return done

    async def failed(
        self, delivery: Delivery, event: PostScheduled, err: ConnectorError
    ) -> Delivery:
        """The delivery failed: recorded while the claim is ours (else see _recorded_elsewhere)."""
        done = delivery.model_copy(
            update={"status": DeliveryStatus.FAILED, "error": err.reason, "updated_at": utcnow()}
        )
        outcome = PostFailed.new(
            workspace_id=event.workspace_id,
            post_id=event.post_id,
            account_id=event.account_id,
            network=event.network,
            occurrence=event.occurrence,
            error_class=err.error_class,
            reason=err.reason,
            retryable=err.retryable,
            attempts=max(1, len(done.attempts)),
        )
        if not await self._finish(done, outcome):
            return await self._recorded_elsewhere(done)
        PUBLISH_OUTCOMES.labels(event.network, "failed").inc()
        log.info("delivery %s failed (%s): %s", delivery.id, err.error_class, err.reason)
        return done

    async def _finish(self, done: Delivery, outcome: PostPublished | PostFailed) -> bool:
        """Record the outcome in the ledger and the outbox, atomically, if it is ours to
        record; whether it was.

        A live post is recorded while the delivery is pending, even if another publisher
        took the claim over meanwhile: the post is on the network, and whichever of the
        two records first is the delivery's one outcome (the other writes nothing, so one
        ``post.published``). A failure is recorded only while the claim is still ours:
        the publisher that took it over may yet put the post live.
        """
        owner = None if done.status is DeliveryStatus.PUBLISHED else self.owner

        async def work(session: AsyncClientSession) -> bool:
            if not await self.store.record(done, session, owner=owner):
                return False
            await self.uow.outbox.add(outcome, session=session)
            return True

        return await self.uow.run(work)

    async def _recorded_elsewhere(self, done: Delivery) -> Delivery:
        """The delivery as another publisher recorded it; LeaseLost while still pending."""
        stored = await self.store.get(done.workspace_id, done.id)
        if stored is None or stored.status is DeliveryStatus.PENDING:
            holder = stored.owner if stored else None
            raise LeaseLost(f"the claim on {done.id} is {holder}'s now; its outcome is theirs")
        PUBLISH_OUTCOMES.labels(done.network, "duplicate").inc()
        mark_duplicate()
        if done.network_post_id and done.network_post_id != stored.network_post_id:
            # Both publishers put it live (the other could not find this one's post by
            # its marker yet): the record keeps theirs; this copy is for an operator.
            log.warning(
                "delivery %s is recorded with post %s; post %s on %s is a second copy",
                done.id,
                stored.network_post_id,
                done.network_post_id,
                done.network,
            )
        return stored
