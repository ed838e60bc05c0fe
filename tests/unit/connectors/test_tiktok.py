"""TikTok connector: recovery, metrics, webhooks, OAuth and errors, from documented shapes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.tiktok import TikTokConnector, TikTokOAuthClient
from siar.connectors.tiktok_media import MIN_CHUNK
from tests.unit.connectors.tiktok_fakes import (
    ACCOUNT,
    API,
    CREATOR,
    CREDENTIAL,
    TOKEN,
    body_of,
    ok,
    video_post,
)


def failed(code: str, message: str) -> dict[str, Any]:
    return {"data": {}, "error": {"code": code, "message": message, "log_id": "202401010001"}}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def tiktok() -> AsyncIterator[TikTokConnector]:
    async with httpx.AsyncClient() as http:
        yield TikTokConnector(http, chunk_size=MIN_CHUNK, poll_interval_s=0, publish_wait_s=5)


# -- finding a post again --------------------------------------------------------------
async def test_find_by_marker_matches_the_caption_since_the_attempt(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    now = int(datetime.now(UTC).timestamp())
    listing = api.post(f"{API}/v2/video/list/").mock(
        side_effect=[
            httpx.Response(
                200,
                json=ok(
                    {
                        "videos": [
                            {"id": "1", "video_description": "Other", "create_time": now},
                        ],
                        "cursor": (now - 10) * 1000,
                        "has_more": True,
                    }
                ),
            ),
            httpx.Response(
                200,
                json=ok(
                    {
                        "videos": [
                            {
                                "id": "2",
                                "video_description": "Behind the scenes #siar",
                                "create_time": now - 20,
                                "share_url": "https://www.tiktok.com/@siar_demo/video/2",
                            }
                        ],
                        "cursor": (now - 30) * 1000,
                        "has_more": False,
                    }
                ),
            ),
        ]
    )
    since = datetime.now(UTC) - timedelta(minutes=5)
    found = await tiktok.find_by_marker(ACCOUNT, CREDENTIAL, video_post(), since)
    assert found is not None
    assert found.network_post_id == "2"
    assert found.permalink == "https://www.tiktok.com/@siar_demo/video/2"
    first, second = (call.request for call in listing.calls)
    assert first.url.params["fields"] == "id,title,video_description,create_time,share_url"
    assert body_of(first) == {"max_count": 20}
    assert body_of(second) == {"max_count": 20, "cursor": (now - 10) * 1000}


async def test_find_by_marker_stops_at_videos_older_than_the_attempt(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    old = int((datetime.now(UTC) - timedelta(days=2)).timestamp())
    api.post(f"{API}/v2/video/list/").respond(
        200,
        json=ok(
            {
                "videos": [
                    {"id": "9", "video_description": "Behind the scenes #siar", "create_time": old}
                ],
                "cursor": old * 1000,
                "has_more": True,
            }
        ),
    )
    since = datetime.now(UTC) - timedelta(hours=1)
    assert await tiktok.find_by_marker(ACCOUNT, CREDENTIAL, video_post(), since) is None


async def test_find_by_marker_matches_a_long_caption_on_its_listed_prefix(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    text = "word " * 100
    api.post(f"{API}/v2/video/list/").respond(
        200,
        json=ok(
            {
                "videos": [
                    {"id": "3", "title": text[:150], "create_time": int(time.time())},
                ],
                "has_more": False,
            }
        ),
    )
    since = datetime.now(UTC) - timedelta(hours=1)
    found = await tiktok.find_by_marker(ACCOUNT, CREDENTIAL, video_post(text=text), since)
    assert found is not None
    assert found.network_post_id == "3"


# -- metrics ---------------------------------------------------------------------------
async def test_account_metrics(api: respx.MockRouter, tiktok: TikTokConnector) -> None:
    route = api.get(f"{API}/v2/user/info/").respond(
        200,
        json=ok(
            {
                "user": {
                    "follower_count": 120,
                    "following_count": 3,
                    "likes_count": 4500,
                    "video_count": 17,
                }
            }
        ),
    )
    snapshot = await tiktok.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {
        "follower_count": 120.0,
        "following_count": 3.0,
        "likes_count": 4500.0,
        "video_count": 17.0,
    }
    assert snapshot.partial is False
    request = route.calls.last.request
    assert request.url.params["fields"] == "follower_count,following_count,likes_count,video_count"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_post_metrics_are_partial_when_fields_are_missing(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    route = api.post(f"{API}/v2/video/query/").respond(
        200, json=ok({"videos": [{"id": "77", "like_count": 5, "view_count": 900}]})
    )
    snapshot = await tiktok.post_metrics(ACCOUNT, CREDENTIAL, "77")
    assert snapshot.metrics == {"like_count": 5.0, "view_count": 900.0}
    assert snapshot.partial is True
    request = route.calls.last.request
    assert body_of(request) == {"filters": {"video_ids": ["77"]}}
    assert request.url.params["fields"] == "id,like_count,comment_count,share_count,view_count"


# -- webhooks --------------------------------------------------------------------------
def signed(body: bytes, secret: str, stamp: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"TikTok-Signature": f"t={stamp},s={digest}"}


def test_webhook_signature_is_verified(tiktok: TikTokConnector) -> None:
    body = b'{"event":"post.publish.complete"}'
    now = int(time.time())
    assert tiktok.verify_webhook(signed(body, "client-secret", now), body, "client-secret")
    assert not tiktok.verify_webhook(signed(body, "other", now), body, "client-secret")
    assert not tiktok.verify_webhook(
        signed(body, "client-secret", now), body + b" ", "client-secret"
    )
    stale = signed(body, "client-secret", now - 3600)
    assert not tiktok.verify_webhook(stale, body, "client-secret")
    assert not tiktok.verify_webhook({}, body, "client-secret")


# -- OAuth -----------------------------------------------------------------------------
async def test_oauth_code_exchange_names_the_client_key(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    route = api.post(f"{API}/v2/oauth/token/").respond(
        200,
        json={
            "access_token": "act.new",
            "expires_in": 86400,
            "open_id": "open_1",
            "refresh_expires_in": 31536000,
            "refresh_token": "rft.new",
            "scope": "user.info.basic,video.publish",
            "token_type": "Bearer",
        },
    )
    client = TikTokOAuthClient(tiktok, "key_1", "secret_1")
    grant = await client.exchange_code(
        code="code_1", redirect_uri="https://siar.example/cb", code_verifier=None
    )
    assert grant.access_token.get_secret_value() == "act.new"
    assert grant.refresh_token is not None
    assert grant.expires_in_s == 86400
    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form == {
        "grant_type": "authorization_code",
        "code": "code_1",
        "redirect_uri": "https://siar.example/cb",
        "client_key": "key_1",
        "client_secret": "secret_1",
    }


async def test_oauth_error_body_is_permanent(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    api.post(f"{API}/v2/oauth/token/").respond(
        200,
        json={
            "error": "invalid_grant",
            "error_description": "Refresh token is invalid.",
            "log_id": "x",
        },
    )
    client = TikTokOAuthClient(tiktok, "key_1", "secret_1")
    with pytest.raises(PermanentError, match="Refresh token is invalid"):
        await client.refresh("rft.old")


# -- errors ----------------------------------------------------------------------------
CREATOR_URL = f"{API}/v2/post/publish/creator_info/query/"


@pytest.mark.parametrize(
    ("response", "expected", "reason"),
    [
        (
            httpx.Response(
                401, json=failed("access_token_invalid", "The access token is invalid.")
            ),
            AuthExpiredError,
            "The access token is invalid",
        ),
        (
            httpx.Response(401, json=failed("scope_not_authorized", "video.publish missing")),
            PermanentError,
            "video.publish missing",
        ),
        (httpx.Response(500, json=failed("internal_error", "oops")), RetryableError, "oops"),
        (httpx.Response(200, text="<html>maintenance</html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json=failed("rate_limit_exceeded", "slow down")),
            RateLimitedError,
            "slow down",
        ),
        (
            httpx.Response(
                200, json=failed("spam_risk_too_many_posts", "The daily post cap is reached.")
            ),
            PermanentError,
            "The daily post cap is reached.",
        ),
        (
            httpx.Response(400, json=failed("invalid_params", "privacy_level is invalid")),
            PermanentError,
            "privacy_level is invalid",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    tiktok: TikTokConnector,
    response: httpx.Response,
    expected: type[ConnectorError],
    reason: str,
) -> None:
    api.post(CREATOR_URL).mock(return_value=response)
    with pytest.raises(ConnectorError) as caught:
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
    assert type(caught.value) is expected
    assert reason in caught.value.reason


async def test_429_carries_retry_after(api: respx.MockRouter, tiktok: TikTokConnector) -> None:
    api.post(CREATOR_URL).respond(
        429, headers={"retry-after": "30"}, json=failed("rate_limit_exceeded", "too many")
    )
    with pytest.raises(RateLimitedError) as caught:
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
    assert caught.value.retry_after_s == 30.0


async def test_read_timeout_is_retryable(api: respx.MockRouter, tiktok: TikTokConnector) -> None:
    api.post(CREATOR_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="in time"):
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json=ok(CREATOR))

    tiktok.call_deadline_s = 0.05
    api.post(CREATOR_URL).mock(side_effect=trickle)
    with pytest.raises(RetryableError, match="in time"):
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
