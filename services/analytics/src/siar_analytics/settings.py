"""Analytics settings, read from ``SIAR_ANALYTICS_*``."""

from __future__ import annotations

from pydantic import Field

from siar.runtime.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    """Configuration of the analytics service."""

    model_config = service_config("SIAR_ANALYTICS_")

    port: int = Field(default=8104, ge=1, le=65535, description="HTTP port.")
    database: str = Field(default="siar_analytics", description="The analytics database.")
    consumer_group: str = Field(default="siar-analytics", description="Kafka consumer group.")
    max_range_days: int = Field(default=400, ge=1, description="Longest report range allowed.")
    collect_interval_s: float = Field(
        default=3600.0, gt=0, description="How often each account's metrics are collected."
    )
    collect_budget_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of a network's per-account rate limit that collection may use.",
    )
    collect_post_window_days: float = Field(
        default=30.0, gt=0, description="Posts published within this many days are collected."
    )
    collect_max_posts: int = Field(
        default=100, ge=0, description="Most posts collected per account and round."
    )
    collect_concurrency: int = Field(
        default=4, ge=1, description="Accounts one replica collects at the same time."
    )
    collect_backfill_days: int = Field(
        default=180,
        ge=0,
        description="Days of daily history fetched on an account's first collection, "
        "where the network offers history (the sandbox does).",
    )
    collector_enabled: bool = Field(
        default=True, description="Run the metrics collector in this replica."
    )
    collect_after_publish_s: float = Field(
        default=600.0,
        ge=0,
        description="A post's account is collected this long after it is published at the "
        "latest (a first look at the post), whatever its usual pace.",
    )
    collect_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="How long a replica's claim on an account lasts unrenewed; renewed at "
        "half of it while a round runs, and a round whose renewal fails stops.",
    )
    credential_cache_s: float = Field(
        default=300.0,
        ge=0,
        description="How long a leased credential is reused (spares the vault's audit log).",
    )
    metrics_batch: int = Field(
        default=500, ge=1, le=5000, description="Most metrics.collected stored per transaction."
    )
    research_poll_s: float = Field(
        default=900.0, gt=0, description="How often each tracked research item is searched."
    )
    research_tick_s: float = Field(
        default=30.0, gt=0, description="How often the research collector looks for due items."
    )
    monthly_tick_s: float = Field(
        default=3600.0, gt=0, description="How often monthly reports are checked for being due."
    )
    report_loops_enabled: bool = Field(
        default=True, description="Run the research collector and monthly reports here."
    )

    def required_secrets(self) -> tuple[str, ...]:
        """Analytics leases account credentials (metrics collection) with its secret."""
        return ("service_secret",)
