"""Metrics snapshots produced by analytics collectors."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from siar.contracts.envelope import Event


class MetricsCollected(Event):
    """An account or post metrics snapshot at one point in time."""

    topic: ClassVar[str] = "metrics.collected"
    event_type: Literal["metrics.collected"] = "metrics.collected"
    schema_version: Literal[1] = 1
    account_id: str
    network: str
    scope: Literal["account", "post"]
    network_post_id: str | None = None
    collected_at: AwareDatetime
    metrics: dict[str, float] = Field(description="Metric name to value, e.g. followers.")
    partial: bool = Field(default=False, description="True when the network gave only some.")
    dimensions: dict[str, dict[str, float]] | None = Field(
        default=None,
        description="Audience shares by dimension, e.g. {'age': {'18-24': 0.21}, 'country': "
        "{'ID': 0.4}}; account scope, when the network gives them.",
    )
    post_id: str | None = Field(
        default=None, description="Siar's post id of a post-scope snapshot, when known."
    )
    published_at: AwareDatetime | None = Field(
        default=None, description="When the post went out (post scope), for hour-of-week feedback."
    )
    history: bool = Field(
        default=False,
        description="A past day's figures from the network's history (a first backfill): "
        "rolled up by day, not by hour.",
    )
