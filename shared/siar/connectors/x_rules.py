"""X's tables: capabilities, content rules, rate limits, OAuth and metric names.

Kept apart from :mod:`siar.connectors.x` so the connector holds behaviour only; the
figures come from X's API v2 documentation (Basic tier).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from siar.connectors.models import MetricsSnapshot
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaLimits,
    OAuthConfig,
    PostFormat,
    RateLimit,
)
from siar.connectors.x_text import MAX_WEIGHTED_LENGTH

API_BASE = "https://api.x.com"

CAPABILITIES = frozenset(
    {
        Capability.TEXT,
        Capability.IMAGE,
        Capability.VIDEO,
        Capability.THREAD,
        Capability.FIRST_COMMENT,
        Capability.REPLY,
        Capability.DM,
        Capability.LIKE,
        Capability.HIDE_COMMENT,
        Capability.DELETE_COMMENT,
        Capability.REPOST,
        Capability.FETCH_COMMENTS,
        Capability.FETCH_DMS,
        Capability.ACCOUNT_METRICS,
        Capability.POST_METRICS,
        Capability.WEBHOOKS,
    }
)
RULES = ContentRules(
    max_text_chars=MAX_WEIGHTED_LENGTH,  # weighted: see x_text.weighted_length
    max_media=4,  # up to 4 images, or 1 GIF, or 1 video
    formats=frozenset({PostFormat.FEED, PostFormat.THREAD, PostFormat.VIDEO}),
    image=MediaLimits(
        mime_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
        max_bytes=5 * 1024 * 1024,  # GIFs: 15 MB (x_media.GIF_MAX_BYTES)
    ),
    video=MediaLimits(
        mime_types=frozenset({"video/mp4", "video/quicktime"}),
        max_bytes=512 * 1024 * 1024,
        min_aspect=1 / 3,
        max_aspect=3.0,
        min_duration_s=0.5,
        max_duration_s=140.0,
    ),
    max_thread_parts=25,
)
# POST /2/tweets on the Basic tier: 100 per user and 1,667 per app per 24 hours.
RATE_LIMIT = RateLimit(calls=100, per_seconds=86_400)
APP_RATE_LIMIT = RateLimit(calls=1_667, per_seconds=86_400, per_app=True)
OAUTH = OAuthConfig(
    authorize_url="https://x.com/i/oauth2/authorize",
    token_url=f"{API_BASE}/2/oauth2/token",
    scopes=(
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",
        "like.write",
        "dm.read",
        "dm.write",
        "offline.access",
    ),
    pkce=True,
    revoke_url=f"{API_BASE}/2/oauth2/revoke",
)

# X's metric names -> Siar's.
PUBLIC_METRICS = {
    "retweet_count": "reposts",
    "reply_count": "replies",
    "like_count": "likes",
    "quote_count": "quotes",
    "bookmark_count": "bookmarks",
    "impression_count": "impressions",
}
PRIVATE_METRICS = {
    "url_link_clicks": "link_clicks",
    "user_profile_clicks": "profile_clicks",
    "engagements": "engagements",
}
USER_METRICS = {
    "followers_count": "followers",
    "following_count": "following",
    "tweet_count": "posts",
    "listed_count": "listed",
    "like_count": "likes",
}


def snapshot(raw: Any, names: dict[str, str]) -> MetricsSnapshot:
    """The numeric values of ``raw`` renamed by ``names``; partial if any is missing."""
    raw = raw if isinstance(raw, dict) else {}
    metrics = {
        ours: float(raw[theirs])
        for theirs, ours in names.items()
        if isinstance(raw.get(theirs), int | float)
    }
    return MetricsSnapshot(
        collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(names)
    )
