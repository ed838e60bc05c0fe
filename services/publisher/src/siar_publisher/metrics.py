"""The publisher's metrics start at zero for every network it can deliver to."""

from __future__ import annotations

from collections.abc import Iterable

from siar_publisher.outcome import PUBLISH_OUTCOMES
from siar_publisher.ratelimit import RATE_LIMIT_WAITS
from siar_publisher.service import PUBLISH_LATENCY

OUTCOMES = ("published", "failed", "reconciled", "duplicate", "claim_lost")
"""Every outcome the publisher counts (service.py, outcome.py)."""


def start_at_zero(networks: Iterable[str]) -> None:
    """Create the per-network series now, so dashboards and alerts see zeros from the start."""
    for network in networks:
        PUBLISH_LATENCY.labels(network)
        for outcome in OUTCOMES:
            PUBLISH_OUTCOMES.labels(network, outcome)
        for scope in ("account", "app"):
            RATE_LIMIT_WAITS.labels(network, scope)
