"""Threads error classification, rate limits and timeouts against the Threads API (respx)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import AuthExpiredError, PermanentError, RateLimitedError, RetryableError
from siar.connectors.threads import ThreadsConnector
from tests.unit.connectors.meta_fakes import FakeHost, graph_error
from tests.unit.connectors.threads_fakes import ACCOUNT, API, CREDENTIAL, USER, mock_quota, post


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
async def threads(host: FakeHost) -> AsyncIterator[ThreadsConnector]:
    async with httpx.AsyncClient() as http:
        yield ThreadsConnector(http, media_host=host, poll_interval_s=0, poll_timeout_s=5)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "expected", "text"),
    [
        (httpx.Response(401, json={"message": "expired"}), AuthExpiredError, "expired"),
        (
            httpx.Response(400, json=graph_error(190, "Session has expired on Friday")),
            AuthExpiredError,
            "Session has expired",
        ),
        (
            httpx.Response(400, json=graph_error(17, "User request limit reached")),
            RateLimitedError,
            "User request limit reached",
        ),
        (httpx.Response(503, text="unavailable"), RetryableError, "server error"),
        (httpx.Response(200, text="<html>oops</html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json=graph_error(2, "Service temporarily unavailable")),
            RetryableError,
            "Service temporarily unavailable",
        ),
        (
            httpx.Response(
                400, json=graph_error(100, "Param text must be at most 500 characters long.")
            ),
            PermanentError,
            "Param text must be at most 500 characters long",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    threads: ThreadsConnector,
    response: httpx.Response,
    expected: type[Exception],
    text: str,
) -> None:
    mock_quota(api)
    api.post(f"{API}/{USER}/threads").mock(return_value=response)
    with pytest.raises(expected, match=text) as caught:
        await threads.publish(ACCOUNT, CREDENTIAL, post())
    assert type(caught.value) is expected


async def test_429_with_retry_after(api: respx.MockRouter, threads: ThreadsConnector) -> None:
    mock_quota(api)
    api.post(f"{API}/{USER}/threads").respond(429, headers={"retry-after": "60"}, json={})
    with pytest.raises(RateLimitedError) as caught:
        await threads.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 60.0


async def test_read_timeout_is_retryable(api: respx.MockRouter, threads: ThreadsConnector) -> None:
    mock_quota(api)
    api.post(f"{API}/{USER}/threads").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="in time"):
        await threads.publish(ACCOUNT, CREDENTIAL, post())


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={"id": "c1"})

    threads.call_deadline_s = 0.05
    mock_quota(api)
    api.post(f"{API}/{USER}/threads").mock(side_effect=trickle)
    with pytest.raises(RetryableError, match="in time"):
        await threads.publish(ACCOUNT, CREDENTIAL, post())
