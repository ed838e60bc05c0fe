"""YouTube Data API v3: the resumable upload protocol for ``videos.insert``.

A ``POST`` with the video resource and ``X-Upload-Content-Length/Type`` opens a
session whose URI comes back in ``Location``. The bytes go there in ``PUT`` chunks
(multiples of 256 KiB but the last) with ``Content-Range``; each unfinished chunk is
answered ``308 Resume Incomplete`` with ``Range: bytes=0-<last byte received>``. After
an interruption, an empty ``PUT`` with ``Content-Range: bytes */<total>`` asks how far
the upload got (308 with the range, or 200/201 with the video if it is complete), and
the upload resumes from the next byte.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem, OutgoingPost

if TYPE_CHECKING:
    from siar.connectors.youtube import YouTubeConnector

CHUNK_UNIT = 256 * 1024
MAX_DESCRIPTION_BYTES = 5000
MAX_TAG_CHARS = 500
PRIVACY = frozenset({"public", "unlisted", "private"})
HASHTAG = re.compile(r"#(\w+)")
# Titles and descriptions may hold any UTF-8 character except < and >.
ANGLES = str.maketrans({"<": "\uff1c", ">": "\uff1e"})


class UploadSessionExpired(RetryableError):
    """The upload session is gone (404/410): the whole upload must start again."""


def youtube_text(text: str) -> str:
    """``text`` as YouTube stores it in a title or description (angle brackets replaced)."""
    return text.translate(ANGLES).strip()


def video_title(post: OutgoingPost) -> str:
    """The title a post's video gets: its own, else the first line of its text."""
    source = post.title or next((line for line in post.text.splitlines() if line.strip()), "")
    return youtube_text(source)[:100].strip()


def hashtags_as_tags(text: str) -> list[str]:
    """The text's hashtags as video tags, within YouTube's 500-character budget."""
    tags: list[str] = []
    used = 0
    for tag in dict.fromkeys(HASHTAG.findall(text)):
        cost = len(tag) + 1  # each tag also costs a separator
        if used + cost > MAX_TAG_CHARS:
            break
        tags.append(tag)
        used += cost
    return tags


def video_resource(post: OutgoingPost, settings: Mapping[str, str]) -> dict[str, Any]:
    """The ``snippet`` and ``status`` of the video to insert for ``post``.

    ``settings`` (the credential's extra) may set ``privacy_status`` (public, unlisted,
    private), ``category_id`` (default 22, People & Blogs) and ``made_for_kids``.
    """
    title, description = video_title(post), youtube_text(post.text)
    if not title:
        raise PermanentError("a YouTube video needs a title")
    size = len(description.encode())
    if size > MAX_DESCRIPTION_BYTES:
        raise PermanentError(
            f"a YouTube description holds {MAX_DESCRIPTION_BYTES} bytes; this one has {size}"
        )
    privacy = settings.get("privacy_status", "public")
    if privacy not in PRIVACY:
        raise PermanentError(f"YouTube has no privacy status {privacy!r}")
    snippet: dict[str, Any] = {
        "title": title,
        "description": description,
        "categoryId": settings.get("category_id", "22"),
    }
    tags = hashtags_as_tags(post.text)
    if tags:
        snippet["tags"] = tags
    return {
        "snippet": snippet,
        "status": {
            "privacyStatus": privacy,
            "selfDeclaredMadeForKids": settings.get("made_for_kids") == "true",
        },
    }


async def upload_video(
    connector: YouTubeConnector,
    credential: Credential,
    resource: dict[str, Any],
    media: MediaItem,
) -> dict[str, Any]:
    """Upload ``media`` as a new video described by ``resource``; the created video."""
    session = await open_session(connector, credential, resource, media)
    return await send(connector, credential, session, media)


async def open_session(
    connector: YouTubeConnector,
    credential: Credential,
    resource: dict[str, Any],
    media: MediaItem,
) -> str:
    """Start a resumable session; its URI."""
    response = await connector.call(
        "POST",
        f"{connector.upload_base}/youtube/v3/videos",
        credential=credential,
        params={"uploadType": "resumable", "part": "snippet,status"},
        json=resource,
        headers={
            "content-type": "application/json; charset=UTF-8",
            "x-upload-content-length": str(len(media.content)),
            "x-upload-content-type": media.mime_type,
        },
        expect_json=False,
    )
    location = response.headers.get("location")
    if not location:
        raise RetryableError("YouTube opened no upload session (no Location header)")
    return str(location)


async def send(
    connector: YouTubeConnector, credential: Credential, session: str, media: MediaItem
) -> dict[str, Any]:
    """PUT the bytes in chunks, resuming after interruptions; the created video."""
    total = len(media.content)
    offset: int | None = 0
    failures = 0
    while True:
        try:
            if offset is None:
                response = await _put(connector, credential, session, b"", f"bytes */{total}")
            else:
                end = min(offset + connector.chunk_size, total)
                response = await _put(
                    connector,
                    credential,
                    session,
                    media.content[offset:end],
                    f"bytes {offset}-{end - 1}/{total}",
                    media.mime_type,
                )
            if response.status_code in (200, 201):
                return _video(response)
            if response.status_code != 308:
                raise RetryableError(f"YouTube answered HTTP {response.status_code} to a chunk")
            offset = next_offset(response.headers.get("range"))
            if offset >= total:
                raise RetryableError("YouTube holds every byte but has not finished the upload")
        except UploadSessionExpired:
            raise
        except RetryableError:
            failures += 1
            if failures > connector.max_resumes:
                raise
            await asyncio.sleep(connector.resume_delay_s * 2 ** (failures - 1))
            offset = None  # ask the session how far it got before sending more


async def _put(
    connector: YouTubeConnector,
    credential: Credential,
    session: str,
    chunk: bytes,
    content_range: str,
    mime_type: str | None = None,
) -> httpx.Response:
    headers = {"content-range": content_range}
    if mime_type:
        headers["content-type"] = mime_type
    response: httpx.Response = await connector.call(
        "PUT",
        session,
        credential=credential,
        content=chunk,
        headers=headers,
        expect_json=False,
        deadline_s=connector.upload_deadline_s,
        # 308 means "Resume Incomplete" here, never a redirect.
        follow_redirects=False,
    )
    return response


def next_offset(range_header: str | None) -> int:
    """The first byte to send after a 308 (``Range: bytes=0-N``, absent when none arrived)."""
    if not range_header or "-" not in range_header:
        return 0
    last = range_header.rsplit("-", 1)[1].strip()
    return int(last) + 1 if last.isdigit() else 0


def _video(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RetryableError("YouTube finished the upload but its answer was not JSON") from err
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise RetryableError("YouTube finished the upload without a video id")
    return body
