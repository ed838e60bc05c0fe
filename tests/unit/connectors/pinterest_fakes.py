"""Shared constants and builders for the Pinterest connector tests."""

from __future__ import annotations

import base64
import json
from typing import Any

import respx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind, OutgoingPost

API = "https://api.pinterest.com/v5"
TOKEN = "pina_token"
ACCOUNT = AccountRef(workspace_id="ws_1", account_id="acc_1", network="pinterest", handle="siar")
CREDENTIAL = Credential(access_token=SecretStr(TOKEN), extra={"board_id": "549755885175"})
PIN = {
    "id": "813744226420795884",
    "created_at": "2024-05-01T10:00:00",
    "board_id": "549755885175",
    "note": "siar:dlv_1",
    "description": "Spring recipes",
}


def image(
    mime: str = "image/jpeg", data: bytes = b"\xff\xd8jpeg", alt: str | None = None
) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE, mime_type=mime, size_bytes=len(data), content=data, alt_text=alt
    )


def video() -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=9,
        content=b"mp4-bytes",
        duration_s=8,
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Spring recipes", "marker": "dlv_1", "media": [image()]}
    fields.update(changes)
    return OutgoingPost(**fields)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sent(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)
