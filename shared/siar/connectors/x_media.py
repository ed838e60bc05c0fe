"""X API v2 media upload: one-shot for still images, chunked for GIFs and video.

Still images go whole to ``POST /2/media/upload`` (multipart, ``media_category``
``tweet_image``). GIFs and videos use the chunked flow: ``initialize`` (JSON),
``{id}/append`` once per segment (multipart, ``segment_index`` from 0), ``{id}/finalize``,
then ``GET /2/media/upload?command=STATUS`` while ``processing_info.state`` is
``pending`` or ``in_progress``. Alt text goes to ``POST /2/media/metadata``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem
from siar.connectors.rules import MediaKind, MediaLimits

if TYPE_CHECKING:
    from siar.connectors.x import XConnector

UPLOAD_PATH = "/2/media/upload"
# APPEND segments must be at most 5 MB; 4 MiB leaves room for the multipart framing.
SEGMENT_BYTES = 4 * 1024 * 1024
GIF_MAX_BYTES = 15 * 1024 * 1024
MAX_ALT_TEXT = 1000
_WAITING = frozenset({"pending", "in_progress"})


def category(media: MediaItem) -> str:
    """The ``media_category`` X expects for a post's media."""
    if media.kind is MediaKind.VIDEO:
        return "tweet_video"
    return "tweet_gif" if media.mime_type == "image/gif" else "tweet_image"


def check(media: MediaItem, limits: MediaLimits | None) -> None:
    """Refuse media X would refuse, before any byte is sent."""
    if limits is None or media.mime_type not in limits.mime_types:
        raise PermanentError(f"X does not accept {media.mime_type} {media.kind.value}s")
    size = len(media.content) or media.size_bytes
    most = GIF_MAX_BYTES if media.mime_type == "image/gif" else limits.max_bytes
    if size > most:
        raise PermanentError(
            f"X accepts {media.kind.value}s up to {most // (1024 * 1024)} MB; "
            f"{media.filename} has {size / (1024 * 1024):.1f} MB"
        )
    if not media.content:
        raise PermanentError(f"{media.filename} has no content to upload")
    if media.duration_s is not None and limits.max_duration_s is not None:
        low = limits.min_duration_s or 0.0
        if not low <= media.duration_s <= limits.max_duration_s:
            raise PermanentError(
                f"X accepts videos of {low:g}-{limits.max_duration_s:g} s; "
                f"{media.filename} lasts {media.duration_s:g} s"
            )


def _data(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("id"):
        raise RetryableError("X answered a media upload without a media id")
    return data


async def upload(connector: XConnector, credential: Credential, media: MediaItem) -> str:
    """Upload one image, GIF or video; its media id once X can attach it."""
    limits = connector.rules.video if media.kind is MediaKind.VIDEO else connector.rules.image
    check(media, limits)
    if category(media) == "tweet_image":
        media_id = await _upload_simple(connector, credential, media)
    else:
        media_id = await _upload_chunked(connector, credential, media)
    if media.alt_text and media.kind is MediaKind.IMAGE:
        await connector.call(
            "POST",
            "/2/media/metadata",
            credential=credential,
            json={
                "id": media_id,
                "metadata": {"alt_text": {"text": media.alt_text[:MAX_ALT_TEXT]}},
            },
        )
    return media_id


async def _upload_simple(connector: XConnector, credential: Credential, media: MediaItem) -> str:
    body = await connector.call(
        "POST",
        UPLOAD_PATH,
        credential=credential,
        data={"media_category": "tweet_image", "media_type": media.mime_type},
        files={"media": (media.filename, media.content, media.mime_type)},
        deadline_s=connector.upload_deadline_s,
    )
    return str(_data(body)["id"])


async def _upload_chunked(connector: XConnector, credential: Credential, media: MediaItem) -> str:
    content = media.content
    init = await connector.call(
        "POST",
        f"{UPLOAD_PATH}/initialize",
        credential=credential,
        json={
            "media_type": media.mime_type,
            "total_bytes": len(content),
            "media_category": category(media),
        },
    )
    media_id = str(_data(init)["id"])
    for index, start in enumerate(range(0, len(content), SEGMENT_BYTES)):
        # A 2xx with an empty or JSON body both mean the segment landed.
        await connector.call(
            "POST",
            f"{UPLOAD_PATH}/{media_id}/append",
            credential=credential,
            data={"segment_index": str(index)},
            files={
                "media": (
                    "segment",
                    content[start : start + SEGMENT_BYTES],
                    "application/octet-stream",
                )
            },
            expect_json=False,
            deadline_s=connector.upload_deadline_s,
        )
    final = await connector.call(
        "POST", f"{UPLOAD_PATH}/{media_id}/finalize", credential=credential
    )
    await _await_processing(connector, credential, media_id, _data(final).get("processing_info"))
    return media_id


async def _await_processing(
    connector: XConnector, credential: Credential, media_id: str, info: Any
) -> None:
    """Poll STATUS until X has processed the media (or says it cannot)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connector.upload_deadline_s
    while isinstance(info, dict) and info.get("state") in _WAITING:
        if loop.time() >= deadline:
            raise RetryableError(f"X was still processing {media_id} at the upload deadline")
        wait = info.get("check_after_secs")
        pause = float(wait) if isinstance(wait, int | float) else 1.0
        await asyncio.sleep(min(max(pause, 0.0), connector.poll_cap_s))
        body = await connector.call(
            "GET",
            UPLOAD_PATH,
            credential=credential,
            params={"command": "STATUS", "media_id": media_id},
        )
        info = _data(body).get("processing_info")
    if isinstance(info, dict) and info.get("state") == "failed":
        error = info.get("error")
        details: dict[str, Any] = error if isinstance(error, dict) else {}
        message = details.get("message") or details.get("name") or "unknown reason"
        raise PermanentError(f"X could not process the media: {message}")
