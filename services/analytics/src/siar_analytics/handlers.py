"""The analytics Kafka subscribers."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from siar.contracts import MessageReceived, PostFailed, PostPublished
from siar.runtime.kafka import subscribe_events
from siar_analytics.service import AnalyticsService
from siar_analytics.settings import Settings


def register_handlers(
    broker: KafkaBroker, settings: Settings, service: Callable[[], AnalyticsService]
) -> None:
    """Count publications, failures and incoming messages."""
    group = settings.consumer_group

    async def on_event(event: PostPublished | PostFailed | MessageReceived) -> None:
        await service().count(event, group)

    subscribe_events(
        broker,
        settings,
        {PostPublished: on_event, PostFailed: on_event, MessageReceived: on_event},
        name="analytics_events",
    )
