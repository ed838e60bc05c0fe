"""Signed, expiring public URLs for media, for networks that fetch media themselves.

Instagram and Threads take no bytes: Meta's servers download the image from a URL.
The URL carries an expiry and an HMAC over workspace, media id and expiry, so it
works for the length of a publish and cannot be forged or pointed at other media.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from siar.runtime.auth import Principal, require_scope
from siar.runtime.problems import not_found
from siar_scheduler.media import MediaLibrary, MediaNotFound

router = APIRouter()
URL_LIFE_S = 3600


def _signature(secret: str, ws: str, media_id: str, expires: int) -> str:
    message = f"{ws}/{media_id}/{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class PublicUrl(BaseModel):
    """Where a network can download the media until ``expires``."""

    url: str
    expires: int


@router.get(
    "/v1/internal/workspaces/{ws}/media/{media_id}:public-url",
    tags=["internal"],
    summary="A signed public URL for a network to fetch the media (services)",
)
async def public_url(
    ws: str,
    media_id: str,
    request: Request,
    _: Annotated[Principal, require_scope("media:read")],
) -> PublicUrl:
    base, secret = request.app.state.public_media
    if not base:
        raise not_found("public media URL", "no public base URL is configured")
    media: MediaLibrary = request.app.state.media
    await media.get(ws, media_id)  # 404 for media of another workspace
    expires = int(time.time()) + URL_LIFE_S
    signature = _signature(secret, ws, media_id, expires)
    url = f"{base.rstrip('/')}/v1/public/media/{ws}/{media_id}?expires={expires}&sig={signature}"
    return PublicUrl(url=url, expires=expires)


@router.get("/v1/public/media/{ws}/{media_id}", include_in_schema=False)
async def public_media(
    ws: str,
    media_id: str,
    request: Request,
    expires: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=64)],
) -> Response:
    base, secret = request.app.state.public_media
    genuine = hmac.compare_digest(_signature(secret, ws, media_id, expires), sig)
    if not base or not genuine or expires < time.time():
        raise not_found("media")
    media: MediaLibrary = request.app.state.media
    try:
        record = await media.get(ws, media_id)
        content = await media.content(ws, media_id)
    except MediaNotFound as err:
        raise not_found("media") from err
    return StreamingResponse(
        iter([content]),
        media_type=record.mime_type,
        headers={"cache-control": "private, max-age=600", "x-content-type-options": "nosniff"},
    )
