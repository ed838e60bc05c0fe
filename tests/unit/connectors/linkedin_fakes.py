"""Shared constants and builders for the LinkedIn connector tests (/rest shapes)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential, MediaItem, MediaKind

API = "https://api.linkedin.com"
TOKEN = "AQV-linkedin-token"
ORG = "urn:li:organization:2414183"
ORG_Q = "urn%3Ali%3Aorganization%3A2414183"
PERSON = "urn:li:person:8675309"
SHARE = "urn:li:share:6844785523593134080"
SHARE_Q = "urn%3Ali%3Ashare%3A6844785523593134080"
IMAGE = "urn:li:image:C4E10AQFoyyAjHPMQuQ"
VIDEO = "urn:li:video:C5F10AQGKQg_6y2a4sQ"
COMMENT = "urn:li:comment:(urn:li:activity:6844785523593134080,6844790000000000000)"
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
HTML = "<html><body>Bad gateway</body></html>"


def account(author: str | None = ORG) -> AccountRef:
    return AccountRef(
        workspace_id="ws_1",
        account_id="acc_1",
        network="linkedin",
        handle="siar",
        network_account_id=author,
    )


def created(urn: str = SHARE) -> httpx.Response:
    return httpx.Response(201, headers={"x-restli-id": urn})


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def image(alt: str | None = None) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        filename="chart.png",
        size_bytes=9,
        alt_text=alt,
        content=b"\x89PNGbytes",
    )


def video(size: int = 80_000) -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=size,
        duration_s=20.0,
        content=bytes(range(256)) * (size // 256) + b"\x00" * (size % 256),
    )
