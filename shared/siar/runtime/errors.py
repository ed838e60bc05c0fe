"""Errors the runtime treats specially."""

from __future__ import annotations


class DependencyUnavailable(Exception):
    """A service we depend on (vault, database, broker) is away: retry later, never DLQ.

    Consumers raise it (or a subclass) so the message is redelivered after the
    dependency returns, instead of being dead-lettered for a fault that is not its own.
    """
