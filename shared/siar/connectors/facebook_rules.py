"""Facebook Pages' tables: capabilities, content rules, rate limit, OAuth scopes, metric names."""

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
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_engagement",
    "read_insights",
)

PAGE_METRICS = {
    "page_media_view": "views",
    "page_total_media_view_unique": "reach",
    "page_post_engagements": "engagements",
}

POST_METRICS = {
    "post_media_view": "views",
    "post_total_media_view_unique": "reach",
    "post_clicks": "clicks",
}

CAPABILITIES = frozenset(
    {
        Capability.TEXT,
        Capability.IMAGE,
        Capability.VIDEO,
        Capability.CAROUSEL,
        Capability.FIRST_COMMENT,
        Capability.REPLY,
        Capability.LIKE,
        Capability.HIDE_COMMENT,
        Capability.DELETE_COMMENT,
        Capability.FETCH_COMMENTS,
        Capability.ACCOUNT_METRICS,
        Capability.POST_METRICS,
        Capability.WEBHOOKS,
    }
)

RULES = ContentRules(
    max_text_chars=63206,
    # Several photos make one multi-photo post; a video is posted alone.
    max_media=10,
    formats=frozenset({PostFormat.FEED, PostFormat.CAROUSEL, PostFormat.VIDEO}),
    # Page photos: under 4 MB, JPG, PNG, GIF, TIFF, HEIF or WebP.
    image=MediaLimits(
        mime_types=frozenset(
            {"image/jpeg", "image/png", "image/gif", "image/tiff", "image/heif", "image/webp"}
        ),
        max_bytes=4 * MB,
    ),
    # Videos: up to 10 GB and 240 minutes through resumable upload (1 GB whole).
    video=MediaLimits(
        mime_types=frozenset({"video/mp4", "video/quicktime"}),
        max_bytes=10 * 1024 * MB,
        max_duration_s=240 * 60,
        min_duration_s=1,
    ),
)

# Page calls scale with engaged users (4800 x users / 24 h); this stays well under.
RATE_LIMIT = RateLimit(calls=200, per_seconds=3600)

OAUTH = facebook_login(SCOPES)
