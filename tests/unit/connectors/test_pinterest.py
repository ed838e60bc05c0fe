"""Pinterest connector: recovery, engagement, metrics, OAuth and errors (respx)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    ConnectorError,
    Engagement,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.pinterest import PinterestConnector, PinterestOAuthClient
from tests.unit.connectors.pinterest_fakes import (
    ACCOUNT,
    API,
    CREDENTIAL,
    PIN,
    b64,
    post,
    sent,
)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def pinterest() -> AsyncIterator[PinterestConnector]:
    async with httpx.AsyncClient() as http:
        yield PinterestConnector(http, poll_interval_s=0, media_wait_s=5)


# -- finding a Pin again ---------------------------------------------------------------
async def test_find_by_marker_reads_the_private_note(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    route = api.get(f"{API}/boards/549755885175/pins").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "items": [
                        {**PIN, "id": "1", "note": "siar:dlv_0", "created_at": now.isoformat()}
                    ],
                    "bookmark": "b2",
                },
            ),
            httpx.Response(
                200,
                json={"items": [{**PIN, "created_at": now.isoformat()}], "bookmark": None},
            ),
        ]
    )
    since = datetime.now(UTC) - timedelta(hours=1)
    found = await pinterest.find_by_marker(ACCOUNT, CREDENTIAL, post(), since)
    assert found is not None
    assert found.network_post_id == "813744226420795884"
    assert route.calls[1].request.url.params["bookmark"] == "b2"
    assert route.calls[0].request.url.params["page_size"] == "100"


async def test_find_by_marker_stops_at_older_pins(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.get(f"{API}/boards/549755885175/pins").respond(
        200, json={"items": [{**PIN, "created_at": "2020-01-01T00:00:00"}], "bookmark": "more"}
    )
    since = datetime.now(UTC) - timedelta(hours=1)
    assert await pinterest.find_by_marker(ACCOUNT, CREDENTIAL, post(), since) is None


# -- engagement and metrics ------------------------------------------------------------
async def test_repost_saves_to_the_board_and_delete_removes_a_pin(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    save = api.post(f"{API}/pins/42/save").respond(201, json={**PIN, "id": "43"})
    delete = api.delete(f"{API}/pins/43").respond(204)
    result = await pinterest.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="repost", target_network_id="42")
    )
    assert result.network_id == "43"
    assert sent(save) == {"board_id": "549755885175"}
    await pinterest.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id="43"))
    assert delete.call_count == 1
    with pytest.raises(PermanentError, match="does not support reply"):
        await pinterest.engage(
            ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="1", text="hi")
        )


async def test_post_metrics_from_pin_analytics(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    route = api.get(f"{API}/pins/813744226420795884/analytics").respond(
        200,
        json={
            "all": {
                "daily_metrics": [],
                "summary_metrics": {
                    "IMPRESSION": 1200,
                    "SAVE": 30,
                    "PIN_CLICK": 12,
                    "OUTBOUND_CLICK": 4,
                },
                "lifetime_metrics": {"TOTAL_COMMENTS": 2},
            }
        },
    )
    snapshot = await pinterest.post_metrics(ACCOUNT, CREDENTIAL, "813744226420795884")
    assert snapshot.metrics == {
        "impression": 1200.0,
        "save": 30.0,
        "pin_click": 12.0,
        "outbound_click": 4.0,
        "total_comments": 2.0,
    }
    assert snapshot.partial is False
    params = route.calls.last.request.url.params
    assert params["metric_types"] == "IMPRESSION,SAVE,PIN_CLICK,OUTBOUND_CLICK,TOTAL_COMMENTS"
    assert params["app_types"] == "ALL"
    today = datetime.now(UTC).date()
    assert params["end_date"] == today.isoformat()
    assert params["start_date"] == (today - timedelta(days=89)).isoformat()


async def test_post_metrics_are_partial_when_some_are_missing(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.get(f"{API}/pins/1/analytics").respond(
        200, json={"all": {"summary_metrics": {"IMPRESSION": 5}}}
    )
    snapshot = await pinterest.post_metrics(ACCOUNT, CREDENTIAL, "1")
    assert snapshot.metrics == {"impression": 5.0}
    assert snapshot.partial is True


async def test_account_metrics_combine_account_and_analytics(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.get(f"{API}/user_account").respond(
        200,
        json={
            "account_type": "BUSINESS",
            "username": "siar",
            "follower_count": 310,
            "following_count": 12,
            "monthly_views": 9000,
            "pin_count": 44,
        },
    )
    analytics = api.get(f"{API}/user_account/analytics").respond(
        200,
        json={
            "all": {
                "summary_metrics": {
                    "IMPRESSION": 100,
                    "ENGAGEMENT": 10,
                    "PIN_CLICK": 5,
                    "OUTBOUND_CLICK": 2,
                    "SAVE": 3,
                }
            }
        },
    )
    snapshot = await pinterest.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics["follower_count"] == 310.0
    assert snapshot.metrics["impression"] == 100.0
    assert snapshot.partial is False
    assert analytics.calls.last.request.url.params["metric_types"] == (
        "IMPRESSION,ENGAGEMENT,PIN_CLICK,OUTBOUND_CLICK,SAVE"
    )


async def test_account_metrics_without_analytics_access_are_partial(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.get(f"{API}/user_account").respond(200, json={"follower_count": 3})
    api.get(f"{API}/user_account/analytics").respond(
        403, json={"code": 403, "message": "Not authorized to access the user account analytics."}
    )
    snapshot = await pinterest.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {"follower_count": 3.0}
    assert snapshot.partial is True


# -- OAuth -----------------------------------------------------------------------------
async def test_token_endpoint_uses_basic_client_authentication(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    route = api.post(f"{API}/oauth/token").respond(
        200,
        json={
            "access_token": "pina_new",
            "refresh_token": "pinr_new",
            "response_type": "authorization_code",
            "token_type": "bearer",
            "expires_in": 2592000,
            "refresh_token_expires_in": 31536000,
            "scope": "boards:read,pins:write",
        },
    )
    client = PinterestOAuthClient(pinterest, "1484362", "app-secret")
    grant = await client.exchange_code(
        code="abc", redirect_uri="https://siar.example/cb", code_verifier=None
    )
    assert grant.expires_in_s == 2592000
    assert grant.refresh_token is not None
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic " + b64(b"1484362:app-secret")
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {
        "grant_type": "authorization_code",
        "code": "abc",
        "redirect_uri": "https://siar.example/cb",
    }
    await client.refresh("pinr_old")
    assert dict(httpx.QueryParams(route.calls.last.request.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "pinr_old",
    }


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "expected", "reason"),
    [
        (
            httpx.Response(401, json={"code": 2, "message": "Authentication failed."}),
            AuthExpiredError,
            "Authentication failed.",
        ),
        (
            httpx.Response(400, json={"code": 1, "message": "Invalid request: board not found"}),
            PermanentError,
            "board not found",
        ),
        # A 5xx on the create call may have made the pin: look before retrying.
        (
            httpx.Response(503, json={"code": 503, "message": "Unavailable"}),
            OutcomeUnknownError,
            "",
        ),
        (httpx.Response(200, text="<html>Pinterest</html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json={"code": 403, "message": "Not authorized to access board."}),
            PermanentError,
            "Not authorized to access board.",
        ),
        (
            httpx.Response(200, json={"code": 429, "message": "Rate limited"}),
            RateLimitedError,
            "Rate limited",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    pinterest: PinterestConnector,
    response: httpx.Response,
    expected: type[ConnectorError],
    reason: str,
) -> None:
    api.post(f"{API}/pins").mock(return_value=response)
    api.get(f"{API}/boards/549755885175/pins").respond(200, json={"items": [], "bookmark": None})
    with pytest.raises(ConnectorError) as caught:
        await pinterest.publish(ACCOUNT, CREDENTIAL, post())
    assert type(caught.value) is expected
    assert reason in caught.value.reason


async def test_429_carries_retry_after(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.post(f"{API}/pins").respond(
        429, headers={"retry-after": "45"}, json={"code": 8, "message": "Too many requests"}
    )
    with pytest.raises(RateLimitedError) as caught:
        await pinterest.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 45.0


async def test_read_timeout_is_retryable_when_no_pin_was_made(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.post(f"{API}/pins").mock(side_effect=httpx.ReadTimeout("slow"))
    listing = api.get(f"{API}/boards/549755885175/pins").respond(
        200, json={"items": [], "bookmark": None}
    )
    with pytest.raises(RetryableError, match="in time"):
        await pinterest.publish(ACCOUNT, CREDENTIAL, post())
    assert listing.call_count == 1


async def test_lost_answer_to_the_create_call_finds_the_pin_it_made(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.post(f"{API}/pins").mock(side_effect=httpx.ReadTimeout("lost"))
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    api.get(f"{API}/boards/549755885175/pins").respond(
        200, json={"items": [{**PIN, "created_at": now}], "bookmark": None}
    )
    published = await pinterest.publish(ACCOUNT, CREDENTIAL, post())
    assert published.network_post_id == "813744226420795884"


async def test_rate_limited_create_is_not_looked_for(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    api.post(f"{API}/pins").respond(429, json={"code": 8, "message": "Too many requests"})
    listing = api.get(f"{API}/boards/549755885175/pins").respond(200, json={"items": []})
    with pytest.raises(RateLimitedError):
        await pinterest.publish(ACCOUNT, CREDENTIAL, post())
    assert listing.call_count == 0


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(201, json=PIN)

    pinterest.call_deadline_s = 0.05
    api.post(f"{API}/pins").mock(side_effect=trickle)
    api.get(f"{API}/boards/549755885175/pins").respond(200, json={"items": [], "bookmark": None})
    with pytest.raises(RetryableError, match="in time"):
        await pinterest.publish(ACCOUNT, CREDENTIAL, post())
