"""Shared constants and builders for the Instagram connector tests (Instagram Graph API shapes)."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind, OutgoingPost

GRAPH = "https://graph.facebook.com/v24.0"
RUPLOAD = "https://rupload.facebook.com/ig-api-upload/v24.0"
IG_USER = "17841405822304914"
TOKEN = "EAAG-user-token"
MEDIA_ID = "17920238422030506"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_ig",
    network="instagram",
    handle="siarbakery",
    network_account_id=IG_USER,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))


def image(name: str = "loaf.jpg", alt: str | None = None) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/jpeg",
        filename=name,
        size_bytes=4,
        alt_text=alt,
        content=b"jpeg",
    )


def video(content: bytes = b"mp4-bytes") -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="reel.mp4",
        size_bytes=len(content),
        duration_s=12,
        content=content,
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Sourdough day #bread", "marker": "dlv_2", "media": [image()]}
    fields.update(changes)
    return OutgoingPost(**fields)


def status(code: str, detail: str | None = None) -> httpx.Response:
    body = {"status_code": code, "id": "c"}
    if detail:
        body["status"] = detail
    return httpx.Response(200, json=body)


def mock_quota(api: respx.MockRouter, used: int = 2, total: int = 100) -> respx.Route:
    return api.get(f"{GRAPH}/{IG_USER}/content_publishing_limit").respond(
        200, json={"data": [{"quota_usage": used, "config": {"quota_total": total}}]}
    )


def mock_publish(api: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "publish": api.post(f"{GRAPH}/{IG_USER}/media_publish").respond(200, json={"id": MEDIA_ID}),
        "receipt": api.get(f"{GRAPH}/{MEDIA_ID}").respond(
            200,
            json={
                "id": MEDIA_ID,
                "permalink": "https://www.instagram.com/p/Cx1/",
                "timestamp": "2024-05-01T10:00:00+0000",
            },
        ),
    }
