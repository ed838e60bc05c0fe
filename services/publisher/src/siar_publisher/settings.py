"""Publisher settings, read from ``SIAR_PUBLISHER_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

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

    rate_limit_max_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="How long a delivery may wait for our own rate-limit bucket before it "
        "is retried later instead.",
    )
    credential_cache_s: float = Field(
        default=60.0,
        ge=0,
        description="How long a leased credential is reused for further posts of the account.",
    )
    claim_lease_s: float = Field(
        default=15.0,
        gt=0,
        description="How long a delivery claim lasts without renewal (a dead holder's claim "
        "can be taken over after this).",
    )
    crash_at: Literal["claimed", "published", "recorded"] | None = Field(
        default=None,
        description="Test only: exit abruptly at this step of a delivery (refused in prod).",
    )
    crash_once_file: Path | None = Field(
        default=None, description="Test only: crash once, marking it in this file."
    )

    @model_validator(mode="after")
    def _no_crashes_in_prod(self) -> Settings:
        if self.crash_at and self.platform.env == "prod":
            raise ValueError("crash_at is a test setting and is refused in prod")
        return self

    def required_secrets(self) -> tuple[str, ...]:
        """The publisher leases credentials with its service secret."""
        return ("service_secret",)
