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
