"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "prod"]


class SettingError(ValueError):
    """A setting that makes starting pointless, named by its environment variable."""

    def __init__(self, env_var: str, problem: str) -> None:
        """``env_var`` is what the operator must fix; ``problem`` says what is wrong."""
        super().__init__(f"{env_var}: {problem}")
        self.env_var = env_var
        self.problem = problem


def refusal(err: ValidationError | SettingError, settings_cls: type[BaseSettings]) -> str:
    """One line naming the environment variable to fix; values are never echoed (secrets)."""
    if isinstance(err, SettingError):
        return f"invalid setting {err.env_var}: {err.problem}"
    first = err.errors(include_url=False, include_input=False)[0]
    loc = [str(part) for part in first["loc"]]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not loc:  # a model-level check: its message names the variable itself
        return f"invalid setting: {message}"
    # A platform field fails inside PlatformSettings, reached through the default factory.
    prefix = "SIAR_" if err.title == PlatformSettings.__name__ else _prefix(settings_cls)
    if loc[0] == "platform" and len(loc) > 1:
        prefix, loc = "SIAR_", loc[1:]
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"invalid setting {prefix}{loc[0].upper()}: {message}{more}"


def _prefix(settings_cls: type[BaseSettings]) -> str:
    return str(settings_cls.model_config.get("env_prefix") or "")


def service_config(prefix: str) -> SettingsConfigDict:
    """The settings config every service uses: its own prefix, nested with ``__``."""
    return SettingsConfigDict(
        env_prefix=prefix, env_nested_delimiter="__", extra="ignore", frozen=True
    )


class PlatformSettings(BaseSettings):
    """Where the shared infrastructure is; read from ``SIAR_*`` by every service."""

    model_config = SettingsConfigDict(env_prefix="SIAR_", extra="ignore", frozen=True)

    env: Environment = Field(
        default="prod", description="dev and test allow built-in development secrets."
    )
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated."
    )
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/?directConnection=true",
        description="MongoDB connection string (a replica set in production).",
    )
    kafka_idempotent_producer: bool = Field(
        default=True,
        description="Idempotent producer; off on brokers without InitProducerId (Tansu).",
    )
    mongo_serialize_transactions: bool = Field(
        default=False,
        description="Run one transaction at a time per process (for the embedded nx-27017).",
    )
    vault_url: str = Field(
        default="http://127.0.0.1:8105", description="Base URL of the vault's HTTP API."
    )
    scheduler_url: str = Field(
        default="http://127.0.0.1:8101",
        description="Base URL of the scheduler's HTTP API (its media library).",
    )
    jwt_issuer: str = Field(default="siar-vault", description="Issuer of user JWTs.")
    jwt_audience: str = Field(default="siar", description="Audience of user JWTs.")
    sandbox_comment_delay_s: float = Field(
        default=1.0, ge=0, description="How soon the sandbox network's fans comment on a post."
    )
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format.")

    @field_validator("log_level")
    @classmethod
    def _is_log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.upper()

    @field_validator("mongodb_url")
    @classmethod
    def _is_mongodb_url(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must be a mongodb:// or mongodb+srv:// connection string")
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _is_host_port_list(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("must be host:port[,host:port...]")
        return value


class ServiceSettings(BaseSettings):
    """Fields every service has under its own prefix, plus the platform's."""

    host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="HTTP port.")
    database: str = Field(default="", description="MongoDB database this service owns.")
    consumer_group: str = Field(default="", description="Kafka consumer group id.")
    graceful_timeout_s: float = Field(
        default=10.0, gt=0, description="How long shutdown waits for in-flight messages."
    )
    outbox_poll_s: float = Field(
        default=0.5, gt=0, description="Outbox relay poll interval when nothing wakes it."
    )
    service_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Client secret this service presents to the vault for service tokens.",
    )
    platform: PlatformSettings = Field(default_factory=PlatformSettings)

    @model_validator(mode="after")
    def _refuse_missing_secrets_outside_dev(self) -> ServiceSettings:
        if self.platform.env == "prod":
            for name in self.required_secrets():
                secret = getattr(self, name)
                if not secret.get_secret_value() or secret.get_secret_value() == "changethis":
                    env_var = f"{_prefix(type(self))}{name.upper()}"
                    raise ValueError(f"{env_var} must be set to a real secret when SIAR_ENV=prod")
        return self

    def required_secrets(self) -> tuple[str, ...]:
        """Names of SecretStr fields that must hold a real value in prod."""
        return ()
