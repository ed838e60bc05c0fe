"""The analytics service's operational metrics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

from prometheus_client import Counter

from siar.contracts.metrics import MetricsCollected
from siar.runtime.webhooks import count_from_zero

SCOPES: tuple[str, ...] = get_args(MetricsCollected.model_fields["scope"].annotation)

SNAPSHOTS_STORED = Counter(
    "siar_analytics_snapshots_stored",
    "Metric snapshots stored (first delivery of each metrics.collected), by network and scope.",
    ["network", "scope"],
)


def start_at_zero(networks: Iterable[str]) -> None:
    """Create every (network, scope) series now, so dashboards see zeros from the start."""
    for network in networks:
        for scope in SCOPES:
            SNAPSHOTS_STORED.labels(network, scope)
    count_from_zero("report.monthly")
