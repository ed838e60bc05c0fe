"""Vault settings, read from ``SIAR_VAULT_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from siar.connectors import AppCredentials
from siar.runtime.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    """Configuration of the vault service."""

    model_config = service_config("SIAR_VAULT_")

    port: int = Field(default=8105, ge=1, le=65535, description="HTTP port.")
    database: str = Field(default="siar_vault", description="The vault's MongoDB database.")
    consumer_group: str = Field(default="siar-vault", description="Kafka consumer group.")
    kek_keys: dict[int, SecretStr] = Field(
        default_factory=dict,
        description="Key-encryption keys by version, each 32 bytes in base64.",
    )
    kek_active: int = Field(default=1, ge=1, description="KEK version used for new secrets.")
    kek_file: Path | None = Field(
        default=None,
        description="JSON key file (see siar vault rotate-kek); used instead of kek_keys.",
    )
    service_clients: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Service client id to its client secret, for service tokens.",
    )
    apps: dict[str, AppCredentials] = Field(
        default_factory=dict,
        description="Siar's OAuth app per network, e.g. "
        '{"x": {"client_id": "...", "client_secret": "..."}} (JSON).',
    )
    mastodon_instance: str | None = Field(
        default=None,
        description="The Mastodon instance (https://host) Siar's app in apps.mastodon is "
        "registered on: Mastodon apps are per instance, so accounts connect there. "
        "Unset or empty: mastodon.social.",
    )
    token_refresh_ahead_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Account tokens expiring within this are refreshed in the background.",
    )
    token_refresh_every_s: float = Field(
        default=300.0, gt=0, description="How often expiring account tokens are looked for."
    )
    refresh_token_ttl_s: int = Field(
        default=30 * 24 * 3600, ge=3600, description="Life of a refresh token (rotated on use)."
    )
    login_failures_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins per account per window before 429."
    )
    login_failures_per_address: int = Field(
        default=50, ge=1, description="Failed sign-ins per client address per window before 429."
    )
    login_window_s: float = Field(
        default=900.0, gt=0, description="The sign-in throttling window, in seconds."
    )
    audit_verify_every_s: float = Field(
        default=600.0, gt=0, description="How often every audit hash chain is re-verified."
    )
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600, description="User JWT life.")
    service_token_ttl_s: int = Field(default=600, ge=60, le=3600, description="Service JWT life.")

    @field_validator("kek_keys")
    @classmethod
    def _keys_are_32_bytes(cls, value: dict[int, SecretStr]) -> dict[int, SecretStr]:
        import base64
        import binascii

        for version, key in value.items():
            try:
                raw = base64.b64decode(key.get_secret_value(), validate=True)
            except binascii.Error as err:
                raise ValueError(f"kek_keys[{version}] is not base64") from err
            if len(raw) != 32:
                raise ValueError(f"kek_keys[{version}] must be 32 bytes, got {len(raw)}")
        return value

    @field_validator("mastodon_instance")
    @classmethod
    def _instance_is_http_url(cls, value: str | None) -> str | None:
        # Empty counts as unset, so compose can pass the variable through when it is not set.
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// (or http://) URL")
        return value.rstrip("/")

    def required_secrets(self) -> tuple[str, ...]:
        """The vault has no single secret field; KEKs are checked at start."""
        return ()
