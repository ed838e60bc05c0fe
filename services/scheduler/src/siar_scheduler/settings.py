"""Scheduler settings, read from ``SIAR_SCHEDULER_*``."""

from __future__ import annotations

from pydantic import Field, SecretStr

from siar.runtime.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    """Configuration of the scheduler service."""

    model_config = service_config("SIAR_SCHEDULER_")

    port: int = Field(default=8101, ge=1, le=65535, description="HTTP port.")
    database: str = Field(default="siar_scheduler", description="The scheduler's database.")
    consumer_group: str = Field(default="siar-scheduler", description="Kafka consumer group.")
    lookahead_s: float = Field(
        default=120.0, gt=0, description="Posts due within this window are held in memory."
    )
    scan_interval_s: float = Field(
        default=10.0, gt=0, description="How often the database is read ahead for due posts."
    )
    gate_lead_s: float = Field(
        default=1.0,
        ge=0,
        description="Posts are locked and their events written this long before their time "
        "(plus the time the posts due before them take), so that only the Kafka send is "
        "left for the due instant; 0 fires at the instant.",
    )
    min_lead_s: float = Field(
        default=1.0, ge=0, description="A scheduled time must be at least this far ahead."
    )
    public_base_url: str | None = Field(
        default=None,
        description="Where networks reach this service to fetch media by signed URL "
        "(Instagram images, Threads media); unset, those posts cannot carry media.",
    )
    media_url_secret: SecretStr = Field(
        default=SecretStr(""), description="Key that signs public media URLs."
    )
    media_max_image_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest image the media library accepts."
    )
    media_max_video_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="Largest video the media library accepts."
    )

    def required_secrets(self) -> tuple[str, ...]:
        """The scheduler needs its service secret to ask the vault about accounts."""
        return ("service_secret",)
