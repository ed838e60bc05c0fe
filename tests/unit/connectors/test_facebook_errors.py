"""Facebook Pages error classification, rate limits and timeouts against the Graph API (respx)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.facebook import FacebookPagesConnector
from tests.unit.connectors.facebook_fakes import (
    ACCOUNT,
    APP_SECRET,
    CREDENTIAL,
    GRAPH,
    PAGE,
    POST_ID,
    post,
)
from tests.unit.connectors.meta_fakes import graph_error


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def fb() -> AsyncIterator[FacebookPagesConnector]:
    async with httpx.AsyncClient() as http:
        yield FacebookPagesConnector(http, app_secret=APP_SECRET)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "expected", "text"),
    [
        (httpx.Response(401, json={"message": "nope"}), AuthExpiredError, "nope"),
        (
            httpx.Response(400, json=graph_error(190, "Error validating access token", 463)),
            AuthExpiredError,
            "Error validating access token",
        ),
        (
            httpx.Response(400, json=graph_error(32, "Page request limit reached")),
            RateLimitedError,
            "Page request limit reached",
        ),
        (
            httpx.Response(500, json=graph_error(2, "Service unavailable")),
            OutcomeUnknownError,  # the feed call may have posted: look first
            "Service",
        ),
        (
            httpx.Response(200, text="<html>Sorry, something went wrong.</html>"),
            RetryableError,
            "not JSON",
        ),
        (
            httpx.Response(200, json=graph_error(1, "An unknown error occurred")),
            RetryableError,
            "An unknown error occurred",
        ),
        (
            httpx.Response(200, json=graph_error(190, "Session has expired")),
            AuthExpiredError,
            "Session has expired",
        ),
        (
            httpx.Response(
                400, json=graph_error(368, "The action attempted has been deemed abusive")
            ),
            PermanentError,
            "deemed abusive",
        ),
        (
            httpx.Response(400, json=graph_error(506, "Duplicate status message")),
            PermanentError,
            "Duplicate status message",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    fb: FacebookPagesConnector,
    response: httpx.Response,
    expected: type[Exception],
    text: str,
) -> None:
    api.post(f"{GRAPH}/{PAGE}/feed").mock(return_value=response)
    with pytest.raises(expected, match=text) as caught:
        await fb.publish(ACCOUNT, CREDENTIAL, post())
    assert type(caught.value) is expected


async def test_429_with_retry_after(api: respx.MockRouter, fb: FacebookPagesConnector) -> None:
    api.post(f"{GRAPH}/{PAGE}/feed").respond(
        429, headers={"retry-after": "30"}, json={"message": "slow down"}
    )
    with pytest.raises(RateLimitedError) as caught:
        await fb.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 30.0


async def test_throttling_waits_as_the_usage_header_says(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]}
    api.post(f"{GRAPH}/{PAGE}/feed").respond(
        400,
        headers={"x-business-use-case-usage": json.dumps(usage)},
        json=graph_error(80001, "There have been too many calls to this Page account"),
    )
    with pytest.raises(RateLimitedError) as caught:
        await fb.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 300.0


async def test_read_timeout_is_retryable(api: respx.MockRouter, fb: FacebookPagesConnector) -> None:
    api.post(f"{GRAPH}/{PAGE}/feed").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="in time"):
        await fb.publish(ACCOUNT, CREDENTIAL, post())


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={"id": POST_ID})

    fb.call_deadline_s = 0.05
    api.post(f"{GRAPH}/{PAGE}/feed").mock(side_effect=trickle)
    with pytest.raises(RetryableError, match="in time"):
        await fb.publish(ACCOUNT, CREDENTIAL, post())
