"""YouTube connector: recovery, metrics, webhooks, OAuth and errors, from documented shapes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
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
from siar.connectors.http import OAuthClient
from siar.connectors.youtube import YouTubeConnector
from siar.connectors.youtube_media import CHUNK_UNIT
from tests.unit.connectors.youtube_fakes import (
    ACCOUNT,
    API,
    CHANNEL,
    CREDENTIAL,
    google_error,
    post,
)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def youtube() -> AsyncIterator[YouTubeConnector]:
    async with httpx.AsyncClient() as http:
        yield YouTubeConnector(http, chunk_size=CHUNK_UNIT, resume_delay_s=0)


# -- finding a post again --------------------------------------------------------------
def playlist_item(video_id: str, title: str, description: str, when: datetime) -> dict[str, Any]:
    return {
        "snippet": {
            "publishedAt": when.isoformat().replace("+00:00", "Z"),
            "title": title,
            "description": description,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        }
    }


async def test_find_by_marker_searches_the_uploads_playlist(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    channels = api.get(f"{API}/channels").respond(
        200,
        json={"items": [{"contentDetails": {"relatedPlaylists": {"uploads": "UUchannel"}}}]},
    )
    now = datetime.now(UTC).replace(microsecond=0)
    items = api.get(f"{API}/playlistItems").respond(
        200,
        json={
            "items": [
                playlist_item("other", "Launch day", "Something else", now),
                playlist_item("v1", "Launch day", "Launch day\nWe shipped it. #launch #siar", now),
            ]
        },
    )
    found = await youtube.find_by_marker(ACCOUNT, CREDENTIAL, post(), now - timedelta(hours=1))
    assert found is not None
    assert found.network_post_id == "v1"
    assert channels.calls.last.request.url.params["part"] == "contentDetails"
    assert channels.calls.last.request.url.params["mine"] == "true"
    params = items.calls.last.request.url.params
    assert params["playlistId"] == "UUchannel"
    assert params["maxResults"] == "50"


async def test_find_by_marker_stops_at_older_uploads(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    api.get(f"{API}/channels").respond(
        200, json={"items": [{"contentDetails": {"relatedPlaylists": {"uploads": "UU1"}}}]}
    )
    old = datetime.now(UTC) - timedelta(days=3)
    api.get(f"{API}/playlistItems").respond(
        200,
        json={
            "items": [
                playlist_item("v0", "Launch day", "Launch day\nWe shipped it. #launch #siar", old)
            ],
            "nextPageToken": "more",
        },
    )
    assert (
        await youtube.find_by_marker(ACCOUNT, CREDENTIAL, post(), old + timedelta(days=1)) is None
    )


# -- metrics ---------------------------------------------------------------------------
async def test_account_metrics(api: respx.MockRouter, youtube: YouTubeConnector) -> None:
    route = api.get(f"{API}/channels").respond(
        200,
        json={
            "items": [
                {
                    "id": CHANNEL,
                    "statistics": {
                        "viewCount": "1200",
                        "subscriberCount": "45",
                        "hiddenSubscriberCount": False,
                        "videoCount": "7",
                    },
                }
            ]
        },
    )
    snapshot = await youtube.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {"subscriberCount": 45.0, "viewCount": 1200.0, "videoCount": 7.0}
    assert snapshot.partial is False
    assert route.calls.last.request.url.params["part"] == "statistics"


async def test_post_metrics_are_partial_when_likes_are_hidden(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    route = api.get(f"{API}/videos").respond(
        200,
        json={"items": [{"id": "v1", "statistics": {"viewCount": "10", "commentCount": "2"}}]},
    )
    snapshot = await youtube.post_metrics(ACCOUNT, CREDENTIAL, "v1")
    assert snapshot.metrics == {"viewCount": 10.0, "commentCount": 2.0}
    assert snapshot.partial is True
    assert dict(route.calls.last.request.url.params) == {"part": "statistics", "id": "v1"}


async def test_post_metrics_of_an_unknown_video(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    api.get(f"{API}/videos").respond(200, json={"items": []})
    with pytest.raises(PermanentError, match="no video"):
        await youtube.post_metrics(ACCOUNT, CREDENTIAL, "gone")


# -- webhooks and OAuth ----------------------------------------------------------------
def test_websub_signature_is_verified(youtube: YouTubeConnector) -> None:
    body = b"<feed><entry><yt:videoId>v1</yt:videoId></entry></feed>"
    good = "sha1=" + hmac.new(b"hub-secret", body, hashlib.sha1).hexdigest()
    assert youtube.verify_webhook({"X-Hub-Signature": good}, body, "hub-secret")
    assert not youtube.verify_webhook({"X-Hub-Signature": good}, body + b"x", "hub-secret")
    assert not youtube.verify_webhook({"X-Hub-Signature": good}, body, "other")
    assert not youtube.verify_webhook({}, body, "hub-secret")


async def test_google_oauth_exchange_with_pkce(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    assert youtube.oauth is not None
    assert youtube.oauth.extra_authorize_params["access_type"] == "offline"
    route = api.post("https://oauth2.googleapis.com/token").respond(
        200,
        json={
            "access_token": "ya29.new",
            "expires_in": 3599,
            "refresh_token": "1//refresh",
            "scope": "https://www.googleapis.com/auth/youtube.upload",
            "token_type": "Bearer",
        },
    )
    grant = await OAuthClient(youtube, "cid", "csecret").exchange_code(
        code="4/code", redirect_uri="https://siar.example/cb", code_verifier="verifier"
    )
    assert grant.expires_in_s == 3599
    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form["code_verifier"] == "verifier"
    assert form["client_id"] == "cid"


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "expected", "reason"),
    [
        (
            httpx.Response(401, json=google_error(401, "authError", "Invalid Credentials")),
            AuthExpiredError,
            "Invalid Credentials",
        ),
        (
            httpx.Response(403, json=google_error(403, "forbidden", "Access forbidden.")),
            PermanentError,
            "Access forbidden.",
        ),
        (
            httpx.Response(400, json=google_error(400, "invalidVideoId", "The video id is bad.")),
            PermanentError,
            "The video id is bad.",
        ),
        (
            httpx.Response(500, json=google_error(500, "backendError", "Backend")),
            RetryableError,
            "",
        ),
        (httpx.Response(200, text="<html>Google</html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json=google_error(503, "backendError", "Try later")),
            RetryableError,
            "Try later",
        ),
        (
            httpx.Response(200, json=google_error(403, "quotaExceeded", "Quota gone")),
            RateLimitedError,
            "Quota gone",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    youtube: YouTubeConnector,
    response: httpx.Response,
    expected: type[ConnectorError],
    reason: str,
) -> None:
    api.get(f"{API}/videos").mock(return_value=response)
    with pytest.raises(ConnectorError) as caught:
        await youtube.post_metrics(ACCOUNT, CREDENTIAL, "v1")
    assert type(caught.value) is expected
    assert reason in caught.value.reason


async def test_daily_quota_waits_until_pacific_midnight(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    api.get(f"{API}/videos").respond(
        403, json=google_error(403, "quotaExceeded", "The request cannot be completed.")
    )
    with pytest.raises(RateLimitedError) as caught:
        await youtube.post_metrics(ACCOUNT, CREDENTIAL, "v1")
    assert caught.value.retry_after_s is not None
    assert 0 < caught.value.retry_after_s <= 25 * 3600


async def test_rate_limit_403_and_429_honour_retry_after(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    route = api.get(f"{API}/videos").mock(
        side_effect=[
            httpx.Response(
                403,
                headers={"retry-after": "12"},
                json=google_error(403, "rateLimitExceeded", "Too fast"),
            ),
            httpx.Response(429, headers={"retry-after": "7"}, json=google_error(429, "x", "Slow")),
        ]
    )
    for wait in (12.0, 7.0):
        with pytest.raises(RateLimitedError) as caught:
            await youtube.post_metrics(ACCOUNT, CREDENTIAL, "v1")
        assert caught.value.retry_after_s == wait
    assert route.call_count == 2


async def test_read_timeout_is_retryable(api: respx.MockRouter, youtube: YouTubeConnector) -> None:
    api.get(f"{API}/videos").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="in time"):
        await youtube.post_metrics(ACCOUNT, CREDENTIAL, "v1")


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={"items": []})

    youtube.call_deadline_s = 0.05
    api.get(f"{API}/videos").mock(side_effect=trickle)
    with pytest.raises(RetryableError, match="in time"):
        await youtube.post_metrics(ACCOUNT, CREDENTIAL, "v1")


async def test_chunk_size_must_be_a_multiple_of_256_kib() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="256 KiB"):
            YouTubeConnector(http, chunk_size=1000)
