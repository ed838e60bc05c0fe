"""Instagram's tables: capabilities, content rules, rate limit, OAuth scopes, metric names."""

from __future__ import annotations

from siar.connectors.meta_graph import MB, facebook_login
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaLimits,
    PostFormat,
    RateLimit,
)

SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
)

ACCOUNT_METRICS = {
    "reach": "reach",
    "views": "views",
    "accounts_engaged": "engagements",
    "total_interactions": "interactions",
}

POST_METRICS = {
    "reach": "reach",
    "views": "views",
    "saved": "saves",
    "shares": "shares",
    "total_interactions": "interactions",
}

CAPABILITIES = frozenset(
    {
        Capability.IMAGE,
        Capability.VIDEO,
        Capability.REEL,
        Capability.STORY,
        Capability.CAROUSEL,
        Capability.FIRST_COMMENT,
        Capability.REPLY,
        Capability.HIDE_COMMENT,
        Capability.DELETE_COMMENT,
        Capability.FETCH_COMMENTS,
        Capability.ACCOUNT_METRICS,
        Capability.POST_METRICS,
        Capability.WEBHOOKS,
    }
)

RULES = ContentRules(
    max_text_chars=2200,
    max_hashtags=30,
    max_mentions=20,
    max_media=10,
    requires_media=True,
    formats=frozenset(
        {
            PostFormat.FEED,
            PostFormat.CAROUSEL,
            PostFormat.REEL,
            PostFormat.STORY,
            PostFormat.VIDEO,
        }
    ),
    # JPEG only, 8 MiB; feed images 4:5 to 1.91:1, stories 9:16 (the union is allowed).
    image=MediaLimits(
        mime_types=frozenset({"image/jpeg"}),
        max_bytes=8 * MB,
        min_aspect=9 / 16,
        max_aspect=1.91,
    ),
    # Reels: MP4 or MOV up to 1 GB, 3 s to 15 min, aspect 0.01:1 to 10:1.
    video=MediaLimits(
        mime_types=frozenset({"video/mp4", "video/quicktime"}),
        max_bytes=1024 * MB,
        min_aspect=0.01,
        max_aspect=10.0,
        max_duration_s=15 * 60,
        min_duration_s=3,
    ),
)

# Business use case limit: 4800 x impressions / 24 h per account; this stays under it.
RATE_LIMIT = RateLimit(calls=200, per_seconds=3600)

OAUTH = facebook_login(SCOPES)
