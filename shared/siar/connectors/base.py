"""The one interface every network connector implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr


class Capability(StrEnum):
    """What a connector can do on its network."""

    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    CAROUSEL = "carousel"
    STORY = "story"
    REEL = "reel"
    THREAD = "thread"
    FIRST_COMMENT = "first_comment"
    REPLY = "reply"
    DM = "dm"
    LIKE = "like"
    HIDE_COMMENT = "hide_comment"
    DELETE_COMMENT = "delete_comment"
    REPOST = "repost"
    FETCH_COMMENTS = "fetch_comments"
    FETCH_DMS = "fetch_dms"
    ACCOUNT_METRICS = "account_metrics"
    POST_METRICS = "post_metrics"
    WEBHOOKS = "webhooks"


@dataclass(frozen=True)
class ContentRules:
    """A network's limits, checked by the scheduler before a post can be scheduled."""

    max_text_chars: int
    max_hashtags: int | None = None
    max_media: int = 0
    requires_media: bool = False


@dataclass(frozen=True)
class RateLimit:
    """``calls`` per ``per_seconds``, per account (and per app where ``per_app``)."""

    calls: int
    per_seconds: float
    per_app: bool = False


class Credential(BaseModel):
    """An account's secret material as the vault leases it; never logged."""

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    extra: dict[str, str] = Field(default_factory=dict)


class AccountRef(BaseModel):
    """Which account a call acts for."""

    workspace_id: str
    account_id: str
    network: str
    handle: str


class OutgoingPost(BaseModel):
    """What to publish; ``marker`` lets a lost outcome be found again on the network."""

    text: str
    marker: str = Field(description="Siar's delivery id, recoverable from the network's post.")
    link: str | None = None
    media_ids: list[str] = Field(default_factory=list)


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
    text: str
    network_post_id: str | None = None
    parent_network_id: str | None = None
    sent_at: datetime


class ConnectedAccount(BaseModel):
    """The result of signing an account in: who it is and its credential."""

    handle: str
    display_name: str | None = None
    network_account_id: str
    credential: Credential


@dataclass
class Page:
    """One page of fetched messages and the cursor for the next call."""

    messages: list[FetchedMessage] = field(default_factory=list)
    cursor: str | None = None


class Connector(ABC):
    """A social network, as Siar uses it. One instance serves many accounts."""

    network: str
    display_name: str
    capabilities: frozenset[Capability]
    rules: ContentRules
    rate_limit: RateLimit

    @abstractmethod
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Publish ``post``; raises a :class:`~siar.connectors.errors.ConnectorError`."""

    @abstractmethod
    async def find_by_marker(
        self, account: AccountRef, credential: Credential, marker: str
    ) -> PublishedPost | None:
        """The account's recent post carrying ``marker``, if the network has it."""

    @abstractmethod
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments, mentions and DMs newer than ``cursor``, oldest first."""
