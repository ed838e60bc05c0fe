"""Publisher use cases: deliver a scheduled post exactly once, and report the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram
from pymongo.asynchronous.client_session import AsyncClientSession

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
from siar.contracts import PostFailed, PostPublished, PostScheduled, utcnow
from siar.runtime.consumption import mark_duplicate
from siar.runtime.media_client import MediaClient, MediaMissing
from siar.runtime.tracing import continued_span
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import VaultClient
from siar_publisher.domain import (
    Attempt,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    backoff_s,
    delivery_id,
)
from siar_publisher.errors import OutcomeUnresolved
from siar_publisher.ratelimit import RateLimiter
from siar_publisher.variant import (
    NONE,
    CommentOutcome,
    after_publish,
    found_again,
    outgoing,
    partly,
)

if TYPE_CHECKING:
    from siar_publisher.engagement import EngagementService
from siar_publisher.store import PublisherStore

log = logging.getLogger(__name__)

PUBLISH_OUTCOMES = Counter(
    "siar_publish_outcomes",
    "Delivery outcomes by network and outcome (published, failed, duplicate, reconciled).",
    ["network", "outcome"],
)
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
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
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
        async with self._holding(delivery):
            with continued_span("publisher.deliver", None, attributes) as span:
                done = await self._deliver_claimed(delivery, event, seen_before)
                span.set_attribute("siar.delivery_status", done.status.value)
        self.fault("recorded")
        return done

    @contextlib.asynccontextmanager
    async def _holding(self, delivery: Delivery) -> AsyncIterator[None]:
        """Keep our claim alive while the network is being called."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.claim_lease_s / 3)
                await self.store.renew(delivery, owner=self.owner, lease_s=self.claim_lease_s)

        task = asyncio.create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_claimed(
        self, delivery: Delivery, event: PostScheduled, seen_before: bool
    ) -> Delivery:
        connector = self.connectors.get(event.network)
        if connector is None:
            return await self._fail(
                delivery, event, PermanentError(f"no connector for {event.network}")
            )
        leased = await self.vault.lease(event.workspace_id, event.account_id, "publish")
        if leased is None:
            return await self._fail(
                delivery, event, PermanentError("the account is no longer connected in the vault")
            )
        account, credential = leased
        try:
            post = outgoing(event, delivery.id, connector)
        except PermanentError as err:
            return await self._fail(delivery, event, err)
        if seen_before:
            # A previous attempt's outcome is unknown: ask the network before posting.
            found = await connector.find_by_marker(account, credential, post, delivery.created_at)
            if found is not None:
                PUBLISH_OUTCOMES.labels(event.network, "reconciled").inc()
                return await self._succeed(delivery, event, found, found_again(event, connector))
        try:
            media = [await self.media.fetch(event.workspace_id, m) for m in event.media_ids]
        except MediaMissing as err:
            return await self._fail(
                delivery, event, PermanentError(f"media {err} was deleted from the library")
            )
        post = post.model_copy(update={"media": media})
        return await self._attempt(delivery, event, connector, account, credential, post)

    async def _pace(self, event: PostScheduled, connector: Connector) -> None:
        if self.limiter is not None:
            await self.limiter.acquire(
                event.network, event.account_id, connector.rate_limit, connector.app_rate_limit
            )

    async def _attempt(
        self,
        delivery: Delivery,
        event: PostScheduled,
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
            clock = time.perf_counter()
            try:
                await self._pace(event, connector)
                published = await connector.publish(account, credential, post)
            except ConnectorError as err:
                PUBLISH_LATENCY.labels(event.network).observe(time.perf_counter() - clock)
                delivery.attempts.append(
                    Attempt(
                        started_at=started,
                        finished_at=utcnow(),
                        outcome="error",
                        error_class=err.error_class,
                        reason=err.reason,
                    )
                )
                if isinstance(err, AuthExpiredError) and not refreshed:
                    # The vault refreshes at the network (only it holds refresh tokens);
                    # then one more try.
                    refreshed = True
                    leased = await self.vault.refresh(event.workspace_id, event.account_id)
                    if leased is not None:
                        account, credential = leased
                        continue
                if isinstance(err, PartiallyPublishedError):
                    # The post is live: a delivery, with the failed part noted, never a repost.
                    noted = partly(event, connector, err)
                    return await self._succeed(delivery, event, err.published, noted)
                if isinstance(err, OutcomeUnknownError):
                    found = await self._reconcile(connector, account, credential, post, delivery)
                    if found is not None:
                        PUBLISH_OUTCOMES.labels(event.network, "reconciled").inc()
                        noted = found_again(event, connector)
                        return await self._succeed(delivery, event, found, noted)
                if not err.retryable or attempt >= self.retry.max_attempts:
                    return await self._fail(delivery, event, err)
                await asyncio.sleep(
                    backoff_s(
                        attempt,
                        base=self.retry.base_s,
                        cap=self.retry.cap_s,
                        retry_after=err.retry_after_s,
                    )
                )
                continue
            PUBLISH_LATENCY.labels(event.network).observe(time.perf_counter() - clock)
            self.fault("published")
            delivery.attempts.append(
                Attempt(started_at=started, finished_at=utcnow(), outcome="published")
            )
            comment = await after_publish(
                connector,
                account,
                credential,
                event,
                published,
                lambda: self._pace(event, connector),
            )
            return await self._succeed(delivery, event, published, comment)

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

    async def _succeed(
        self,
        delivery: Delivery,
        event: PostScheduled,
        published: PublishedPost,
        comment: CommentOutcome = NONE,
    ) -> Delivery:
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
        await self._finish(done, outcome)
        PUBLISH_OUTCOMES.labels(event.network, "published").inc()
        return done

    async def _fail(
        self, delivery: Delivery, event: PostScheduled, err: ConnectorError
    ) -> Delivery:
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
        await self._finish(done, outcome)
        PUBLISH_OUTCOMES.labels(event.network, "failed").inc()
        log.info("delivery %s failed (%s): %s", delivery.id, err.error_class, err.reason)
        return done

    async def _finish(self, done: Delivery, outcome: PostPublished | PostFailed) -> None:
        """Record the outcome in the ledger and the outbox, atomically."""

        async def work(session: AsyncClientSession) -> None:
            await self.store.save(done, session)
            await self.uow.outbox.add(outcome, session=session)

        await self.uow.run(work)

    async def deliveries(
        self, workspace_id: str, *, post_id: str | None, limit: int
    ) -> list[Delivery]:
        """Delivery records, for the deliveries API."""
        return await self.store.list(workspace_id, post_id=post_id, limit=limit)
