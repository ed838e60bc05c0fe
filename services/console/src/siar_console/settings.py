"""Console settings, read from ``SIAR_CONSOLE_*``."""

from __future__ import annotations

from pydantic import Field, field_validator

from siar.runtime.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    """Where the console listens and where each service's API is."""

    model_config = service_config("SIAR_CONSOLE_")

    port: int = Field(default=8100, ge=1, le=65535, description="HTTP port.")
    vault_url: str = Field(
        default="http://127.0.0.1:8105", description="The vault's base URL (sign-in, team)."
    )
    scheduler_url: str = Field(
        default="http://127.0.0.1:8101", description="The scheduler's base URL (posts, media)."
    )
    publisher_url: str = Field(
        default="http://127.0.0.1:8102", description="The publisher's base URL (deliveries)."
    )
    inbox_url: str = Field(
        default="http://127.0.0.1:8103", description="The inbox's base URL (conversations)."
    )
    analytics_url: str = Field(
        default="http://127.0.0.1:8104", description="The analytics base URL (reports)."
    )
    upstream_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a proxied call may wait for the service's answer "
        "(event streams wait without limit).",
    )

    @field_validator("vault_url", "scheduler_url", "publisher_url", "inbox_url", "analytics_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    def upstreams(self) -> dict[str, str]:
        """Each service's base URL by service name."""
        return {
            "vault": self.vault_url,
            "scheduler": self.scheduler_url,
            "publisher": self.publisher_url,
            "inbox": self.inbox_url,
            "analytics": self.analytics_url,
        }
