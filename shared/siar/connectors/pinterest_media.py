"""Pinterest API v5: the ``media_source`` of a new Pin, and video uploads.

Images travel inside the create-Pin request, as base64 (JPEG or PNG only) or as public
URLs Pinterest fetches; two to five make a carousel. A video is registered first
(``POST /media`` → ``media_id``, ``upload_url`` and ``upload_parameters``), sent to
that URL as a multipart form (the parameters, then the file; no bearer token), and
polled with ``GET /media/{media_id}`` until its status is ``succeeded``.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem, OutgoingPost
from siar.connectors.rules import MediaKind

if TYPE_CHECKING:
    from siar.connectors.pinterest import PinterestConnector

BASE64_TYPES = frozenset({"image/jpeg", "image/png"})
MAX_CAROUSEL = 5


def _encoded(item: MediaItem) -> dict[str, str]:
    if item.mime_type not in BASE64_TYPES:
        raise PermanentError(
            f"Pinterest takes uploaded images as JPEG or PNG, not {item.mime_type}"
        )
    return {"content_type": item.mime_type, "data": base64.b64encode(item.content).decode()}


def image_source(images: list[MediaItem], urls: list[str]) -> dict[str, Any]:
    """The media source for one image or a carousel of two to five."""
    if images and urls:
        raise PermanentError("a Pinterest carousel takes uploaded images or URLs, not both")
    count = len(images) + len(urls)
    if count > MAX_CAROUSEL:
        raise PermanentError(f"a Pinterest carousel holds at most {MAX_CAROUSEL} images")
    if urls:
        if count == 1:
            return {"source_type": "image_url", "url": urls[0]}
        return {"source_type": "multiple_image_urls", "items": [{"url": u} for u in urls]}
    if count == 1:
        return {"source_type": "image_base64", **_encoded(images[0])}
    return {"source_type": "multiple_image_base64", "items": [_encoded(i) for i in images]}


def video_cover(images: list[MediaItem], urls: list[str]) -> dict[str, Any]:
    """A video Pin's cover: the post's one image if it has one, else the first frame."""
    if len(images) + len(urls) > 1:
        raise PermanentError("a Pinterest video Pin takes at most one cover image")
    if urls:
        return {"cover_image_url": urls[0]}
    if images:
        encoded = _encoded(images[0])
        return {
            "cover_image_content_type": encoded["content_type"],
            "cover_image_data": encoded["data"],
        }
    return {"cover_image_key_frame_time": 0}


async def media_source(
    connector: PinterestConnector, credential: Credential, post: OutgoingPost
) -> dict[str, Any]:
    """The ``media_source`` for ``post``, uploading its video first if it has one."""
    videos = [m for m in post.media if m.kind is MediaKind.VIDEO]
    images = [m for m in post.media if m.kind is MediaKind.IMAGE]
    urls = [ref for ref in post.media_ids if ref.startswith("https://")]
    if len(videos) > 1:
        raise PermanentError("a Pinterest Pin holds one video")
    if videos:
        cover = video_cover(images, urls)
        media_id = await upload_video(connector, credential, videos[0])
        return {"source_type": "video_id", "media_id": media_id, **cover}
    if not images and not urls:
        raise PermanentError("a Pinterest Pin needs an image or a video")
    return image_source(images, urls)


async def upload_video(
    connector: PinterestConnector, credential: Credential, video: MediaItem
) -> str:
    """Register, upload and wait for a video; its ``media_id``."""
    registered = await connector.call(
        "POST", "/media", credential=credential, json={"media_type": "video"}
    )
    if not isinstance(registered, dict) or not registered.get("upload_url"):
        raise RetryableError("Pinterest registered no upload for the video")
    media_id = str(registered["media_id"])
    fields = registered.get("upload_parameters") or {}
    await connector.call(
        "POST",
        str(registered["upload_url"]),
        data={str(k): str(v) for k, v in fields.items()},
        files={"file": (video.filename, video.content, video.mime_type)},
        expect_json=False,
        deadline_s=connector.upload_deadline_s,
    )
    await _processed(connector, credential, media_id)
    return media_id


async def _processed(connector: PinterestConnector, credential: Credential, media_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connector.media_wait_s
    while True:
        body = await connector.call("GET", f"/media/{media_id}", credential=credential)
        status = body.get("status") if isinstance(body, dict) else None
        if status == "succeeded":
            return
        if status == "failed":
            raise PermanentError("Pinterest could not process the video (media status: failed)")
        if loop.time() >= deadline:
            # No Pin exists yet, so trying the whole post again is safe.
            raise RetryableError(f"Pinterest is still processing the video ({status})")
        await asyncio.sleep(connector.poll_interval_s)
