"""Shared constants and builders for the TikTok connector tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind, OutgoingPost

API = "https://open.tiktokapis.com"
TOKEN = "act.example12345"
ACCOUNT = AccountRef(workspace_id="ws_1", account_id="acc_1", network="tiktok", handle="siar_demo")
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
CREATOR = {
    "creator_avatar_url": "https://p16.tiktokcdn.com/a.jpeg",
    "creator_username": "siar_demo",
    "creator_nickname": "Siar Demo",
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": True,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 300,
}


def ok(data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": "202401010000"}}


def video(size: int, duration_s: float | None = 12.0) -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=size,
        duration_s=duration_s,
        content=bytes(range(256)) * (size // 256) + b"\x00" * (size % 256),
    )


def video_post(size: int = 1000, **changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {
        "text": "Behind the scenes #siar",
        "marker": "dlv_1",
        "media": [video(size)],
    }
    fields.update(changes)
    return OutgoingPost(**fields)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
