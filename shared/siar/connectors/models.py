"""Data a connector takes and returns; secrets stay in SecretStr."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from siar.connectors.rules import MediaKind, PostFormat

EngagementKind = Literal["reply", "dm", "like", "hide", "delete", "repost"]


class Credential(BaseModel):
    """An account's secret material as the vault leases it; never logged."""

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    extra: dict[str, str] = Field(default_factory=dict)


class AppCredentials(BaseModel):
    """Siar's own app registration on a network (OAuth client id and secret)."""

    client_id: str
    client_secret: SecretStr


class AccountRef(BaseModel):
    """Which account a call acts for."""

    workspace_id: str
    account_id: str
    network: str
    handle: str
    network_account_id: str | None = None


class MediaItem(BaseModel):
    """One image or video to upload, with what is known of it."""

    kind: MediaKind
    mime_type: str
    filename: str = "media"
    size_bytes: int = Field(ge=0)
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    alt_text: str | None = None
    url: str | None = Field(
        default=None, description="A public URL, for networks that pull media themselves."
    )
    content: bytes = Field(default=b"", repr=False, exclude=True)


class OutgoingPost(BaseModel):
    """What to publish; ``marker`` lets a lost outcome be found again on the network."""

    text: str
    marker: str = Field(description="Siar's delivery id, recoverable from the network's post.")
    link: str | None = None
    media_ids: list[str] = Field(default_factory=list)
    media: list[MediaItem] = Field(default_factory=list)
    format: PostFormat = PostFormat.FEED
    title: str | None = None
    first_comment: str | None = None
    thread: list[str] = Field(
        default_factory=list, description="Further parts after ``text`` for thread formats."
    )


class PublishedPost(BaseModel):
    """The network's receipt for a post."""

    network_post_id: str
    permalink: str | None = None
    published_at: datetime


class FetchedMessage(BaseModel):
    """A comment, mention or DM as fetched from the network."""

    network_message_id: str
    kind: str
    author_handle: str
    author_name: str | None = None
    author_followers: int | None = None
    text: str
    network_post_id: str | None = None
    parent_network_id: str | None = None
    sent_at: datetime


class Identity(BaseModel):
    """Who a credential belongs to on the network."""

    network_account_id: str
    handle: str
    display_name: str | None = None
    extra: dict[str, str] = Field(
        default_factory=dict, description="Per-account settings to keep (e.g. an instance URL)."
    )
    access_token: SecretStr | None = Field(
        default=None,
        repr=False,
        description="A token to store instead of the granted one (e.g. a Facebook Page token).",
    )


class ConnectedAccount(BaseModel):
    """The result of signing an account in: who it is and its credential."""

    handle: str
    display_name: str | None = None
    network_account_id: str
    credential: Credential


class Engagement(BaseModel):
    """An action on someone else's or our own content."""

    action: EngagementKind
    target_network_id: str
    text: str | None = None
    recipient_network_id: str | None = Field(
        default=None, description="For DMs: the person (or conversation) to write to."
    )


class EngagementResult(BaseModel):
    """What the network answered to an engagement."""

    network_id: str | None = None


class MetricsSnapshot(BaseModel):
    """Account or post metrics at one time; ``partial`` when the network omitted some."""

    collected_at: datetime
    metrics: dict[str, float]
    partial: bool = False
    dimensions: dict[str, dict[str, float]] | None = Field(
        default=None,
        description="Audience shares by dimension (age, gender, country, city), if given.",
    )


class PublicPost(BaseModel):
    """Someone's public post found by a search (research: mentions of a term)."""

    network_post_id: str
    author_handle: str
    text: str
    posted_at: datetime
    url: str | None = None
    likes: float = 0
    reposts: float = 0
    replies: float = 0


class PublicProfile(BaseModel):
    """A public account's public figures (research: competitors)."""

    handle: str
    display_name: str | None = None
    collected_at: datetime
    metrics: dict[str, float] = Field(description="followers, following, posts when shown.")


class TokenGrant(BaseModel):
    """Tokens from a network's token endpoint."""

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_in_s: int | None = None
    scope: str | None = None


@dataclass
class Page:
    """One page of fetched messages and the cursor for the next call."""

    messages: list[FetchedMessage] = field(default_factory=list)
    cursor: str | None = None
