"""Analytics use cases: count what happened, and report it."""

from __future__ import annotations

from datetime import date

from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import Event, MessageReceived, PostFailed, PostPublished
from siar.runtime.uow import UnitOfWork
from siar_analytics.domain import ActivitySummary, check_range, day_of, previous_period
from siar_analytics.metrics_ingest import MetricsIngest
from siar_analytics.store import AnalyticsStore

_COUNTER_OF: dict[type[Event], str] = {
    PostPublished: "posts_published",
    PostFailed: "posts_failed",
    MessageReceived: "messages_received",
}


class AnalyticsService:
    """Keeps daily roll-ups from events and answers reports from them."""

    def __init__(
        self,
        *,
        store: AnalyticsStore,
        uow: UnitOfWork,
        max_range_days: int,
        metrics: MetricsIngest,
    ) -> None:
        self.store = store
        self.uow = uow
        self.max_range_days = max_range_days
        # Metric snapshots and the collection schedule (siar_analytics.metrics_ingest).
        self.metrics = metrics

    async def count(
        self, event: PostPublished | PostFailed | MessageReceived, consumer: str
    ) -> bool:
        """Count an event once, into its day's bucket."""

        async def work(session: AsyncClientSession) -> None:
            await self.store.increment(
                event.workspace_id, day_of(event.occurred_at), _COUNTER_OF[type(event)], session
            )

        ran, _ = await self.uow.run_once(consumer, str(event.event_id), work)
        return ran

    async def summary(self, workspace_id: str, start: date, end: date) -> ActivitySummary:
        """Totals over [start, end] and over the period before it."""
        check_range(start, end, max_days=self.max_range_days)
        totals = await self.store.totals(workspace_id, start.isoformat(), end.isoformat())
        prev_start, prev_end = previous_period(start, end)
        previous = await self.store.totals(
            workspace_id, prev_start.isoformat(), prev_end.isoformat()
        )
        return ActivitySummary(start=start, end=end, previous=previous, **totals)
