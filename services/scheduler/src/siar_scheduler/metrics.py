"""The scheduler's Prometheus metrics: how punctually posts fire, and what is coming up."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from siar.runtime.webhooks import count_from_zero

LATENESS = Histogram(
    "siar_scheduler_dispatch_lateness_seconds",
    "From an occurrence's due time to its post.scheduled being handed to Kafka, per network.",
    ["network"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
POSTS_DISPATCHED = Counter(
    "siar_scheduler_posts_dispatched",
    "Post deliveries fired (one per post, account and occurrence), per network.",
    ["network"],
)
DUE_SOON = Gauge(
    "siar_scheduler_due_soon",
    "Posts held in memory to fire within the read-ahead window.",
)


def start_at_zero(networks: Iterable[str]) -> None:
    """Create every network's series now, so dashboards see zeros before the first post."""
    for network in networks:
        LATENESS.labels(network)
        POSTS_DISPATCHED.labels(network)
    count_from_zero("post.failed")


def observe_sent(network: str, lateness_s: float) -> None:
    """A post.scheduled to ``network`` was handed to Kafka ``lateness_s`` after its time."""
    LATENESS.labels(network).observe(lateness_s)
    POSTS_DISPATCHED.labels(network).inc()
