"""Use cases behind the metric events: store snapshots, follow accounts and posts."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import AccountConnected, AccountDisconnected, MetricsCollected, PostPublished
from siar.runtime.uow import UnitOfWork
from siar_analytics.collector_schedule import CollectorSchedule
from siar_analytics.metrics import SNAPSHOTS_STORED
from siar_analytics.series_store import SeriesStore


class MetricsIngest:
    """Stores ``metrics.collected`` with its roll-ups; keeps the collection schedule."""

    def __init__(self, *, series: SeriesStore, schedule: CollectorSchedule, uow: UnitOfWork):
        self.series = series
        self.schedule = schedule
        self.uow = uow

    async def record(self, event: MetricsCollected) -> bool:
        """Store one snapshot and its roll-ups, unless it was stored before."""
        return await self.store_batch([event]) == 1

    async def store_batch(self, events: Sequence[MetricsCollected]) -> int:
        """Store the snapshots not stored before (their ``_id`` is the event id) with
        their roll-ups, in one transaction; returns how many were new."""

        async def work(session: AsyncClientSession) -> list[MetricsCollected]:
            return await self.series.record_many(events, session)

        stored = await self.uow.run(work)
        for event in stored:
            SNAPSHOTS_STORED.labels(event.network, event.scope).inc()
        return len(stored)

    async def account_changed(self, event: AccountConnected | AccountDisconnected) -> None:
        """Start or stop collecting an account (idempotent, newest event wins)."""
        if isinstance(event, AccountConnected):
            await self.schedule.connected(event)
        else:
            await self.schedule.disconnected(event)

    async def post_published(self, event: PostPublished) -> None:
        """Collect a newly published post's metrics from now on (idempotent)."""
        await self.schedule.published(event)
