"""The metrics collector: polls due accounts through their connectors, emits snapshots.

Each round leases up to ``concurrency`` due accounts (see
:mod:`siar_analytics.collector_schedule`), leases each one's credential from the vault,
asks the network for the account's metrics (plus, the first time, its daily history
where the network offers it) and for the metrics of its recent posts, and writes every
snapshot as a ``metrics.collected`` event into the outbox in one transaction. Storing
them is the consumer's job, the same as for any other producer of the topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass, field

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Connector,
    ConnectorError,
    Credential,
    MetricsSnapshot,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.contracts import MetricsCollected
from siar.runtime.app import Runtime
from siar.runtime.leases import KeptLease, LeaseLost
from siar.runtime.mongo import Document
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import VaultClient, VaultUnavailable
from siar_analytics.collector_schedule import CollectorSchedule, Pacing, published_at_of
from siar_analytics.settings import Settings

log = logging.getLogger(__name__)

ERROR_RETRY_S = 300.0
"""A round that failed for a passing reason (network 5xx, vault away) is retried this soon."""

COLLECTED = Counter(
    "siar_analytics_snapshots_collected",
    "Metric snapshots collected from networks, by network, scope and completeness.",
    ["network", "scope", "partial"],
)


@dataclass
class Round:
    """What one account's collection produced."""

    events: list[MetricsCollected] = field(default_factory=list)
    calls: int = 0
    error: str | None = None
    retry_s: float | None = None
    """Try again this soon (a transient failure or a rate limit), not at the usual pace."""
    backfilled: bool = False


def offers(connector: Connector, method: str) -> bool:
    """Whether a connector implements an optional method (the base one only refuses)."""
    return getattr(type(connector), method) is not getattr(Connector, method)


class Collector:
    """One replica's collection loop (replicas share the work through leases)."""

    def __init__(
        self,
        *,
        schedule: CollectorSchedule,
        uow: UnitOfWork,
        vault: VaultClient,
        connectors: dict[str, Connector],
        concurrency: int = 4,
        backfill_days: int = 0,
        idle_s: float = 5.0,
    ) -> None:
        self.schedule = schedule
        self.uow = uow
        self.vault = vault
        self.connectors = connectors
        self.concurrency = concurrency
        self.backfill_days = backfill_days
        self.idle_s = idle_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._stopping = asyncio.Event()

    def _event(
        self,
        target: Document,
        snapshot: MetricsSnapshot,
        post: Document | None = None,
        *,
        history: bool = False,
    ) -> MetricsCollected:
        return MetricsCollected.new(
            workspace_id=target["workspace_id"],
            account_id=target["account_id"],
            network=target["network"],
            scope="post" if post else "account",
            network_post_id=post["network_post_id"] if post else None,
            post_id=post.get("post_id") if post else None,
            published_at=published_at_of(post) if post else None,
            collected_at=snapshot.collected_at,
            metrics=dict(snapshot.metrics),
            partial=snapshot.partial,
            dimensions=snapshot.dimensions,
            history=history,
        )

    async def _gather(
        self,
        target: Document,
        kept: KeptLease,
        connector: Connector,
        account: AccountRef,
        cred: Credential,
    ) -> Round:
        found = Round()
        if not target.get("backfilled") and self.backfill_days > 0:
            if offers(connector, "account_history"):
                found.calls += 1
                history = await connector.account_history(account, cred, self.backfill_days)
                found.events += [self._event(target, s, history=True) for s in history]
            found.backfilled = True
        found.calls += connector.account_metrics_calls
        found.events.append(self._event(target, await connector.account_metrics(account, cred)))
        for post in await self.schedule.recent_posts(target, time.time()):
            kept.check()  # another replica has the account now: stop, it collects
            found.calls += 1
            try:
                snapshot = await connector.post_metrics(account, cred, post["network_post_id"])
            except RateLimitedError as err:
                # Keep what this round collected; the rest waits for the retry-after.
                found.error, found.retry_s = str(err), err.retry_after_s or 60.0
                break
            except (PermanentError, RetryableError) as err:  # deleted, or a passing 5xx
                log.info("post %s not collected: %s", post["network_post_id"], err)
                continue
            found.events.append(self._event(target, snapshot, post))
        return found

    async def collect(self, target: Document, kept: KeptLease) -> Round:
        """Collect one leased account; errors are recorded in the round, never raised,
        except :class:`LeaseLost` (the round stops and emits nothing)."""
        connector = self.connectors.get(str(target.get("network")))
        if connector is None or not offers(connector, "account_metrics"):
            return Round(error=f"{target.get('network')} offers no metrics")
        ws, account_id = str(target["workspace_id"]), str(target["account_id"])
        try:
            leased = await self.vault.lease(ws, account_id, "collect-metrics")
            if leased is None:
                return Round(error="the vault does not know this account")
            found = await self._gather(target, kept, connector, *leased)
        except RateLimitedError as err:
            return Round(error=str(err), retry_s=err.retry_after_s or 60.0)
        except AuthExpiredError as err:
            # Until the account is reconnected (account.connected makes it due again).
            self.vault.forget_lease(ws, account_id)
            return Round(error=str(err))
        except (RetryableError, VaultUnavailable) as err:
            return Round(error=str(err), retry_s=ERROR_RETRY_S)
        except ConnectorError as err:
            return Round(error=str(err))
        if found.events:
            await kept.confirm()  # a full term ahead, so no other replica emits these too

            async def emit(session: AsyncClientSession) -> None:
                await self.uow.outbox.add_many(found.events, session=session)

            await self.uow.run(emit)
            for event in found.events:
                COLLECTED.labels(event.network, event.scope, str(event.partial).lower()).inc()
        return found

    async def _one(self, target: Document) -> Round:
        connector = self.connectors.get(str(target.get("network")))
        started = time.time()
        try:
            # Renewed at half its term: a round may outlive the lease's term.
            async with self.schedule.leases(self.owner).keeping(target["_id"]) as kept:
                result = await self.collect(target, kept)
        except LeaseLost as err:
            # Another replica holds the account now (this one stalled past the term):
            # the slot is its to release, and what this round found was not emitted.
            log.warning("collecting %s stopped: %s", target["_id"], err)
            return Round(error=str(err))
        except Exception as err:  # a bug or the database: the slot must still be released
            log.exception("collecting %s failed", target["_id"])
            result = Round(error=f"{type(err).__name__}: {err}", retry_s=ERROR_RETRY_S)
        now = time.time()
        limit = connector.rate_limit if connector else None
        if result.retry_s is not None:
            next_ts = now + result.retry_s
        else:
            next_ts = self.schedule.pacing.next_due(now, max(result.calls, 1), limit)
        outcome: Document = {"last_ts": now, "last_error": result.error, "calls": result.calls}
        if result.backfilled:
            outcome["backfilled"] = True
        if result.error:
            log.warning("collecting %s: %s", target["_id"], result.error)
        await self.schedule.release(
            target, owner=self.owner, next_ts=next_ts, outcome=outcome, started_ts=started
        )
        return result

    async def run_round(self) -> int:
        """Lease and collect up to ``concurrency`` due accounts; how many were collected."""
        targets: list[Document] = []
        while len(targets) < self.concurrency:
            target = await self.schedule.lease_due(self.owner)
            if target is None:
                break
            targets.append(target)
        await asyncio.gather(*(self._one(t) for t in targets))
        return len(targets)

    async def run(self) -> None:
        """Collect until stopped; sleeps while nothing is due."""
        while not self._stopping.is_set():
            try:
                if await self.run_round():
                    continue
                wait = await self.schedule.due_in(time.time())
            except Exception:
                log.exception("metrics collection round failed; retrying")
                wait = None
            pause = self.idle_s if wait is None else min(max(wait, 0.2), self.idle_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)

    def stop(self) -> None:
        """Stop after the current round."""
        self._stopping.set()


def spawn_collector(runtime: Runtime, settings: Settings) -> Collector:
    """Start this replica's collector as a background loop of the service."""
    collector = Collector(
        schedule=CollectorSchedule(runtime.db, pacing_of(settings)),
        uow=runtime.uow,
        vault=runtime.vault_client("analytics", lease_cache_s=settings.credential_cache_s),
        connectors=runtime.connectors(),
        concurrency=settings.collect_concurrency,
        backfill_days=settings.collect_backfill_days,
    )
    runtime.spawn("metrics-collector", collector.run, collector.stop)
    return collector


def pacing_of(settings: Settings) -> Pacing:
    """The collector's pacing from the settings."""
    return Pacing(
        interval_s=settings.collect_interval_s,
        budget_share=settings.collect_budget_share,
        post_window_days=settings.collect_post_window_days,
        max_posts=settings.collect_max_posts,
        after_publish_s=settings.collect_after_publish_s,
        lease_s=settings.collect_lease_s,
    )
