"""Inbox settings, read from ``SIAR_INBOX_*``."""

from __future__ import annotations

from pydantic import Field, SecretStr

from siar.runtime.settings import ServiceSettings, service_config

# Read limits per user token, as the networks document them (2025): X mentions and DM
# events 10-15 calls per 15 min on the Basic tier (two calls a poll); Graph API 200 calls
# an hour; LinkedIn ~150 member calls a day; Mastodon 300 per 5 min; Bluesky 3000 per
# 5 min per IP; YouTube's 10,000 daily units are shared by every account of the app.
POLL_MIN_INTERVAL_S: dict[str, float] = {
    "x": 180.0,
    "facebook": 60.0,
    "instagram": 120.0,
    "threads": 60.0,
    "linkedin": 900.0,
    "youtube": 300.0,
    "tiktok": 120.0,
    "mastodon": 10.0,
    "bluesky": 10.0,
}


class Settings(ServiceSettings):
    """Configuration of the inbox service."""

    model_config = service_config("SIAR_INBOX_")

    port: int = Field(default=8103, ge=1, le=65535, description="HTTP port.")
    database: str = Field(default="siar_inbox", description="The inbox's database.")
    consumer_group: str = Field(default="siar-inbox", description="Kafka consumer group.")
    poll_interval_s: float = Field(
        default=2.0, gt=0, description="How often accounts without webhooks are polled."
    )
    credential_cache_s: float = Field(
        default=300.0, ge=0, description="How long a leased credential is reused for polling."
    )
    snooze_check_s: float = Field(
        default=5.0, gt=0, description="How often snoozed conversations are checked for waking."
    )
    stream_heartbeat_s: float = Field(
        default=15.0, gt=0, description="Quiet time after which the live stream sends a ping."
    )
    stream_max_s: float = Field(
        default=300.0,
        gt=0,
        description="A live stream ends after this long; clients reconnect with Last-Event-ID.",
    )

    poll_min_interval_s: dict[str, float] = Field(
        default_factory=lambda: dict(POLL_MIN_INTERVAL_S),
        description="Per network, the least time between two polls of one account, so "
        "reading stays within the network's read limits (webhooks bring messages sooner).",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Per network, the secret its webhook calls are signed with (Meta app "
        "secret, X consumer secret): SIAR_INBOX_WEBHOOK_SECRETS__FACEBOOK=...",
    )
    meta_verify_token: SecretStr = Field(
        default=SecretStr(""), description="Token Meta echoes when subscribing a webhook."
    )
    webhook_max_bytes: int = Field(
        default=1_048_576, ge=1024, description="Larger webhook calls are refused (413)."
    )
    webhook_max_age_s: float = Field(
        default=172_800.0,
        gt=0,
        description="A signed call whose messages are all older than this is refused (replay).",
    )

    def required_secrets(self) -> tuple[str, ...]:
        """The inbox leases credentials with its service secret."""
        return ("service_secret",)
