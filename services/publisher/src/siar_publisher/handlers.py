"""The publisher's Kafka subscribers."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from siar.contracts import PostFailed, PostPublished, PostScheduled
from siar.runtime.kafka import document_publications, subscribe_events
from siar_publisher.service import PublisherService
from siar_publisher.settings import Settings


def register_handlers(
    broker: KafkaBroker, settings: Settings, service: Callable[[], PublisherService]
) -> None:
    """Deliver every ``post.scheduled``; declare the outcomes the publisher emits."""

    async def on_post_scheduled(event: PostScheduled) -> None:
        await service().deliver(event)

    subscribe_events(broker, settings, {PostScheduled: on_post_scheduled}, name="publisher_events")
    document_publications(broker, PostPublished, PostFailed)
