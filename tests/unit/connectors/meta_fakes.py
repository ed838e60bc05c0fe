"""Shared builders for the Meta (Facebook, Instagram, Threads) connector tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx

from siar.connectors import MediaItem

CDN = "https://cdn.siar.test/media"


class FakeHost:
    """A media host that 'uploads' by remembering the item."""

    def __init__(self) -> None:
        self.items: list[MediaItem] = []

    async def public_url(self, item: MediaItem) -> str:
        self.items.append(item)
        return f"{CDN}/{item.filename}"


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, "fbtrace_id": "A1b2"}}
