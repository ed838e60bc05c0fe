"""Request and response bodies of the vault API."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from siar.runtime.roles import Role

T = TypeVar("T")


class UserCreate(BaseModel):
    """Sign-up."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    name: str = Field(min_length=1, max_length=200)


class UserPublic(BaseModel):
    """A user as shown."""

    id: str
    email: str
    name: str


class TokenResponse(BaseModel):
    """OAuth 2.0 token response."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str | None = None


class WorkspaceCreate(BaseModel):
    """A new workspace."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class WorkspacePublic(BaseModel):
    """A workspace with the caller's role."""

    id: str
    name: str
    role: Role
    created_at: datetime


class MemberAdd(BaseModel):
    """Give a user a role."""

    model_config = ConfigDict(extra="forbid")
    email: str
    role: Role


class MemberPublic(BaseModel):
    """A member; ``email`` and ``name`` so teammates can tell each other apart."""

    user_id: str
    role: Role
    email: str | None = None
    name: str | None = None


class ManualToken(BaseModel):
    """A token obtained outside Siar (e.g. a long-lived page token)."""

    model_config = ConfigDict(extra="forbid")
    access_token: SecretStr = Field(min_length=1, max_length=4096)
    refresh_token: SecretStr | None = Field(default=None, max_length=4096)
    expires_at: AwareDatetime | None = None
    network_account_id: str = Field(min_length=1, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    extra: dict[str, str] = Field(default_factory=dict, max_length=20)


class AccountConnect(BaseModel):
    """Connect an account: sandbox by handle, Bluesky with an app password, or a token."""

    model_config = ConfigDict(extra="forbid")
    network: str = Field(min_length=1, max_length=40)
    handle: str = Field(min_length=1, max_length=100)
    app_password: SecretStr | None = Field(default=None, max_length=200)
    manual_token: ManualToken | None = None


class AccountPublic(BaseModel):
    """An account as shown to people: never a secret."""

    id: str
    network: str
    handle: str
    display_name: str | None
    status: str
    token_expires_at: datetime | None
    connected_at: datetime


class LeaseRequest(BaseModel):
    """Why a service needs a credential (recorded in the audit log)."""

    model_config = ConfigDict(extra="forbid")
    purpose: str = Field(min_length=1, max_length=100)


class RefreshRequest(BaseModel):
    """Which credential the network refused, so a newer one is not refreshed in its place."""

    model_config = ConfigDict(extra="forbid")
    refused_sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="SHA-256 (hex) of the access token the network refused.",
    )


class LeaseResponse(BaseModel):
    """A leased credential (services only)."""

    account_id: str
    network: str
    handle: str
    network_account_id: str
    access_token: str
    expires_at: datetime | None
    extra: dict[str, str] = {}


class AuditEntryPublic(BaseModel):
    """An audit log entry."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, str]
    prev_hash: str
    hash: str


class Items(BaseModel, Generic[T]):
    """A list response."""

    items: list[T]
