"""Shared constants and builders for the X connector tests (X API v2 shapes)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind

API = "https://api.x.com"
TOKEN = "x-user-token-123"
ME = "42"
ACCOUNT = AccountRef(
    workspace_id="ws_1", account_id="acc_1", network="x", handle="siar_demo", network_account_id=ME
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
HTML = "<html><body><h1>Over capacity</h1></body></html>"


def tweet(post_id: str, text: str = "ok") -> dict[str, Any]:
    return {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def image(alt: str | None = None, mime: str = "image/png") -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type=mime,
        filename="chart.png",
        size_bytes=8,
        alt_text=alt,
        content=b"\x89PNGdata",
    )


def video(content: bytes = b"v" * 25) -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=len(content),
        duration_s=12.0,
        content=content,
    )
