"""X connector error classification, OAuth and webhooks against X API v2 shapes (respx)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    OutgoingPost,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.x import XConnector
from siar.connectors.x_auth import XOAuthClient, crc_response
from tests.unit.connectors.x_fakes import ACCOUNT, API, CREDENTIAL, HTML, tweet


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def x() -> AsyncIterator[XConnector]:
    async with httpx.AsyncClient() as http:
        yield XConnector(http, poll_cap_s=0)


# -- errors ----------------------------------------------------------------------------
async def test_401_means_the_token_expired(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(
        401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with pytest.raises(AuthExpiredError):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_429_honours_retry_after(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(
        429, headers={"retry-after": "15"}, json={"title": "Too Many Requests", "status": 429}
    )
    with pytest.raises(RateLimitedError) as caught:
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))
    assert caught.value.retry_after_s == 15.0


async def test_429_waits_for_the_window_or_the_daily_cap_reset(
    api: respx.MockRouter, x: XConnector
) -> None:
    now = int(time.time())
    window = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
    api.post(f"{API}/2/tweets").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={**window, "x-rate-limit-reset": str(now + 600)},
                json={"title": "Too Many Requests", "detail": "Too Many Requests"},
            ),
            httpx.Response(
                429,
                headers={
                    **window,
                    "x-rate-limit-reset": str(now + 600),
                    "x-user-limit-24hour-limit": "100",
                    "x-user-limit-24hour-remaining": "0",
                    "x-user-limit-24hour-reset": str(now + 7200),
                },
                json={"title": "Too Many Requests", "detail": "Too Many Requests"},
            ),
        ]
    )
    post = OutgoingPost(text="t", marker="m")
    with pytest.raises(RateLimitedError) as window_error:
        await x.publish(ACCOUNT, CREDENTIAL, post)
    with pytest.raises(RateLimitedError) as daily_error:
        await x.publish(ACCOUNT, CREDENTIAL, post)

    assert window_error.value.retry_after_s == pytest.approx(600, abs=5)
    assert "window of 100 calls" in window_error.value.reason
    assert daily_error.value.retry_after_s == pytest.approx(7200, abs=5)
    assert "daily post cap" in daily_error.value.reason


async def test_5xx_is_retryable(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(
        503, json={"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503}
    )
    with pytest.raises(RetryableError, match="503"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_html_instead_of_json_is_retryable(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(200, text=HTML, headers={"content-type": "text/html"})
    with pytest.raises(RetryableError, match="not JSON"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_200_with_only_errors_is_classified(api: respx.MockRouter, x: XConnector) -> None:
    api.get(f"{API}/2/tweets/1850").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "value": "1850",
                            "detail": "Could not find tweet with id: [1850].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": "1850",
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            ),
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "title": "Usage Capped",
                            "detail": "Usage cap exceeded: Monthly product cap",
                            "type": "https://api.twitter.com/2/problems/usage-capped",
                        }
                    ]
                },
            ),
        ]
    )
    with pytest.raises(PermanentError, match=r"Could not find tweet with id: \[1850\]"):
        await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")
    with pytest.raises(RateLimitedError, match="Monthly product cap"):
        await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")


async def test_validation_and_policy_errors_quote_x(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").mock(
        side_effect=[
            httpx.Response(
                400,
                json={
                    "errors": [
                        {
                            "parameters": {"media.media_ids": ["1"]},
                            "message": "Your media IDs are invalid.",
                        }
                    ],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            ),
            httpx.Response(
                403,
                json={
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
            ),
        ]
    )
    post = OutgoingPost(text="t", marker="m", media_ids=["1"])
    with pytest.raises(PermanentError, match="Your media IDs are invalid"):
        await x.publish(ACCOUNT, CREDENTIAL, post)
    with pytest.raises(PermanentError, match="duplicate content"):
        await x.publish(ACCOUNT, CREDENTIAL, post)


async def test_read_timeout_is_retryable(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(RetryableError, match="did not answer in time"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_a_slow_answer_hits_the_deadline(api: respx.MockRouter, x: XConnector) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(201, json=tweet("1"))

    api.post(f"{API}/2/tweets").mock(side_effect=slow)
    x.call_deadline_s = 0.05
    started = time.monotonic()
    with pytest.raises(RetryableError, match="did not answer in time"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))
    assert time.monotonic() - started < 0.5


# -- OAuth and webhooks ----------------------------------------------------------------
async def test_oauth_uses_basic_client_auth_and_pkce(api: respx.MockRouter, x: XConnector) -> None:
    route = api.post(f"{API}/2/oauth2/token").respond(
        200,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "new-access",
            "scope": "tweet.read tweet.write users.read offline.access",
            "refresh_token": "new-refresh",
        },
    )
    client = XOAuthClient(x, client_id="client-1", client_secret="s3cret")

    grant = await client.exchange_code(
        code="abc", redirect_uri="https://siar.test/cb", code_verifier="verifier-1"
    )
    await client.refresh("old-refresh")

    first, second = (call.request for call in route.calls)
    expected = "Basic " + base64.b64encode(b"client-1:s3cret").decode()
    assert first.headers["authorization"] == expected
    form = dict(httpx.QueryParams(first.content.decode()))
    assert form == {
        "grant_type": "authorization_code",
        "code": "abc",
        "redirect_uri": "https://siar.test/cb",
        "code_verifier": "verifier-1",
        "client_id": "client-1",
    }
    assert dict(httpx.QueryParams(second.content.decode()))["refresh_token"] == "old-refresh"
    assert grant.access_token.get_secret_value() == "new-access"
    assert grant.refresh_token is not None
    assert grant.expires_in_s == 7200
    assert x.oauth is not None
    assert x.oauth.pkce
    assert x.oauth.authorize_url == "https://x.com/i/oauth2/authorize"


def test_crc_and_webhook_signature(x: XConnector) -> None:
    secret = "consumer-secret"
    digest = hmac.new(secret.encode(), b"challenge", hashlib.sha256).digest()
    assert crc_response("challenge", secret) == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }
    body = b'{"for_user_id":"42","tweet_create_events":[]}'
    signature = (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )
    assert x.verify_webhook({"X-Twitter-Webhooks-Signature": signature}, body, secret)
    assert not x.verify_webhook({"x-twitter-webhooks-signature": signature}, body + b" ", secret)
    assert not x.verify_webhook({}, body, secret)
