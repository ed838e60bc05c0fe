"""Shared constants and builders for the Facebook Pages connector tests (Graph API shapes)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import respx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind, OutgoingPost

GRAPH = "https://graph.facebook.com/v24.0"
VIDEO = "https://graph-video.facebook.com/v24.0"
PAGE = "1015"
POST_ID = "1015_777"
TOKEN = "EAAG-page-token"
APP_SECRET = "app-secret"
PROOF = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_1",
    network="facebook",
    handle="siarbakery",
    network_account_id=PAGE,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
RECEIPT = {
    "id": POST_ID,
    "permalink_url": "https://www.facebook.com/1015/posts/777",
    "created_time": "2024-05-01T10:00:00+0000",
}


def image(name: str = "cake.jpg", alt: str | None = None) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/jpeg",
        filename=name,
        size_bytes=9,
        alt_text=alt,
        content=b"\xff\xd8jpeg\xff\xd9",
    )


def video(content: bytes = b"0123456789", mime: str = "video/mp4") -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type=mime,
        filename="clip.mp4",
        size_bytes=len(content),
        content=content,
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Fresh bread at 8", "marker": "dlv_1"}
    fields.update(changes)
    return OutgoingPost(**fields)


def mock_receipt(api: respx.MockRouter, post_id: str = POST_ID, **body: Any) -> respx.Route:
    return api.get(f"{GRAPH}/{post_id}").respond(200, json={**RECEIPT, "id": post_id, **body})
