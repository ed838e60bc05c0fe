"""Instagram error classification, rate limits and timeouts against the Graph API (respx)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import AuthExpiredError, PermanentError, RateLimitedError, RetryableError
from siar.connectors.instagram import InstagramConnector
from tests.unit.connectors.instagram_fakes import (
    ACCOUNT,
    CREDENTIAL,
    GRAPH,
    IG_USER,
    mock_quota,
    post,
)
from tests.unit.connectors.meta_fakes import FakeHost, graph_error


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
async def ig(host: FakeHost) -> AsyncIterator[InstagramConnector]:
    async with httpx.AsyncClient() as http:
        yield InstagramConnector(http, media_host=host, poll_interval_s=0, poll_timeout_s=5)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "expected", "text"),
    [
        (httpx.Response(401, json={"message": "bad token"}), AuthExpiredError, "bad token"),
        (
            httpx.Response(400, json=graph_error(190, "Error validating access token", 460)),
            AuthExpiredError,
            "Error validating access token",
        ),
        (
            httpx.Response(400, json=graph_error(4, "Application request limit reached")),
            RateLimitedError,
            "Application request limit reached",
        ),
        (
            httpx.Response(400, json=graph_error(9, "Daily publishing limit reached", 2207042)),
            RateLimitedError,
            "Daily publishing limit",
        ),
        (httpx.Response(502, text="Bad gateway"), RetryableError, "server error"),
        (httpx.Response(200, text="<!DOCTYPE html><html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json=graph_error(-2, "It takes too long to download", 2207003)),
            RetryableError,
            "too long to download",
        ),
        (
            httpx.Response(400, json=graph_error(36000, "The image size is too large.", 2207004)),
            PermanentError,
            "The image size is too large",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    ig: InstagramConnector,
    response: httpx.Response,
    expected: type[Exception],
    text: str,
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").mock(return_value=response)
    with pytest.raises(expected, match=text) as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post())
    assert type(caught.value) is expected


async def test_429_with_retry_after(api: respx.MockRouter, ig: InstagramConnector) -> None:
    api.get(f"{GRAPH}/{IG_USER}/content_publishing_limit").respond(
        429, headers={"retry-after": "45"}, text="Too Many Requests"
    )
    with pytest.raises(RateLimitedError) as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 45.0


async def test_read_timeout_is_retryable(api: respx.MockRouter, ig: InstagramConnector) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="in time"):
        await ig.publish(ACCOUNT, CREDENTIAL, post())


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={"id": "c1"})

    ig.call_deadline_s = 0.05
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").mock(side_effect=trickle)
    with pytest.raises(RetryableError, match="in time"):
        await ig.publish(ACCOUNT, CREDENTIAL, post())
