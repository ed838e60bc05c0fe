"""Publisher errors."""

from __future__ import annotations

from siar.runtime.errors import DependencyUnavailable


class PublisherError(Exception):
    """Base of every publisher error."""


class UnknownNetwork(PublisherError):
    """No connector for the event's network."""


class DeliveryBusy(PublisherError, DependencyUnavailable):
    """Another live publisher holds this delivery's claim: try again after its lease."""


class OutcomeUnresolved(PublisherError, DependencyUnavailable):
    """Whether an attempt landed cannot be checked now: the event is retried later."""


class ClaimLost(DeliveryBusy):
    """Our claim on a delivery was taken over (or could not be renewed) before its
    outcome was ours to record: the new holder finishes it; the event comes back."""
