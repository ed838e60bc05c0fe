"""Network connectors behind one interface, and the registry that builds them."""

from siar.connectors.base import Connector
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    ErrorClass,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.models import (
    AccountRef,
    ConnectedAccount,
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    MediaItem,
    MetricsSnapshot,
    OutgoingPost,
    Page,
    PublishedPost,
    TokenGrant,
)
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaKind,
    MediaLimits,
    OAuthConfig,
    PostFormat,
    RateLimit,
)

__all__ = [
    "AccountRef",
    "AuthExpiredError",
    "Capability",
    "ConnectedAccount",
    "Connector",
    "ConnectorError",
    "ContentRules",
    "Credential",
    "Engagement",
    "EngagementResult",
    "ErrorClass",
    "FetchedMessage",
    "MediaItem",
    "MediaKind",
    "MediaLimits",
    "MetricsSnapshot",
    "OAuthConfig",
    "OutgoingPost",
    "Page",
    "PermanentError",
    "PostFormat",
    "PublishedPost",
    "RateLimit",
    "RateLimitedError",
    "RetryableError",
    "TokenGrant",
]
