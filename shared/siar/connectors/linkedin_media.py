"""LinkedIn media: the Images API (one PUT) and the Videos API (multi-part upload).

An image is registered with ``POST /rest/images?action=initializeUpload`` and its
bytes PUT whole to the ``uploadUrl`` returned. A video is registered with
``POST /rest/videos?action=initializeUpload`` (``fileSizeBytes``), which answers
with one ``uploadInstructions`` entry per part (``firstByte``..``lastByte``, about
4 MB each); each part is PUT to its URL and its ``ETag`` kept; ``finalizeUpload``
then takes the ETags in order, and ``GET /rest/videos/{urn}`` says when the video is
``AVAILABLE`` to post.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem
from siar.connectors.rules import MediaKind

if TYPE_CHECKING:
    from siar.connectors.linkedin import LinkedInConnector

MAX_IMAGE_PIXELS = 36_152_320
MIN_VIDEO_BYTES = 75 * 1024


def urn_path(urn: str) -> str:
    """A URN as one path segment or query value (Rest.li 2.0 wants it percent-encoded)."""
    return quote(urn, safe="")


def check(connector: LinkedInConnector, media: MediaItem) -> None:
    """Refuse media LinkedIn would refuse, before any byte is sent."""
    video = media.kind is MediaKind.VIDEO
    limits = connector.rules.video if video else connector.rules.image
    if limits is None or media.mime_type not in limits.mime_types:
        raise PermanentError(f"LinkedIn does not accept {media.mime_type} {media.kind.value}s")
    size = len(media.content)
    if not size:
        raise PermanentError(f"{media.filename} has no content to upload")
    if size > limits.max_bytes or (video and size < MIN_VIDEO_BYTES):
        raise PermanentError(
            f"LinkedIn accepts {media.kind.value}s up to {limits.max_bytes // (1024 * 1024)} MB"
            f"{' and from 75 KB' if video else ''}; {media.filename} has {size} bytes"
        )
    if media.width and media.height and media.width * media.height > MAX_IMAGE_PIXELS:
        raise PermanentError(f"LinkedIn accepts images up to {MAX_IMAGE_PIXELS:,} pixels")
    if video and media.duration_s is not None and limits.max_duration_s is not None:
        low = limits.min_duration_s or 0.0
        if not low <= media.duration_s <= limits.max_duration_s:
            raise PermanentError(
                f"LinkedIn accepts videos of {low:g}-{limits.max_duration_s:g} s; "
                f"{media.filename} lasts {media.duration_s:g} s"
            )


def _value(body: Any, *keys: str) -> dict[str, Any]:
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, dict) or any(not value.get(key) for key in keys):
        raise RetryableError(f"LinkedIn's upload registration lacked {', '.join(keys)}")
    return value


async def upload(
    connector: LinkedInConnector, credential: Credential, owner: str, media: MediaItem
) -> str:
    """Upload one image or video owned by ``owner``; its ``urn:li:image``/``video`` URN."""
    check(connector, media)
    if media.kind is MediaKind.VIDEO:
        return await _upload_video(connector, credential, owner, media)
    body = await connector.api(
        "POST",
        "/rest/images?action=initializeUpload",
        credential,
        json={"initializeUploadRequest": {"owner": owner}},
    )
    value = _value(body, "uploadUrl", "image")
    await connector.call(
        "PUT",
        str(value["uploadUrl"]),
        credential=credential,
        content=media.content,
        headers={"content-type": media.mime_type},
        expect_json=False,
        deadline_s=connector.upload_deadline_s,
    )
    return str(value["image"])


async def _upload_video(
    connector: LinkedInConnector, credential: Credential, owner: str, media: MediaItem
) -> str:
    content = media.content
    body = await connector.api(
        "POST",
        "/rest/videos?action=initializeUpload",
        credential,
        json={
            "initializeUploadRequest": {
                "owner": owner,
                "fileSizeBytes": len(content),
                "uploadCaptions": False,
                "uploadThumbnail": False,
            }
        },
    )
    value = _value(body, "video", "uploadInstructions")
    video = str(value["video"])
    etags = []
    for part in value["uploadInstructions"]:
        first, last = int(part["firstByte"]), int(part["lastByte"])
        # The part URLs are pre-signed: the documented request carries no token.
        response = await connector.call(
            "PUT",
            str(part["uploadUrl"]),
            content=content[first : last + 1],
            headers={"content-type": "application/octet-stream"},
            expect_json=False,
            deadline_s=connector.upload_deadline_s,
        )
        etag = response.headers.get("etag")
        if not etag:
            raise RetryableError(f"LinkedIn gave no ETag for bytes {first}-{last} of the video")
        etags.append(etag)
    await connector.api(
        "POST",
        "/rest/videos?action=finalizeUpload",
        credential,
        json={
            "finalizeUploadRequest": {
                "video": video,
                "uploadToken": str(value.get("uploadToken") or ""),
                "uploadedPartIds": etags,
            }
        },
        expect_json=False,
    )
    await _await_available(connector, credential, video)
    return video


async def _await_available(
    connector: LinkedInConnector, credential: Credential, video: str
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connector.upload_deadline_s
    while True:
        body = await connector.api("GET", f"/rest/videos/{urn_path(video)}", credential)
        status = body.get("status") if isinstance(body, dict) else None
        if status == "AVAILABLE":
            return
        if status == "PROCESSING_FAILED":
            reason = body.get("processingFailureReason") or "no reason given"
            raise PermanentError(f"LinkedIn could not process the video: {reason}")
        if loop.time() >= deadline:
            raise RetryableError(f"LinkedIn was still processing {video} at the upload deadline")
        await asyncio.sleep(connector.poll_interval_s)
