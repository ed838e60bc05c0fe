"""Fetching media from the scheduler's library, as a service (scope ``media:read``)."""

from __future__ import annotations

import contextlib

import httpx

from siar.connectors import MediaItem, MediaKind
from siar.runtime.auth import ServiceTokenClient
from siar.runtime.errors import DependencyUnavailable

MAX_MEDIA_BYTES = 1024 * 1024 * 1024


class MediaUnavailable(DependencyUnavailable):
    """The media library did not answer usefully; try again later."""


class MediaMissing(Exception):
    """The media item no longer exists in the library."""


class MediaClient:
    """Reads media metadata and bytes from the scheduler's internal API."""

    def __init__(self, scheduler_url: str, tokens: ServiceTokenClient):
        self.base = scheduler_url.rstrip("/") + "/v1/internal/workspaces"
        self.tokens = tokens

    async def _get(self, url: str, media_id: str) -> httpx.Response:
        try:
            response = await self.tokens.send("GET", url, timeout=120.0)
        except httpx.HTTPError as err:
            raise MediaUnavailable(f"media library unreachable: {type(err).__name__}") from err
        if response.status_code == 401:
            raise MediaUnavailable("media library rejected this service's token")
        if response.status_code == 404:
            raise MediaMissing(media_id)
        if response.status_code >= 400:
            raise MediaUnavailable(f"media library answered {response.status_code}")
        return response

    async def fetch(self, workspace_id: str, media_id: str) -> MediaItem:
        """One media item with its bytes."""
        url = f"{self.base}/{workspace_id}/media/{media_id}"
        meta = (await self._get(url, media_id)).json()
        content = (await self._get(f"{url}/content", media_id)).content
        public_url: str | None = None
        # Missing when no public base URL is configured: networks that pull media
        # themselves then refuse the post with a reason saying so.
        with contextlib.suppress(MediaMissing):
            public_url = str((await self._get(f"{url}:public-url", media_id)).json()["url"])
        if len(content) != int(meta["size_bytes"]) or len(content) > MAX_MEDIA_BYTES:
            raise MediaUnavailable(f"media {media_id} came back incomplete")
        return MediaItem(
            kind=MediaKind(meta["kind"]),
            mime_type=meta["mime_type"],
            filename=meta.get("filename") or media_id,
            size_bytes=int(meta["size_bytes"]),
            width=meta.get("width"),
            height=meta.get("height"),
            duration_s=meta.get("duration_s"),
            alt_text=meta.get("alt_text"),
            url=public_url,
            content=content,
        )
