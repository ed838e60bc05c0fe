"""Shared constants and builders for the Bluesky connector tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import AccountRef, Credential

PDS = "https://morel.us-east.host.bsky.network"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
BOB = "did:plc:bobbobbobbobbobbobbobbob"
ACCESS = "access-jwt"
ACCOUNT = AccountRef(
    workspace_id="ws_1", account_id="acc_1", network="bluesky", handle="alice.bsky.social"
)
CREDENTIAL = Credential(
    access_token=SecretStr(ACCESS),
    refresh_token=SecretStr("refresh-jwt"),
    extra={"did": DID, "handle": "alice.bsky.social", "pds": PDS},
)
POST_URI = f"at://{DID}/app.bsky.feed.post/3l6oveex3ii2l"
CID = "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q"


def xrpc(nsid: str) -> str:
    return f"{PDS}/xrpc/{nsid}"


def created(rkey: str = "3l6oveex3ii2l") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
            "cid": CID,
            "commit": {"cid": "bafyreib", "rev": "3l6ovef"},
            "validationStatus": "valid",
        },
    )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
