"""Facebook Page media uploads: photos as multipart ``source``, videos resumable or whole.

Photos go to ``POST /{page-id}/photos`` with the bytes in ``source`` (unpublished when
several are attached to one feed post through ``attached_media``). Videos go to
``POST graph-video.facebook.com/{page-id}/videos``: through the Resumable Upload API
when the app id is known (``POST /{app-id}/uploads`` opens a session, the bytes are
POSTed to it from ``file_offset`` with ``Authorization: OAuth``, an interrupted
transfer resumes from the offset ``GET`` reports, and the returned handle is passed as
``fbuploader_video_file_chunk``), otherwise whole in ``source`` (up to 1 GB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.meta_graph import MB
from siar.connectors.models import Credential, MediaItem

if TYPE_CHECKING:
    from siar.connectors.facebook import FacebookPagesConnector

NON_RESUMABLE_MAX = 1024 * MB
RESUMABLE_TYPES = frozenset({"video/mp4"})
TRANSFER_ATTEMPTS = 3


def _source(item: MediaItem) -> dict[str, tuple[str, bytes, str]]:
    if not item.content:
        raise PermanentError(f"the {item.kind.value} {item.filename!r} has no content to upload")
    return {"source": (item.filename, item.content, item.mime_type)}


async def upload_photo(
    fb: FacebookPagesConnector,
    page_id: str,
    credential: Credential,
    item: MediaItem,
    *,
    caption: str | None,
    published: bool,
) -> dict[str, Any]:
    """Upload one photo; published, it is a post (``post_id``), else one to attach (``id``)."""
    form: dict[str, str] = {"published": "true" if published else "false"}
    if caption:
        form["message"] = caption
    if item.alt_text:
        form["alt_text_custom"] = item.alt_text
    body = await fb.graph(
        "POST",
        f"/{page_id}/photos",
        credential,
        data=form,
        files=_source(item),
        deadline_s=fb.upload_deadline_s,
    )
    if not isinstance(body.get("id"), str):
        raise RetryableError("Facebook accepted the photo but returned no id")
    return body


async def upload_video(
    fb: FacebookPagesConnector,
    page_id: str,
    credential: Credential,
    item: MediaItem,
    *,
    description: str,
    title: str | None,
) -> str:
    """Publish a video on the Page; its video id."""
    form: dict[str, str] = {"description": description}
    if title:
        form["title"] = title
    files = None
    if fb.app_id and item.mime_type in RESUMABLE_TYPES:
        form["fbuploader_video_file_chunk"] = await _resumable(fb, credential, item)
    elif len(item.content) <= NON_RESUMABLE_MAX:
        files = _source(item)
    else:
        raise PermanentError(
            "Facebook takes videos over 1 GB only through resumable upload (MP4, app id set)"
        )
    body = await fb.graph(
        "POST",
        f"{fb.video_base}/{page_id}/videos",
        credential,
        data=form,
        files=files,
        deadline_s=fb.upload_deadline_s,
    )
    video_id = body.get("id")
    if not isinstance(video_id, str):
        raise RetryableError("Facebook accepted the video but returned no id")
    return video_id


async def _resumable(fb: FacebookPagesConnector, credential: Credential, item: MediaItem) -> str:
    if not item.content:
        raise PermanentError(f"the video {item.filename!r} has no content to upload")
    session = await fb.graph(
        "POST",
        f"/{fb.app_id}/uploads",
        credential,
        params={
            "file_name": item.filename,
            "file_length": str(len(item.content)),
            "file_type": item.mime_type,
        },
    )
    upload_id = session.get("id")
    if not isinstance(upload_id, str) or not upload_id.startswith("upload:"):
        raise RetryableError("Facebook opened no upload session")
    # The session id carries its own ?sig= query, which must be kept.
    url = str(httpx.URL(f"{fb.api_base}/{upload_id}").copy_merge_params(fb.proof(credential)))
    oauth = {"authorization": f"OAuth {credential.access_token.get_secret_value()}"}
    offset = 0
    for attempt in range(1, TRANSFER_ATTEMPTS + 1):
        try:
            body = await fb.call(
                "POST",
                url,
                headers={**oauth, "file_offset": str(offset)},
                content=item.content[offset:],
                deadline_s=fb.upload_deadline_s,
            )
        except RetryableError:
            if attempt == TRANSFER_ATTEMPTS:
                raise
            status = await fb.call("GET", url, headers=oauth)
            reported = status.get("file_offset") if isinstance(status, dict) else None
            offset = int(str(reported)) if str(reported).isdigit() else 0
            continue
        handle = body.get("h") if isinstance(body, dict) else None
        if isinstance(handle, str) and handle:
            return handle
        raise RetryableError("Facebook took the video bytes but returned no file handle")
    raise RetryableError("Facebook did not take the video bytes")  # pragma: no cover
