"""Shared constants and builders for the YouTube connector tests."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind, OutgoingPost
from siar.connectors.youtube_media import CHUNK_UNIT

API = "https://www.googleapis.com/youtube/v3"
TOKEN = "ya29.token"
CHANNEL = "UCchannel"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_1",
    network="youtube",
    handle="@siar",
    network_account_id=CHANNEL,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN), extra={"privacy_status": "unlisted"})
SIZE = 2 * CHUNK_UNIT + CHUNK_UNIT // 2


def video(size: int = SIZE) -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=size,
        content=bytes(i % 251 for i in range(size)),
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {
        "text": "Launch day\nWe shipped it. #launch #siar",
        "marker": "dlv_1",
        "media": [video()],
    }
    fields.update(changes)
    return OutgoingPost(**fields)


def google_error(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "youtube.quota", "reason": reason}],
        }
    }
