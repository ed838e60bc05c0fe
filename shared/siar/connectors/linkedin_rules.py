"""LinkedIn's tables (capabilities, content rules, limits, OAuth) and its little text format."""

from __future__ import annotations

from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaLimits,
    OAuthConfig,
    PostFormat,
    RateLimit,
)

API_BASE = "https://api.linkedin.com"
OAUTH_BASE = "https://www.linkedin.com/oauth/v2"

# Each version is served for a year; move it forward as LinkedIn sunsets old ones.
API_VERSION = "202608"
MAX_COMMENTARY = 3000
MAX_IMAGES = 20
_RESERVED = frozenset("\\|{}@[]()<>#*_~")


def little_text(text: str) -> str:
    """``text`` as LinkedIn's "little" format: reserved characters escaped, hashtags kept.

    A ``#`` that starts a word stays a hashtag element; every other reserved character
    is escaped with a backslash, or LinkedIn would read it as markup (or cut the post).
    """
    out = []
    for index, char in enumerate(text):
        starts_tag = (
            char == "#"
            and index + 1 < len(text)
            and (text[index + 1].isalnum())
            and (index == 0 or not text[index - 1].isalnum())
        )
        out.append("\\" + char if char in _RESERVED and not starts_tag else char)
    return "".join(out)


CAPABILITIES = frozenset(
    {
        Capability.TEXT,
        Capability.IMAGE,
        Capability.VIDEO,
        Capability.CAROUSEL,
        Capability.FIRST_COMMENT,
        Capability.REPLY,
        Capability.LIKE,
        Capability.DELETE_COMMENT,
        Capability.REPOST,
        Capability.FETCH_COMMENTS,
        Capability.ACCOUNT_METRICS,
        Capability.POST_METRICS,
        Capability.WEBHOOKS,
    }
)

RULES = ContentRules(
    max_text_chars=MAX_COMMENTARY,
    max_media=MAX_IMAGES,  # a multi-image post; a video post has exactly one
    formats=frozenset({PostFormat.FEED, PostFormat.CAROUSEL, PostFormat.VIDEO}),
    image=MediaLimits(
        mime_types=frozenset({"image/jpeg", "image/png", "image/gif"}),
        # LinkedIn documents a pixel cap (36,152,320), not a byte cap: stay modest.
        max_bytes=5 * 1024 * 1024,
    ),
    video=MediaLimits(
        mime_types=frozenset({"video/mp4"}),
        max_bytes=500 * 1024 * 1024,
        min_aspect=1 / 2.4,
        max_aspect=2.4,
        min_duration_s=3.0,
        max_duration_s=30 * 60.0,
    ),
)

# Posts API: 150 requests per member and 100,000 per application per day.
RATE_LIMIT = RateLimit(calls=150, per_seconds=86_400)
APP_RATE_LIMIT = RateLimit(calls=100_000, per_seconds=86_400, per_app=True)

OAUTH = OAuthConfig(
    authorize_url=f"{OAUTH_BASE}/authorization",
    token_url=f"{OAUTH_BASE}/accessToken",
    scopes=(
        "openid",
        "profile",
        "w_member_social",
        "r_organization_social",
        "w_organization_social",
        "rw_organization_admin",
    ),
    # PKCE is offered to native apps only; web apps use the client secret.
    pkce=False,
    revoke_url=f"{OAUTH_BASE}/revoke",
)
