"""The scheduler's Kafka subscribers: thin, each calls one service function."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from siar.contracts import (
    AccountConnected,
    AccountDisconnected,
    MetricsCollected,
    PostFailed,
    PostPublished,
    PostScheduled,
)
from siar.runtime.kafka import document_publications, subscribe_events
from siar_scheduler.service import SchedulerService
from siar_scheduler.settings import Settings
from siar_scheduler.timing import Timing


def register_handlers(
    broker: KafkaBroker,
    settings: Settings,
    service: Callable[[], SchedulerService],
    timing: Callable[[], Timing],
) -> None:
    """Subscribe to outcomes, account events and metrics; declare what the scheduler publishes."""
    group = settings.consumer_group

    async def on_metrics(event: MetricsCollected) -> None:
        # Idempotent by nature: the latest snapshot per post wins, whatever the order.
        await timing().record_metrics(event)

    async def on_outcome(event: PostPublished | PostFailed) -> None:
        await service().record_outcome(event, group)

    async def on_account_connected(event: AccountConnected) -> None:
        await service().account_connected(
            event.workspace_id,
            {"account_id": event.account_id, "network": event.network, "handle": event.handle},
        )

    async def on_account_disconnected(event: AccountDisconnected) -> None:
        await service().account_disconnected(
            event.workspace_id, event.account_id, needs_reconnect=event.needs_reconnect
        )

    subscribe_events(
        broker,
        settings,
        {
            PostPublished: on_outcome,
            PostFailed: on_outcome,
            AccountConnected: on_account_connected,
            AccountDisconnected: on_account_disconnected,
            MetricsCollected: on_metrics,
        },
        name="scheduler_events",
    )
    document_publications(broker, PostScheduled)
