"""The inbox's Kafka subscribers."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from siar.contracts import (
    AccountConnected,
    AccountDisconnected,
    ConversationUpdated,
    EngagementCompleted,
    EngagementRequested,
    MessageReceived,
    PostPublished,
)
from siar.runtime.kafka import document_publications, subscribe_events
from siar_inbox.service import InboxService
from siar_inbox.settings import Settings


def register_handlers(
    broker: KafkaBroker, settings: Settings, service: Callable[[], InboxService]
) -> None:
    """Start/stop polling with account events; thread comments to published posts."""

    async def on_account_connected(event: AccountConnected) -> None:
        await service().start_polling(
            event.workspace_id,
            event.account_id,
            event.network,
            event.handle,
            network_account_id=event.network_account_id,
            changed_ts=event.occurred_at.timestamp(),
        )

    async def on_account_disconnected(event: AccountDisconnected) -> None:
        await service().stop_polling(
            event.workspace_id, event.account_id, changed_ts=event.occurred_at.timestamp()
        )

    async def on_post_published(event: PostPublished) -> None:
        await service().post_published(event)

    async def on_engagement_completed(event: EngagementCompleted) -> None:
        await service().engagement_completed(event, settings.consumer_group)

    subscribe_events(
        broker,
        settings,
        {
            AccountConnected: on_account_connected,
            AccountDisconnected: on_account_disconnected,
            PostPublished: on_post_published,
            EngagementCompleted: on_engagement_completed,
        },
        name="inbox_events",
    )
    document_publications(broker, MessageReceived, EngagementRequested, ConversationUpdated)
