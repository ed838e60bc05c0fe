"""Mastodon media: uploads with asynchronous processing, and an instance's own limits.

``POST /api/v2/media`` answers 200 with the attachment when it is ready, or 202 with
``url: null`` while the server processes it (large images, all videos); then
``GET /api/v1/media/:id`` answers 206 until processing ends (200, with a ``url``) or
fails (422). Only a processed attachment can be put on a status.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem
from siar.connectors.rules import ContentRules, MediaKind, MediaLimits

if TYPE_CHECKING:
    from siar.connectors.mastodon import MastodonConnector


def check_media(rules: ContentRules, media: list[MediaItem]) -> None:
    """Refuse media the instance would refuse, before anything is uploaded."""
    videos = [m for m in media if m.kind is MediaKind.VIDEO]
    if videos and len(media) > 1:
        raise PermanentError("a Mastodon post carries either one video or up to four images")
    if len(media) > rules.max_media:
        raise PermanentError(f"a Mastodon post carries at most {rules.max_media} attachments")
    for item in media:
        limits = rules.video if item.kind is MediaKind.VIDEO else rules.image
        if limits is not None and item.mime_type not in limits.mime_types:
            raise PermanentError(f"Mastodon does not accept {item.mime_type} {item.kind.value}s")
        if not item.content:
            raise PermanentError(f"{item.filename} has no content to upload")
        if limits is not None and len(item.content) > limits.max_bytes:
            raise PermanentError(
                f"{item.filename} is {len(item.content)} bytes; "
                f"Mastodon accepts at most {limits.max_bytes}"
            )


async def upload(
    connector: MastodonConnector, base: str, credential: Credential, item: MediaItem
) -> str:
    """Upload one attachment and wait until the instance has processed it; its id."""
    data = {"description": item.alt_text} if item.alt_text else None
    body = await connector.call(
        "POST",
        f"{base}/api/v2/media",
        credential=credential,
        files={"file": (item.filename, item.content, item.mime_type)},
        data=data,
        deadline_s=connector.upload_deadline_s,
    )
    media_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(media_id, str):
        raise RetryableError(f"Mastodon did not return an id for {item.filename}")
    deadline = time.monotonic() + connector.media_wait_s
    while body.get("url") is None:
        if time.monotonic() > deadline:
            raise RetryableError(f"Mastodon is still processing {item.filename}; try again later")
        await asyncio.sleep(connector.media_poll_s)
        body = await connector.call("GET", f"{base}/api/v1/media/{media_id}", credential=credential)
        if not isinstance(body, dict):
            raise RetryableError(f"Mastodon answered garbage about {item.filename}")
    return media_id


def _limits(limits: MediaLimits | None, mimes: set[str], size: Any) -> MediaLimits | None:
    if limits is None:
        return None
    known = frozenset(limits.mime_types & mimes) if mimes else limits.mime_types
    max_bytes = size if isinstance(size, int) and size > 0 else limits.max_bytes
    return replace(limits, mime_types=known or limits.mime_types, max_bytes=max_bytes)


async def instance_rules(connector: MastodonConnector, base: str) -> ContentRules:
    """The limits one instance sets (``GET /api/v2/instance``), over the defaults."""
    body = await connector.call("GET", f"{base}/api/v2/instance")
    config = body.get("configuration") if isinstance(body, dict) else None
    if not isinstance(config, dict):
        return connector.rules
    statuses = config.get("statuses")
    statuses = statuses if isinstance(statuses, dict) else {}
    media = config.get("media_attachments")
    media = media if isinstance(media, dict) else {}
    mimes = {m for m in media.get("supported_mime_types", []) if isinstance(m, str)}
    rules = connector.rules
    chars, count = statuses.get("max_characters"), statuses.get("max_media_attachments")
    return replace(
        rules,
        max_text_chars=chars if isinstance(chars, int) else rules.max_text_chars,
        max_media=count if isinstance(count, int) else rules.max_media,
        image=_limits(rules.image, mimes, media.get("image_size_limit")),
        video=_limits(rules.video, mimes, media.get("video_size_limit")),
    )
