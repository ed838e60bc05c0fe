"""Network connectors behind one interface, and the registry that builds them."""

from siar.connectors.base import (
    AccountRef,
    Capability,
    ConnectedAccount,
    Connector,
    ContentRules,
    Credential,
    FetchedMessage,
    OutgoingPost,
    Page,
    PublishedPost,
    RateLimit,
)
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    ErrorClass,
    PermanentError,
    RateLimitedError,
    RetryableError,
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
    "ErrorClass",
    "FetchedMessage",
    "OutgoingPost",
    "Page",
    "PermanentError",
    "PublishedPost",
    "RateLimit",
    "RateLimitedError",
    "RetryableError",
]
