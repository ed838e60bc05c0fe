"""Publisher settings, read from ``SIAR_PUBLISHER_*``."""

from __future__ import annotations

from pydantic import Field

from siar.runtime.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    """Configuration of the publisher service."""

    model_config = service_config("SIAR_PUBLISHER_")

    port: int = Field(default=8102, ge=1, le=65535, description="HTTP port.")
    database: str = Field(default="siar_publisher", description="The publisher's database.")
    consumer_group: str = Field(default="siar-publisher", description="Kafka consumer group.")
    max_attempts: int = Field(default=4, ge=1, le=10, description="Tries per delivery.")
    backoff_base_s: float = Field(default=0.5, gt=0, description="First retry delay.")
    backoff_max_s: float = Field(default=30.0, gt=0, description="Longest retry delay.")

    def required_secrets(self) -> tuple[str, ...]:
        """The publisher leases credentials with its service secret."""
        return ("service_secret",)
