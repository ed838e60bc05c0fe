"""Bluesky's tables: capabilities, content rules and rate limits (it has no OAuth app)."""

from __future__ import annotations

from siar.connectors.bluesky_lexicon import MAX_GRAPHEMES
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaLimits,
    PostFormat,
    RateLimit,
)

CAPABILITIES = frozenset(
    {
        Capability.TEXT,
        Capability.IMAGE,
        Capability.VIDEO,
        Capability.CAROUSEL,
        Capability.THREAD,
        Capability.FIRST_COMMENT,
        Capability.REPLY,
        Capability.DM,
        Capability.LIKE,
        Capability.REPOST,
        Capability.FETCH_COMMENTS,
        Capability.ACCOUNT_METRICS,
        Capability.POST_METRICS,
    }
)

RULES = ContentRules(
    max_text_chars=MAX_GRAPHEMES,
    counts_graphemes=True,
    max_media=4,
    formats=frozenset({PostFormat.FEED, PostFormat.THREAD, PostFormat.CAROUSEL, PostFormat.VIDEO}),
    # app.bsky.embed.images: up to 4 images of at most 1,000,000 bytes each.
    image=MediaLimits(
        mime_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
        max_bytes=1_000_000,
    ),
    # app.bsky.embed.video allows one MP4 of 100,000,000 bytes and 3 minutes, but
    # uploadBlob to the PDS (the path used here) caps a blob at 50 MiB.
    video=MediaLimits(
        mime_types=frozenset({"video/mp4"}), max_bytes=52_428_800, max_duration_s=180
    ),
)

# 5,000 write points an hour per account, a create costs 3 (1,666/h): stay under.
RATE_LIMIT = RateLimit(calls=1500, per_seconds=3600)

# PDS API requests are limited per IP: 3,000 per 5 minutes.
APP_RATE_LIMIT = RateLimit(calls=3000, per_seconds=300, per_app=True)
