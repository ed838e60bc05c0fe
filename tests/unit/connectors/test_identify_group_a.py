"""Connector.identify for X, LinkedIn, Mastodon, YouTube, Pinterest and TikTok.

Each network's "who am I" call is checked against its documented request and answer
shape, and a rejected token (401) surfaces as AuthExpiredError so the vault can say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Connector,
    Credential,
    Identity,
    PermanentError,
)
from siar.connectors.linkedin import LinkedInConnector
from siar.connectors.mastodon import MastodonConnector
from siar.connectors.pinterest import PinterestConnector
from siar.connectors.tiktok import TikTokConnector
from siar.connectors.x import XConnector
from siar.connectors.youtube import YouTubeConnector

TOKEN = "fresh-token-123"
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))


def bearer(request: httpx.Request, token: str = TOKEN) -> None:
    assert request.headers["authorization"] == f"Bearer {token}"


# -- X -----------------------------------------------------------------------------------
async def test_x_identifies_the_user_from_users_me(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get("https://api.x.com/2/users/me").respond(
        200, json={"data": {"id": "2244994945", "name": "X Developers", "username": "XDevelopers"}}
    )
    who = await XConnector(http).identify(CREDENTIAL)

    request = route.calls.last.request
    assert request.method == "GET"
    assert str(request.url) == "https://api.x.com/2/users/me"
    bearer(request)
    assert who == Identity(
        network_account_id="2244994945", handle="XDevelopers", display_name="X Developers"
    )


# -- LinkedIn ----------------------------------------------------------------------------
USERINFO = {
    "sub": "782bbtaQ",
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "picture": "https://media.licdn.com/dms/image/ada.jpg",
    "locale": {"country": "GB", "language": "en"},
}


async def test_linkedin_identifies_the_member_as_a_person_urn(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get("https://api.linkedin.com/v2/userinfo").respond(200, json=USERINFO)
    who = await LinkedInConnector(http).identify(CREDENTIAL)

    request = route.calls.last.request
    assert str(request.url) == "https://api.linkedin.com/v2/userinfo"
    bearer(request)
    # OpenID userinfo is not the versioned /rest API.
    assert "linkedin-version" not in request.headers
    assert who == Identity(
        network_account_id="urn:li:person:782bbtaQ",
        handle="Ada Lovelace",
        display_name="Ada Lovelace",
    )


async def test_linkedin_identity_is_an_author_the_connector_accepts(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get("https://api.linkedin.com/v2/userinfo").respond(200, json=USERINFO)
    connector = LinkedInConnector(http)
    who = await connector.identify(CREDENTIAL)
    account = AccountRef(
        workspace_id="ws_1",
        account_id="acc_1",
        network="linkedin",
        handle=who.handle,
        network_account_id=who.network_account_id,
    )
    assert connector.author(account) == "urn:li:person:782bbtaQ"


# -- Mastodon ----------------------------------------------------------------------------
VERIFIED = {
    "id": "109302",
    "username": "siar",
    "acct": "siar",
    "display_name": "Siar Demo",
    "url": "https://fosstodon.org/@siar",
    "followers_count": 12,
    "source": {"privacy": "public", "note": ""},
}


async def test_mastodon_identifies_the_account_on_the_credentials_instance(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get("https://fosstodon.org/api/v1/accounts/verify_credentials").respond(
        200, json=VERIFIED
    )
    credential = Credential(access_token=SecretStr(TOKEN), extra={"instance": "fosstodon.org"})
    who = await MastodonConnector(http).identify(credential)

    request = route.calls.last.request
    assert str(request.url) == "https://fosstodon.org/api/v1/accounts/verify_credentials"
    bearer(request)
    assert who == Identity(
        network_account_id="109302",
        handle="siar@fosstodon.org",
        display_name="Siar Demo",
        extra={"instance": "fosstodon.org"},
    )


async def test_mastodon_without_an_instance_uses_the_connectors_own(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get("https://mastodon.social/api/v1/accounts/verify_credentials").respond(
        200, json={**VERIFIED, "display_name": ""}
    )
    who = await MastodonConnector(http).identify(CREDENTIAL)

    assert who.handle == "siar@mastodon.social"
    assert who.display_name is None
    assert who.extra == {"instance": "https://mastodon.social"}


# -- YouTube -----------------------------------------------------------------------------
CHANNEL = {
    "kind": "youtube#channel",
    "etag": "etag-1",
    "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
    "snippet": {
        "title": "Google for Developers",
        "description": "Subscribe to join a community of creative developers",
        "customUrl": "@googledevelopers",
        "publishedAt": "2007-08-23T00:34:43Z",
    },
}


async def test_youtube_identifies_the_channel_with_its_handle(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get("https://www.googleapis.com/youtube/v3/channels").respond(
        200, json={"kind": "youtube#channelListResponse", "items": [CHANNEL]}
    )
    who = await YouTubeConnector(http).identify(CREDENTIAL)

    request = route.calls.last.request
    assert request.url.path == "/youtube/v3/channels"
    assert dict(request.url.params) == {"part": "snippet", "mine": "true"}
    bearer(request)
    assert who == Identity(
        network_account_id="UC_x5XG1OV2P6uZZ5FSM9Ttw",
        handle="googledevelopers",
        display_name="Google for Developers",
    )


async def test_youtube_channel_without_custom_url_goes_by_its_title(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    snippet = {"title": "Siar Demo", "description": ""}
    api.get("https://www.googleapis.com/youtube/v3/channels").respond(
        200, json={"items": [{**CHANNEL, "snippet": snippet}]}
    )
    who = await YouTubeConnector(http).identify(CREDENTIAL)
    assert (who.handle, who.display_name) == ("Siar Demo", "Siar Demo")


async def test_youtube_account_without_a_channel_is_refused(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get("https://www.googleapis.com/youtube/v3/channels").respond(
        200, json={"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0}}
    )
    with pytest.raises(PermanentError, match="no YouTube channel"):
        await YouTubeConnector(http).identify(CREDENTIAL)


# -- Pinterest ---------------------------------------------------------------------------
async def test_pinterest_identifies_the_user_account(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get("https://api.pinterest.com/v5/user_account").respond(
        200,
        json={
            "account_type": "BUSINESS",
            "id": "549755885175",
            "profile_image": "https://i.pinimg.com/280x280_RS/siar.jpg",
            "website_url": "https://siar.example",
            "username": "siardemo",
            "business_name": "Siar Demo",
            "board_count": 3,
            "pin_count": 40,
            "follower_count": 12,
        },
    )
    who = await PinterestConnector(http).identify(CREDENTIAL)

    request = route.calls.last.request
    assert str(request.url) == "https://api.pinterest.com/v5/user_account"
    bearer(request)
    assert who == Identity(
        network_account_id="549755885175", handle="siardemo", display_name="Siar Demo"
    )


# -- TikTok ------------------------------------------------------------------------------
def tiktok_ok(data: dict[str, object]) -> dict[str, object]:
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": "20240101000000"}}


async def test_tiktok_identifies_the_user_and_its_username(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    info = api.get("https://open.tiktokapis.com/v2/user/info/").respond(
        200,
        json=tiktok_ok(
            {
                "user": {
                    "open_id": "-000LBAbCdEf",
                    "union_id": "c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1",
                    "display_name": "Siar Demo",
                }
            }
        ),
    )
    creator = api.post("https://open.tiktokapis.com/v2/post/publish/creator_info/query/").respond(
        200,
        json=tiktok_ok(
            {
                "creator_avatar_url": "https://p16.tiktokcdn.com/a.jpeg",
                "creator_username": "siar_demo",
                "creator_nickname": "Siar Demo",
                "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
            }
        ),
    )
    who = await TikTokConnector(http).identify(CREDENTIAL)

    request = info.calls.last.request
    assert request.url.path == "/v2/user/info/"
    # username needs user.info.profile, which Siar does not request: never ask for it here.
    assert request.url.params["fields"] == "open_id,union_id,display_name"
    bearer(request)
    posted = creator.calls.last.request
    bearer(posted)
    assert json.loads(posted.content) == {}
    assert who == Identity(
        network_account_id="-000LBAbCdEf", handle="siar_demo", display_name="Siar Demo"
    )


# -- a rejected token, on every network ---------------------------------------------------
@pytest.mark.parametrize(
    ("make", "url", "body", "reason"),
    [
        (
            XConnector,
            "https://api.x.com/2/users/me",
            {"title": "Unauthorized", "type": "about:blank", "status": 401},
            "Unauthorized",
        ),
        (
            LinkedInConnector,
            "https://api.linkedin.com/v2/userinfo",
            {"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401},
            "Invalid access token",
        ),
        (
            MastodonConnector,
            "https://fosstodon.org/api/v1/accounts/verify_credentials",
            {"error": "The access token is invalid"},
            "The access token is invalid",
        ),
        (
            YouTubeConnector,
            "https://www.googleapis.com/youtube/v3/channels",
            {
                "error": {
                    "code": 401,
                    "message": "Request had invalid authentication credentials.",
                    "errors": [{"reason": "authError", "domain": "global"}],
                    "status": "UNAUTHENTICATED",
                }
            },
            "invalid authentication credentials",
        ),
        (
            PinterestConnector,
            "https://api.pinterest.com/v5/user_account",
            {"code": 2, "message": "Authentication failed."},
            "Authentication failed",
        ),
        (
            TikTokConnector,
            "https://open.tiktokapis.com/v2/user/info/",
            {
                "data": {},
                "error": {
                    "code": "access_token_invalid",
                    "message": "The access token is invalid or not found in the request.",
                    "log_id": "20240101000001",
                },
            },
            "access token is invalid",
        ),
    ],
    ids=["x", "linkedin", "mastodon", "youtube", "pinterest", "tiktok"],
)
async def test_a_rejected_token_is_auth_expired_with_the_networks_reason(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    make: Callable[[httpx.AsyncClient], Connector],
    url: str,
    body: dict[str, object],
    reason: str,
) -> None:
    api.get(url).respond(401, json=body)
    # Mastodon reads the instance from the credential; the others ignore it.
    credential = Credential(access_token=SecretStr(TOKEN), extra={"instance": "fosstodon.org"})
    with pytest.raises(AuthExpiredError, match=reason):
        await make(http).identify(credential)
