"""Publisher errors."""

from __future__ import annotations


class PublisherError(Exception):
    """Base of every publisher error."""


class UnknownNetwork(PublisherError):
    """No connector for the event's network."""
