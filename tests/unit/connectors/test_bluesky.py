"""Bluesky connector: sessions and error classification, from documented XRPC shapes."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    OutcomeUnknownError,
    OutgoingPost,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.bluesky import BlueskyConnector
from tests.unit.connectors.bluesky_fakes import (
    ACCOUNT,
    CREDENTIAL,
    DID,
    PDS,
    body_of,
    created,
    xrpc,
)

ENTRYWAY = "https://bsky.social"


def jwt(exp: int) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part({'sub': DID, 'exp': exp})}.sig"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def bsky() -> AsyncIterator[BlueskyConnector]:
    async with httpx.AsyncClient() as http:
        yield BlueskyConnector(http)


# -- sessions --------------------------------------------------------------------------
async def test_sign_in_uses_the_app_password_and_the_pds_from_the_did_document(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    exp = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
    route = api.post(f"{ENTRYWAY}/xrpc/com.atproto.server.createSession").respond(
        200,
        json={
            "did": DID,
            "handle": "alice.bsky.social",
            "accessJwt": jwt(exp),
            "refreshJwt": "refresh-jwt",
            "active": True,
            "didDoc": {
                "id": DID,
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": PDS,
                    }
                ],
            },
        },
    )
    connected = await bsky.sign_in("@alice.bsky.social", "abcd-efgh-ijkl-mnop")

    request = route.calls.last.request
    assert body_of(request) == {
        "identifier": "alice.bsky.social",
        "password": "abcd-efgh-ijkl-mnop",
    }
    assert "authorization" not in request.headers
    assert connected.network_account_id == DID
    assert connected.credential.extra == {"did": DID, "handle": "alice.bsky.social", "pds": PDS}
    assert connected.credential.expires_at == datetime.fromtimestamp(exp, UTC)


async def test_sign_in_with_a_wrong_app_password_is_permanent(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.post(f"{ENTRYWAY}/xrpc/com.atproto.server.createSession").respond(
        401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    )
    with pytest.raises(PermanentError, match="Invalid identifier or password"):
        await bsky.sign_in("alice.bsky.social", "wrong")


async def test_sign_in_to_a_taken_down_account_is_permanent(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.post(f"{ENTRYWAY}/xrpc/com.atproto.server.createSession").respond(
        200,
        json={
            "did": DID,
            "handle": "alice.bsky.social",
            "accessJwt": "a",
            "refreshJwt": "r",
            "active": False,
            "status": "takendown",
        },
    )
    with pytest.raises(PermanentError, match="takendown"):
        await bsky.sign_in("alice.bsky.social", "pw")


async def test_refresh_sends_the_refresh_jwt_to_the_accounts_pds(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    route = api.post(xrpc("com.atproto.server.refreshSession")).respond(
        200,
        json={"did": DID, "handle": "alice.bsky.social", "accessJwt": "a2", "refreshJwt": "r2"},
    )
    fresh = await bsky.refresh(CREDENTIAL)

    assert route.calls.last.request.headers["authorization"] == "Bearer refresh-jwt"
    assert fresh.access_token.get_secret_value() == "a2"
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == "r2"
    assert fresh.extra["pds"] == PDS


async def test_an_expired_refresh_jwt_means_sign_in_again(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.post(xrpc("com.atproto.server.refreshSession")).respond(
        400, json={"error": "ExpiredToken", "message": "Token has expired"}
    )
    with pytest.raises(AuthExpiredError, match="Token has expired"):
        await bsky.refresh(CREDENTIAL)


# -- errors ----------------------------------------------------------------------------
def publish_text(bsky: BlueskyConnector) -> Any:
    return bsky.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="Hi", marker="d"))


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"}),
            AuthExpiredError,
            "Token has expired",
        ),
        (
            httpx.Response(400, json={"error": "InvalidToken", "message": "Token is invalid"}),
            AuthExpiredError,
            "InvalidToken",
        ),
        (
            httpx.Response(
                401, json={"error": "AuthMissing", "message": "Authentication Required"}
            ),
            AuthExpiredError,
            "Authentication Required",
        ),
        (
            httpx.Response(
                400,
                json={
                    "error": "InvalidRequest",
                    "message": "Invalid app.bsky.feed.post record: Record/text must not be longer "
                    "than 300 graphemes",
                },
            ),
            PermanentError,
            "must not be longer than 300 graphemes",
        ),
        (
            httpx.Response(500, json={"error": "InternalServerError", "message": "boom"}),
            # A 5xx on the create call may have created it: look before retrying.
            OutcomeUnknownError,
            "server error",
        ),
        (
            httpx.Response(200, text="<html><body>Bad gateway</body></html>"),
            RetryableError,
            "not JSON",
        ),
        (
            httpx.Response(200, json={"error": "ExpiredToken", "message": "Token has expired"}),
            AuthExpiredError,
            "Token has expired",
        ),
        (
            httpx.Response(200, json={"error": "InvalidRequest", "message": "bad record"}),
            PermanentError,
            "bad record",
        ),
    ],
)
async def test_xrpc_errors_are_classified(
    api: respx.MockRouter,
    bsky: BlueskyConnector,
    response: httpx.Response,
    error: type[Exception],
    message: str,
) -> None:
    api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=response)
    with pytest.raises(error, match=message) as raised:
        await publish_text(bsky)
    assert type(raised.value) is error


async def test_rate_limit_honours_ratelimit_reset(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 120
    api.post(xrpc("com.atproto.repo.createRecord")).respond(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={
            "RateLimit-Limit": "5000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(reset),
        },
    )
    with pytest.raises(RateLimitedError, match="Rate Limit Exceeded") as raised:
        await publish_text(bsky)
    assert raised.value.retry_after_s is not None
    assert 100 < raised.value.retry_after_s <= 120


async def test_rate_limit_honours_retry_after(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.post(xrpc("com.atproto.repo.createRecord")).respond(
        429, json={"error": "RateLimitExceeded"}, headers={"Retry-After": "30"}
    )
    with pytest.raises(RateLimitedError) as raised:
        await publish_text(bsky)
    assert raised.value.retry_after_s == 30


async def test_a_read_timeout_is_retryable(api: respx.MockRouter, bsky: BlueskyConnector) -> None:
    api.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="did not answer in time"):
        await publish_text(bsky)


async def test_a_slow_answer_is_cut_at_the_call_deadline(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return created()

    api.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=slow)
    bsky.call_deadline_s = 0.05
    with pytest.raises(RetryableError, match="did not answer in time"):
        await publish_text(bsky)


async def test_a_connection_error_is_retryable(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RetryableError, match="could not reach Bluesky"):
        await publish_text(bsky)


async def test_the_connector_declares_no_oauth_and_grapheme_rules() -> None:
    assert BlueskyConnector.oauth is None
    assert BlueskyConnector.rules.counts_graphemes
    assert BlueskyConnector.rules.max_text_chars == 300
    assert BlueskyConnector.network == "bluesky"
