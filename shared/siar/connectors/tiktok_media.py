"""TikTok Content Posting API: post initialisation, chunked transfer, status polling.

The video bytes go to the ``upload_url`` TikTok returns from an init call, as
sequential ``PUT`` requests with ``Content-Range`` (media transfer guide: chunks of
5-64 MB, the last may carry the trailing bytes up to 128 MB, a video under 5 MB or up
to one chunk goes whole). The post then moves through processing and moderation;
``/v2/post/publish/status/fetch/`` tells where it is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RetryableError,
)
from siar.connectors.models import Credential, MediaItem, OutgoingPost

if TYPE_CHECKING:
    from siar.connectors.tiktok import TikTokConnector

MIN_CHUNK = 5 * 1024 * 1024
MAX_PHOTO_TITLE = 90
MAX_CHUNK = 64 * 1024 * 1024
STATUS_PATH = "/v2/post/publish/status/fetch/"

# fail_reason values of a FAILED post (Get Post Status reference): nothing was posted,
# so these retry safely; the rest need a different video, account or text.
_RETRYABLE_FAILURES = frozenset({"internal", "video_pull_failed", "photo_pull_failed"})
_AUTH_FAILURES = frozenset({"auth_removed"})


@dataclass(frozen=True)
class ChunkPlan:
    """How a video is cut for TikTok's FILE_UPLOAD transfer."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> list[tuple[int, int]]:
        """Inclusive byte ranges of each chunk; the last one takes the trailing bytes."""
        spans = []
        for index in range(self.total_chunk_count):
            first = index * self.chunk_size
            last = (
                self.video_size - 1
                if index == self.total_chunk_count - 1
                else first + self.chunk_size - 1
            )
            spans.append((first, last))
        return spans


def plan_chunks(video_size: int, preferred: int) -> ChunkPlan:
    """The chunking TikTok accepts for ``video_size`` bytes, near ``preferred`` per chunk."""
    if video_size <= 0:
        raise PermanentError("the video is empty")
    chunk = min(max(preferred, MIN_CHUNK), MAX_CHUNK)
    if video_size <= chunk:
        # Under 5 MB it must go whole; up to one chunk it may.
        return ChunkPlan(video_size, video_size, 1)
    # total_chunk_count is video_size / chunk_size rounded down (the last chunk is larger).
    return ChunkPlan(video_size, chunk, video_size // chunk)


async def post_video(
    connector: TikTokConnector,
    credential: Credential,
    creator: dict[str, Any],
    privacy: str,
    post: OutgoingPost,
    video: MediaItem,
) -> str:
    """Initialise a direct video post (``FILE_UPLOAD``) and transfer it; the publish id."""
    longest = creator.get("max_video_post_duration_sec")
    if video.duration_s and isinstance(longest, int | float) and video.duration_s > longest:
        raise PermanentError(
            f"this TikTok account can post videos up to {longest:g} s; "
            f"the video lasts {video.duration_s:g} s"
        )
    plan = plan_chunks(len(video.content), connector.chunk_size)
    body = await connector.call(
        "POST",
        "/v2/post/publish/video/init/",
        credential=credential,
        headers={"content-type": "application/json; charset=UTF-8"},
        json={
            "post_info": {
                "title": post.text,
                "privacy_level": privacy,
                "disable_comment": bool(creator.get("comment_disabled")),
                "disable_duet": bool(creator.get("duet_disabled")),
                "disable_stitch": bool(creator.get("stitch_disabled")),
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            },
        },
    )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("publish_id") or not data.get("upload_url"):
        raise RetryableError("TikTok gave no upload URL for the video")
    publish_id = str(data["publish_id"])
    await transfer(connector, credential, str(data["upload_url"]), publish_id, video, plan)
    return publish_id


async def post_photos(
    connector: TikTokConnector,
    credential: Credential,
    creator: dict[str, Any],
    privacy: str,
    post: OutgoingPost,
    urls: list[str],
) -> str:
    """Initialise a direct photo post TikTok pulls from ``urls``; the publish id."""
    body = await connector.call(
        "POST",
        "/v2/post/publish/content/init/",
        credential=credential,
        headers={"content-type": "application/json; charset=UTF-8"},
        json={
            "post_info": {
                "title": (post.title or "")[:MAX_PHOTO_TITLE],
                "description": post.text,
                "privacy_level": privacy,
                "disable_comment": bool(creator.get("comment_disabled")),
                "auto_add_music": True,
            },
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": urls,
            },
            "post_mode": "DIRECT_POST",
            "media_type": "PHOTO",
        },
    )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("publish_id"):
        raise RetryableError("TikTok gave no publish id for the photos")
    return str(data["publish_id"])


async def transfer(
    connector: TikTokConnector,
    credential: Credential,
    upload_url: str,
    publish_id: str,
    media: MediaItem,
    plan: ChunkPlan,
) -> None:
    """PUT the video to ``upload_url`` chunk by chunk, in order."""
    content = media.content
    spans = plan.ranges()
    for number, (first, last) in enumerate(spans, start=1):
        headers = {
            "content-type": media.mime_type,
            "content-range": f"bytes {first}-{last}/{plan.video_size}",
        }
        try:
            response = await connector.call(
                "PUT",
                upload_url,
                content=content[first : last + 1],
                headers=headers,
                expect_json=False,
                deadline_s=connector.upload_deadline_s,
            )
        except RetryableError:
            # A lost answer to the last chunk may hide a finished upload: ask before
            # failing, or a retry would post the video twice.
            if number == len(spans) and await _upload_landed(
                connector, credential, publish_id, plan.video_size
            ):
                return
            raise
        if response.status_code not in (200, 201, 206):
            raise RetryableError(
                f"TikTok answered HTTP {response.status_code} to video chunk {number}"
            )


async def _upload_landed(
    connector: TikTokConnector, credential: Credential, publish_id: str, size: int
) -> bool:
    try:
        data = await fetch_status(connector, credential, publish_id)
    except ConnectorError:
        return False
    if data.get("status") == "FAILED":
        return False
    uploaded = data.get("uploaded_bytes")
    return data.get("status") in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX") or (
        isinstance(uploaded, int) and uploaded >= size
    )


async def fetch_status(
    connector: TikTokConnector, credential: Credential, publish_id: str
) -> dict[str, Any]:
    """The ``data`` of a publish status fetch."""
    body = await connector.call(
        "POST", STATUS_PATH, credential=credential, json={"publish_id": publish_id}
    )
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def public_post_id(data: dict[str, Any]) -> str | None:
    """The public video id of a completed post, once moderation released it."""
    # The documented field name is misspelt ("publicaly"); accept the fixed spelling too.
    for key in ("publicaly_available_post_id", "publicly_available_post_id"):
        ids = data.get(key)
        if isinstance(ids, list) and ids:
            return str(ids[0])
    return None


def failure(reason: Any) -> ConnectorError:
    """The error a FAILED post's ``fail_reason`` means."""
    text = str(reason or "unknown")
    message = f"TikTok could not publish the post: {text}"
    if text in _RETRYABLE_FAILURES:
        return RetryableError(message)
    if text in _AUTH_FAILURES:
        return AuthExpiredError(f"{message} (the account removed Siar's access)")
    return PermanentError(message)


async def await_publish(connector: TikTokConnector, credential: Credential, publish_id: str) -> str:
    """Poll the post's status: its public video id, or ``publish_id`` if none yet.

    Once the media is with TikTok the post exists or soon will, so no error after this
    point may make the caller post again: only a FAILED status raises.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connector.publish_wait_s
    while True:
        try:
            data = await fetch_status(connector, credential, publish_id)
        except ConnectorError:
            return publish_id
        status = data.get("status")
        if status == "FAILED":
            raise failure(data.get("fail_reason"))
        found = public_post_id(data)
        if found is not None:
            return found
        if status == "SEND_TO_USER_INBOX" or loop.time() >= deadline:
            return publish_id
        await asyncio.sleep(connector.poll_interval_s)
