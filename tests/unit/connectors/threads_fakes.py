"""Shared constants and builders for the Threads connector tests (Threads API shapes)."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind, OutgoingPost

API = "https://graph.threads.net/v1.0"
USER = "8901234"
TOKEN = "THQVJ-token"
ROOT = "17890000000000001"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_th",
    network="threads",
    handle="siarbakery",
    network_account_id=USER,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))


def image(name: str = "loaf.png") -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        filename=name,
        size_bytes=3,
        alt_text="A loaf",
        content=b"png",
    )


def video() -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=3,
        content=b"mp4",
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Bread is out", "marker": "dlv_3"}
    fields.update(changes)
    return OutgoingPost(**fields)


def mock_quota(api: respx.MockRouter, used: int = 4) -> respx.Route:
    return api.get(f"{API}/{USER}/threads_publishing_limit").respond(
        200,
        json={
            "data": [
                {
                    "quota_usage": used,
                    "config": {"quota_total": 250, "quota_duration": 86400},
                    "reply_quota_usage": 1,
                    "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                }
            ]
        },
    )


def mock_flow(
    api: respx.MockRouter, containers: list[str], published: list[str]
) -> dict[str, respx.Route]:
    for container in containers:
        api.get(f"{API}/{container}").mock(
            side_effect=[
                httpx.Response(200, json={"status": "IN_PROGRESS", "id": container}),
                httpx.Response(200, json={"status": "FINISHED", "id": container}),
            ]
        )
    return {
        "create": api.post(f"{API}/{USER}/threads").mock(
            side_effect=[httpx.Response(200, json={"id": c}) for c in containers]
        ),
        "publish": api.post(f"{API}/{USER}/threads_publish").mock(
            side_effect=[httpx.Response(200, json={"id": p}) for p in published]
        ),
        "receipt": api.get(f"{API}/{published[0]}").respond(
            200,
            json={
                "id": published[0],
                "permalink": "https://www.threads.net/@siarbakery/post/C1",
                "timestamp": "2024-05-01T10:00:00+0000",
            },
        ),
    }
