"""Shared constants and builders for the Mastodon connector tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential

BASE = "https://fosstodon.org"
TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_1",
    network="mastodon",
    handle="@siar@fosstodon.org",
    network_account_id="109302",
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN), extra={"instance": "fosstodon.org"})
NOW = datetime.now(UTC)


def status(sid: str = "1133", content: str = "<p>Hello</p>", **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "created_at": NOW.isoformat().replace("+00:00", "Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "url": f"{BASE}/@siar/{sid}",
        "content": content,
        "account": {"id": "109302", "acct": "siar", "followers_count": 12},
        **extra,
    }


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
