"""Every Siar event, defined once: models, topic names and the registry."""

from siar.contracts.accounts import AccountConnected, AccountDisconnected
from siar.contracts.deadletter import DeadLetter, dlq_topic
from siar.contracts.engagement import (
    ConversationChange,
    ConversationUpdated,
    EngagementAction,
    EngagementCompleted,
    EngagementRequested,
    MessageKind,
    MessageReceived,
    Sentiment,
)
from siar.contracts.envelope import Event, utcnow
from siar.contracts.metrics import MetricsCollected
from siar.contracts.posts import PostFailed, PostPublished, PostScheduled

EVENT_TYPES: tuple[type[Event], ...] = (
    PostScheduled,
    PostPublished,
    PostFailed,
    EngagementRequested,
    EngagementCompleted,
    MessageReceived,
    ConversationUpdated,
    MetricsCollected,
    AccountConnected,
    AccountDisconnected,
)
"""Every event model, one per topic."""

TOPICS: dict[str, type[Event]] = {model.topic: model for model in EVENT_TYPES}
"""Topic name to its event model: the topic registry."""

__all__ = [
    "EVENT_TYPES",
    "TOPICS",
    "AccountConnected",
    "AccountDisconnected",
    "ConversationChange",
    "ConversationUpdated",
    "DeadLetter",
    "EngagementAction",
    "EngagementCompleted",
    "EngagementRequested",
    "Event",
    "MessageKind",
    "MessageReceived",
    "MetricsCollected",
    "PostFailed",
    "PostPublished",
    "PostScheduled",
    "Sentiment",
    "dlq_topic",
    "utcnow",
]
