"""The publisher's Kafka subscribers."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from siar.contracts import (
    EngagementCompleted,
    EngagementRequested,
    PostFailed,
    PostPublished,
    PostScheduled,
)
from siar.runtime.kafka import document_publications, subscribe_events
from siar_publisher.service import PublisherService
from siar_publisher.settings import Settings


def register_handlers(
    broker: KafkaBroker, settings: Settings, service: Callable[[], PublisherService]
) -> None:
    """Deliver posts and perform engagement actions; declare the outcomes emitted."""

    async def on_post_scheduled(event: PostScheduled) -> None:
        await service().deliver(event)

    async def on_engagement_requested(event: EngagementRequested) -> None:
        engagement = service().engagement
        if engagement is None:
            raise RuntimeError("engagement handling is not wired")
        await engagement.perform(event)

    subscribe_events(
        broker,
        settings,
        {PostScheduled: on_post_scheduled, EngagementRequested: on_engagement_requested},
        name="publisher_events",
    )
    document_publications(broker, PostPublished, PostFailed, EngagementCompleted)
