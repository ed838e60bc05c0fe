"""The analytics Kafka subscribers."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from siar.contracts import (
    AccountConnected,
    AccountDisconnected,
    MessageReceived,
    MetricsCollected,
    PostFailed,
    PostPublished,
)
from siar.runtime.kafka import document_publications, subscribe_events
from siar_analytics.metrics_consumer import subscribe_metrics
from siar_analytics.report_service import ReportService
from siar_analytics.report_wiring import merge_handlers, report_handlers
from siar_analytics.service import AnalyticsService
from siar_analytics.settings import Settings


def register_handlers(
    broker: KafkaBroker,
    settings: Settings,
    service: Callable[[], AnalyticsService],
    reports: Callable[[], ReportService] | None = None,
) -> None:
    """Count publications, failures and messages; store metrics; follow accounts and posts."""
    group = settings.consumer_group

    async def on_event(event: PostPublished | PostFailed | MessageReceived) -> None:
        await service().count(event, group)

    async def on_published(event: PostPublished) -> None:
        await service().count(event, group)
        await service().metrics.post_published(event)

    async def on_account(event: AccountConnected | AccountDisconnected) -> None:
        await service().metrics.account_changed(event)

    reporting = report_handlers(reports, group) if reports else {}
    subscribe_events(
        broker,
        settings,
        merge_handlers(
            {
                PostPublished: on_published,
                PostFailed: on_event,
                MessageReceived: on_event,
                AccountConnected: on_account,
                AccountDisconnected: on_account,
            },
            reporting,
        ),
        name="analytics_events",
    )
    # Snapshots have a batch consumer of their own; the collectors emit them (outbox).
    subscribe_metrics(broker, settings, lambda: service().metrics)
    document_publications(broker, MetricsCollected)
