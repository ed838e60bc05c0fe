"""Publisher use cases: deliver a scheduled post exactly once, and report the outcome."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import Histogram

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Connector,
    ConnectorError,
    Credential,
    OutcomeUnknownError,
    OutgoingPost,
    PartiallyPublishedError,
    PermanentError,
    PublishedPost,
)
from siar.contracts import PostScheduled, utcnow
from siar.runtime.consumption import mark_duplicate
from siar.runtime.leases import KeptLease, LeaseLost, process_holder
from siar.runtime.media_client import MediaClient, MediaMissing
from siar.runtime.tracing import continued_span
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import VaultClient
from siar_publisher.domain import (
    Attempt,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    delivery_id,
)
from siar_publisher.errors import ClaimLost, OutcomeUnresolved
from siar_publisher.outcome import PUBLISH_OUTCOMES, Outcomes
from siar_publisher.ratelimit import RateLimiter
from siar_publisher.variant import (
    CLAIM_TAKEN,
    CommentOutcome,
    after_publish,
    found_again,
    not_commented,
    outgoing,
    partly,
    posts_comment_itself,
)

if TYPE_CHECKING:
    from siar_publisher.engagement import EngagementService
from siar_publisher.store import PublisherStore

log = logging.getLogger(__name__)

PUBLISH_LATENCY = Histogram(
    "siar_publish_duration_seconds",
    "Time spent calling the network per delivery, by network.",
    ["network"],
)


class PublisherService:
    """Delivers posts through connectors, with a ledger so nothing posts twice."""

    def __init__(
        self,
        *,
        store: PublisherStore,
        uow: UnitOfWork,
        vault: VaultClient,
        connectors: dict[str, Connector],
        retry: RetryPolicy,
        media: MediaClient,
        limiter: RateLimiter | None = None,
        claim_lease_s: float = 15.0,
        fault: Callable[[str], None] = lambda step: None,
    ) -> None:
        self.store = store
        self.uow = uow
        self.vault = vault
        self.connectors = connectors
        self.retry = retry
        self.media = media
        self.limiter = limiter
        self.engagement: EngagementService | None = None
        self.claim_lease_s = claim_lease_s
        # One holder per service instance (host, pid and a random part), so two
        # publishers never take each other's claim for their own.
        self.owner = process_holder()
        self.outcomes = Outcomes(store=store, uow=uow, owner=self.owner)
        # Crash points for the never-twice tests: "claimed", "published", "recorded".
        self.fault = fault

    async def deliver(self, event: PostScheduled) -> Delivery:
        """Deliver one post to one account, once, whatever the redeliveries."""
        now = utcnow()
        fresh = Delivery(
            id=delivery_id(event.post_id, event.account_id, event.occurrence),
            workspace_id=event.workspace_id,
            post_id=event.post_id,
            account_id=event.account_id,
            occurrence=event.occurrence,
            network=event.network,
            created_at=now,
            updated_at=now,
            due_at=event.due_at,
        )
        delivery, seen_before = await self.store.claim(
            fresh, owner=self.owner, lease_s=self.claim_lease_s
        )
        if delivery.status is not DeliveryStatus.PENDING:
            PUBLISH_OUTCOMES.labels(event.network, "duplicate").inc()
            mark_duplicate()
            return delivery
        self.fault("claimed")
        attributes = {"siar.post_id": event.post_id, "siar.network": event.network}
        # Renewed at half its term while the delivery is worked on (a slow network, a
        # rate-limit wait or a backoff may outlast the term).
        holding = self.store.keeping(delivery, owner=self.owner, lease_s=self.claim_lease_s)
        try:
            async with holding as kept:
                with continued_span("publisher.deliver", None, attributes) as span:
                    done = await self._deliver_claimed(delivery, event, seen_before, kept)
                    span.set_attribute("siar.delivery_status", done.status.value)
        except LeaseLost as err:
            # Another publisher took the delivery over (this one stalled past the term),
            # or the claim could not be renewed. Nothing was sent since it was lost; the
            # event comes back and finds the delivery recorded (dropped) or held (busy).
            PUBLISH_OUTCOMES.labels(event.network, "claim_lost").inc()
            log.warning("delivery %s stopped: %s", delivery.id, err)
            raise ClaimLost(f"delivery {delivery.id} stopped: {err}") from err
        self.fault("recorded")
        return done

    async def _deliver_claimed(
        self, delivery: Delivery, event: PostScheduled, seen_before: bool, kept: KeptLease
    ) -> Delivery:
        connector = self.connectors.get(event.network)
        if connector is None:
            return await self.outcomes.failed(
                delivery, event, PermanentError(f"no connector for {event.network}")
            )
        leased = await self.vault.lease(event.workspace_id, event.account_id, "publish")
        if leased is None:
            return await self.outcomes.failed(
                delivery, event, PermanentError("the account is no longer connected in the vault")
            )
        account, credential = leased
        try:
            post = outgoing(event, delivery.id, connector)
        except PermanentError as err:
            return await self.outcomes.failed(delivery, event, err)
        if seen_before:
            # A previous attempt's outcome is unknown: ask the network before posting.
            found = await connector.find_by_marker(account, credential, post, delivery.created_at)
            if found is not None:
                return await self._found(delivery, event, connector, found)
        try:
            media = [await self.media.fetch(event.workspace_id, m) for m in event.media_ids]
        except MediaMissing as err:
            return await self.outcomes.failed(
                delivery, event, PermanentError(f"media {err} was deleted from the library")
            )
        post = post.model_copy(update={"media": media})
        return await self._attempt(delivery, event, kept, connector, account, credential, post)

    async def _pace(self, event: PostScheduled, connector: Connector) -> None:
        if self.limiter is not None:
            await self.limiter.acquire(
                event.network, event.account_id, connector.rate_limit, connector.app_rate_limit
            )

    async def _call(
        self,
        kept: KeptLease,
        event: PostScheduled,
        connector: Connector,
        account: AccountRef,
        credential: Credential,
        post: OutgoingPost,
    ) -> PublishedPost:
        """One call to the network, made only while the claim is surely ours."""
        await self._pace(event, connector)
        # Renewed a full term ahead right before the call. Taken over meanwhile, the
        # delivery is another publisher's: LeaseLost, and nothing is sent.
        await kept.confirm()
        clock = time.perf_counter()
        try:
            return await connector.publish(account, credential, post)
        finally:
            PUBLISH_LATENCY.labels(event.network).observe(time.perf_counter() - clock)

    async def _attempt(
        self,
        delivery: Delivery,
        event: PostScheduled,
        kept: KeptLease,
        connector: Connector,
        account: AccountRef,
        credential: Credential,
        post: OutgoingPost,
    ) -> Delivery:
        refreshed = False
        attempt = len(delivery.attempts)
        while True:
            attempt += 1
            started = utcnow()
            try:
                published = await self._call(kept, event, connector, account, credential, post)
            except ConnectorError as err:
                delivery.attempts.append(errored(started, err))
                if isinstance(err, AuthExpiredError) and not refreshed:
                    # The vault refreshes at the network (only it holds refresh tokens);
                    # then one more try.
                    refreshed = True
                    leased = await self.vault.refresh(
                        event.workspace_id, event.account_id, refused=credential
                    )
                    if leased is not None:
                        account, credential = leased
                        continue
                settled = await self._settle(
                    delivery, event, connector, (account, credential, post), err
                )
                if settled is not None:
                    return settled
                if not err.retryable or attempt >= self.retry.max_attempts:
                    return await self.outcomes.failed(delivery, event, err)
                await asyncio.sleep(self.retry.delay_s(attempt, err.retry_after_s))
                continue
            self.fault("published")
            delivery.attempts.append(
                Attempt(started_at=started, finished_at=utcnow(), outcome="published")
            )
            comment = await self._comment(kept, event, connector, account, credential, published)
            return await self.outcomes.published(delivery, event, published, comment)

    async def _settle(
        self,
        delivery: Delivery,
        event: PostScheduled,
        connector: Connector,
        sent: tuple[AccountRef, Credential, OutgoingPost],
        err: ConnectorError,
    ) -> Delivery | None:
        """A failed call that may still have put the post live; None if it did not."""
        if isinstance(err, PartiallyPublishedError):
            # The post is live: a delivery, with the failed part noted, never a repost.
            return await self.outcomes.published(
                delivery, event, err.published, partly(event, connector, err)
            )
        if isinstance(err, OutcomeUnknownError):
            found = await self._reconcile(connector, *sent, delivery)
            if found is not None:
                return await self._found(delivery, event, connector, found)
        return None

    async def _found(
        self, delivery: Delivery, event: PostScheduled, connector: Connector, found: PublishedPost
    ) -> Delivery:
        """An earlier attempt's post, found on the network by its marker: the delivery."""
        PUBLISH_OUTCOMES.labels(event.network, "reconciled").inc()
        return await self.outcomes.published(delivery, event, found, found_again(event, connector))

    async def _comment(
        self,
        kept: KeptLease,
        event: PostScheduled,
        connector: Connector,
        account: AccountRef,
        credential: Credential,
        published: PublishedPost,
    ) -> CommentOutcome:
        """The first comment, as a reply only while the claim is ours: a reply carries no
        marker, so a publisher that took the delivery over could not tell it was posted."""
        if event.first_comment and not posts_comment_itself(connector):
            try:
                await kept.confirm()
            except LeaseLost:
                return not_commented(event, connector, CLAIM_TAKEN)
        return await after_publish(
            connector, account, credential, event, published, lambda: self._pace(event, connector)
        )

    @staticmethod
    async def _reconcile(
        connector: Connector,
        account: AccountRef,
        credential: Credential,
        post: OutgoingPost,
        delivery: Delivery,
    ) -> PublishedPost | None:
        """Did the attempt whose answer was lost create the post? Never guess."""
        try:
            return await connector.find_by_marker(account, credential, post, delivery.created_at)
        except ConnectorError as err:
            # Unknown stays unknown: keep the claim and let the event come back later.
            raise OutcomeUnresolved(
                f"could not check whether delivery {delivery.id} landed: {err.reason}"
            ) from err

    async def deliveries(
        self, workspace_id: str, *, post_id: str | None, limit: int
    ) -> list[Delivery]:
        """Delivery records, for the deliveries API."""
        return await self.store.list(workspace_id, post_id=post_id, limit=limit)


def errored(started: datetime, err: ConnectorError) -> Attempt:
    """A try that ended in ``err``, finishing now."""
    return Attempt(
        started_at=started,
        finished_at=utcnow(),
        outcome="error",
        error_class=err.error_class,
        reason=err.reason,
    )
