"""What each network allows: formats, content limits, media limits, rate limits, OAuth."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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


class PostFormat(StrEnum):
    """The shape of a post on a network."""

    FEED = "feed"
    STORY = "story"
    REEL = "reel"
    THREAD = "thread"
    CAROUSEL = "carousel"
    VIDEO = "video"


class MediaKind(StrEnum):
    """Kinds of media a post can carry."""

    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class MediaLimits:
    """Limits on one kind of media (None means the network sets none we know of)."""

    mime_types: frozenset[str]
    max_bytes: int
    min_aspect: float | None = None
    max_aspect: float | None = None
    max_duration_s: float | None = None
    min_duration_s: float | None = None


@dataclass(frozen=True)
class ContentRules:
    """A network's limits, checked by the scheduler before a post can be scheduled."""

    max_text_chars: int
    max_hashtags: int | None = None
    max_mentions: int | None = None
    max_media: int = 0
    requires_media: bool = False
    formats: frozenset[PostFormat] = frozenset({PostFormat.FEED})
    image: MediaLimits | None = None
    video: MediaLimits | None = None
    max_title_chars: int | None = None
    max_thread_parts: int | None = None
    counts_graphemes: bool = False


@dataclass(frozen=True)
class RateLimit:
    """``calls`` per ``per_seconds`` for one account (or the whole app where ``per_app``)."""

    calls: int
    per_seconds: float
    per_app: bool = False


@dataclass(frozen=True)
class OAuthConfig:
    """How accounts of a network are connected with OAuth 2.0 (authorization code)."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool = True
    refreshable: bool = True
    scope_separator: str = " "
    revoke_url: str | None = None
    client_id_param: str = "client_id"
    extra_authorize_params: dict[str, str] = field(default_factory=dict)
