"""Bluesky media: blobs uploaded to the PDS, then embedded in the post record.

Images go in ``app.bsky.embed.images`` (up to four), a video alone in
``app.bsky.embed.video``; both with alt text and aspect ratio when known. A link that
is not in the text becomes an ``app.bsky.embed.external`` card when there are no
media. Videos use the documented simple method (``uploadBlob`` to the PDS): the
Bluesky video service then processes them once the post is in the firehose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem, OutgoingPost
from siar.connectors.rules import ContentRules, MediaKind

if TYPE_CHECKING:
    from siar.connectors.bluesky import BlueskyConnector

MAX_IMAGES = 4


def check_media(rules: ContentRules, item: MediaItem) -> None:
    """Refuse media Bluesky would refuse, before anything is uploaded."""
    limits = rules.video if item.kind is MediaKind.VIDEO else rules.image
    if limits is not None and item.mime_type not in limits.mime_types:
        raise PermanentError(f"Bluesky does not accept {item.mime_type} {item.kind.value}s")
    size = len(item.content)
    if not size:
        raise PermanentError(f"{item.filename} has no content to upload")
    if limits is not None and size > limits.max_bytes:
        raise PermanentError(
            f"{item.filename} is {size} bytes; Bluesky accepts at most {limits.max_bytes}"
        )


async def upload_blob(
    connector: BlueskyConnector, credential: Credential, item: MediaItem
) -> dict[str, Any]:
    """Upload one image or video as a blob; returns the blob object for the record."""
    check_media(connector.rules, item)
    body = await connector.xcall(
        "POST",
        "com.atproto.repo.uploadBlob",
        credential,
        content=item.content,
        headers={"content-type": item.mime_type},
        deadline_s=connector.upload_deadline_s,
    )
    blob = body.get("blob")
    if not isinstance(blob, dict):
        raise RetryableError(f"Bluesky did not return the uploaded blob for {item.filename}")
    return blob


def _with_shape(entry: dict[str, Any], item: MediaItem) -> dict[str, Any]:
    if item.width and item.height:
        entry["aspectRatio"] = {"width": item.width, "height": item.height}
    return entry


async def embed(
    connector: BlueskyConnector, credential: Credential, post: OutgoingPost
) -> dict[str, Any] | None:
    """The embed for ``post``: images, a video, a link card, or nothing."""
    media = post.media
    if not media:
        if post.link and post.link not in post.text:
            external = {"uri": post.link, "title": post.title or post.link, "description": ""}
            return {"$type": "app.bsky.embed.external", "external": external}
        return None
    videos = [m for m in media if m.kind is MediaKind.VIDEO]
    if videos and len(media) > 1:
        raise PermanentError("a Bluesky post carries either one video or up to four images")
    if len(media) > MAX_IMAGES:
        raise PermanentError(f"a Bluesky post carries at most {MAX_IMAGES} images")
    for item in media:
        check_media(connector.rules, item)
    if videos:
        video = videos[0]
        entry = {
            "$type": "app.bsky.embed.video",
            "video": await upload_blob(connector, credential, video),
        }
        if video.alt_text:
            entry["alt"] = video.alt_text
        return _with_shape(entry, video)
    images = [
        _with_shape(
            {
                "alt": item.alt_text or "",
                "image": await upload_blob(connector, credential, item),
            },
            item,
        )
        for item in media
    ]
    return {"$type": "app.bsky.embed.images", "images": images}
