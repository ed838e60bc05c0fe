"""Shared Meta Graph pieces: error codes, usage headers, signatures, Facebook Login, polling."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    AuthExpiredError,
    ConnectorError,
    Credential,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.meta_graph import (
    FacebookLoginClient,
    GraphError,
    after_cursor,
    appsecret_proof,
    classify_graph_error,
    encode_cursor,
    facebook_login,
    insight_values,
    parse_time,
    quota,
    same_text,
    subscription_challenge,
    usage_retry_after_s,
    verify_signature,
)

GRAPH = "https://graph.facebook.com/v24.0"
CREDENTIAL = Credential(access_token=SecretStr("EAAG-token"))


def graph_error(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"message {code}", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": {**error, "fbtrace_id": "AbCdEf"}}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, graph_error(190, 463), AuthExpiredError),
        (400, graph_error(102), AuthExpiredError),
        (400, graph_error(4), RateLimitedError),
        (400, graph_error(17), RateLimitedError),
        (400, graph_error(32), RateLimitedError),
        (400, graph_error(613), RateLimitedError),
        (400, graph_error(80001), RateLimitedError),
        (400, graph_error(80009), RateLimitedError),
        (400, graph_error(9, 2207042), RateLimitedError),
        (400, graph_error(1), RetryableError),
        (400, graph_error(2), RetryableError),
        (400, graph_error(-2, 2207003), RetryableError),
        (400, graph_error(100, is_transient=True), RetryableError),
        (400, graph_error(36000, 2207020), RetryableError),
        (500, graph_error(100), RetryableError),
        (400, graph_error(100, 33), PermanentError),
        (403, graph_error(10), PermanentError),
        (400, graph_error(368), PermanentError),
        (400, graph_error(506), PermanentError),
        (401, graph_error(100), AuthExpiredError),
    ],
)
def test_graph_codes_decide_the_error_class(
    status: int, body: dict[str, Any], expected: type[ConnectorError]
) -> None:
    error = classify_graph_error("Facebook", status, body, None)
    assert type(error) is expected
    assert error is not None
    assert f"message {body['error']['code']}" in error.reason


def test_no_error_object_means_no_graph_classification() -> None:
    assert classify_graph_error("Facebook", 400, {"detail": "x"}, None) is None
    assert classify_graph_error("Facebook", 400, None, None) is None


def test_error_description_quotes_messages_and_codes() -> None:
    error = GraphError.of(
        graph_error(36000, 2207004, error_user_msg="The image is too large. It should be < 8 MiB.")
    )
    assert error is not None
    assert error.describe() == (
        "message 36000 (The image is too large. It should be < 8 MiB.) [code 36000/2207004]"
    )


def test_business_use_case_header_gives_the_wait() -> None:
    usage = {"1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    response = httpx.Response(
        400, headers={"x-business-use-case-usage": json.dumps(usage)}, json=graph_error(80001)
    )
    assert usage_retry_after_s(response) == 420.0
    error = classify_graph_error("Facebook", 400, graph_error(80001), response)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_s == 420.0


def test_retry_after_wins_and_garbage_usage_headers_are_ignored() -> None:
    assert usage_retry_after_s(httpx.Response(400, headers={"retry-after": "12"})) == 12.0
    garbled = httpx.Response(400, headers={"x-business-use-case-usage": "{not json"})
    assert usage_retry_after_s(garbled) is None
    page = httpx.Response(400, headers={"x-page-usage": '{"estimated_time_to_regain_access": 2}'})
    assert usage_retry_after_s(page) == 120.0
    assert usage_retry_after_s(None) is None


def test_appsecret_proof_is_hmac_sha256_of_the_token() -> None:
    expected = hmac.new(b"shh", b"EAAG-token", hashlib.sha256).hexdigest()
    assert appsecret_proof("EAAG-token", "shh") == expected


def test_webhook_signature_is_checked_on_the_raw_body() -> None:
    body = b'{"object":"page","entry":[]}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert verify_signature({"X-Hub-Signature-256": good}, body, "app-secret")
    assert not verify_signature({"X-Hub-Signature-256": good}, body + b" ", "app-secret")
    assert not verify_signature({"X-Hub-Signature-256": good}, body, "other-secret")
    assert not verify_signature({"X-Hub-Signature": good[7:]}, body, "app-secret")
    assert not verify_signature({"X-Hub-Signature-256": good}, body, "")
    assert not verify_signature({"X-Hub-Signature-256": "sha256=é"}, body, "app-secret")


def test_subscription_handshake_echoes_the_challenge_only_for_our_token() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "siar-verify",
        "hub.challenge": "1158201444",
    }
    assert subscription_challenge(query, "siar-verify") == "1158201444"
    assert subscription_challenge(query, "other") is None
    assert subscription_challenge({**query, "hub.mode": "unsubscribe"}, "siar-verify") is None
    assert subscription_challenge(query, "") is None
    assert subscription_challenge({**query, "hub.verify_token": "clé"}, "siar-verify") is None


def test_facebook_login_urls_and_scopes() -> None:
    config = facebook_login(("pages_show_list", "pages_manage_posts"), version="v24.0")
    assert config.authorize_url == "https://www.facebook.com/v24.0/dialog/oauth"
    assert config.token_url == f"{GRAPH}/oauth/access_token"
    assert config.scope_separator == ","
    assert not config.refreshable
    assert not config.pkce


def test_graph_times_cursors_text_and_insights() -> None:
    assert parse_time("2024-05-01T10:00:00+0000") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_time("yesterday") is None
    assert parse_time(None) is None
    at = datetime(2024, 5, 1, 10, tzinfo=UTC)
    cursor = encode_cursor(at, "179")
    assert not after_cursor(cursor, at, "179")
    assert after_cursor(cursor, at, "1790")  # a longer decimal id is a larger id
    assert not after_cursor(cursor, at, "18")
    assert after_cursor(cursor, datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC), "1")
    assert after_cursor(None, at, "1")
    assert same_text("Hello\r\nworld \n", "Hello\nworld")
    assert not same_text("Hello world", "Hello")
    assert same_text(None, "")
    body = {
        "data": [
            {"name": "reach", "period": "day", "total_value": {"value": 12}},
            {"name": "views", "values": [{"value": 3}, {"value": 5}]},
            {"name": "reactions", "values": [{"value": {"like": 2, "love": 1}}]},
            {"name": "broken", "values": []},
        ]
    }
    assert insight_values(body) == {"reach": 12.0, "views": 5.0, "reactions": 3.0}


def test_publishing_quota_shapes() -> None:
    body = {"data": [{"quota_usage": 7, "config": {"quota_total": 50, "quota_duration": 86400}}]}
    assert quota(body, "quota_usage", "config", 100) == (7, 50)
    assert quota({"data": []}, "quota_usage", "config", 100) == (0, 100)
    assert quota({"data": {"x": 1}}, "quota_usage", "config", 100) == (0, 100)
    assert quota({"data": [{"config": "?"}]}, "quota_usage", "config", 250) == (0, 250)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def fb() -> AsyncIterator[FacebookPagesConnector]:
    async with httpx.AsyncClient() as http:
        yield FacebookPagesConnector(http)


async def test_facebook_login_exchanges_the_code_then_asks_for_a_long_lived_token(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    route = api.get(f"{GRAPH}/oauth/access_token").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "short", "token_type": "bearer"}),
            httpx.Response(
                200, json={"access_token": "long", "token_type": "bearer", "expires_in": 5183944}
            ),
        ]
    )
    client = FacebookLoginClient(fb, client_id="app-1", client_secret="secret-1")
    grant = await client.exchange_code(
        code="AQB", redirect_uri="https://siar.test/cb", code_verifier=None
    )
    assert grant.access_token.get_secret_value() == "long"
    assert grant.expires_in_s == 5183944
    first, second = (parse_qs(c.request.url.query.decode()) for c in route.calls)
    assert first == {
        "code": ["AQB"],
        "redirect_uri": ["https://siar.test/cb"],
        "client_id": ["app-1"],
        "client_secret": ["secret-1"],
    }
    assert second["grant_type"] == ["fb_exchange_token"]
    assert second["fb_exchange_token"] == ["short"]
    with pytest.raises(PermanentError, match="reconnect"):
        await client.refresh("long")


async def test_facebook_login_without_a_token_is_permanent(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/oauth/access_token").respond(
        400, json=graph_error(100, 36007, message="Invalid verification code format.")
    )
    client = FacebookLoginClient(fb, client_id="app-1", client_secret="secret-1")
    with pytest.raises(PermanentError, match="Invalid verification code format"):
        await client.exchange_code(
            code="bad", redirect_uri="https://siar.test/cb", code_verifier="v"
        )


async def test_rupload_debug_info_is_classified(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.post("https://rupload.facebook.com/ig-api-upload/v24.0/1").mock(
        side_effect=[
            httpx.Response(
                400,
                json={"debug_info": {"retriable": False, "type": "BadRequest", "message": "bad"}},
            ),
            httpx.Response(
                400,
                json={"debug_info": {"retriable": True, "type": "ProcessingFailedError"}},
            ),
        ]
    )
    url = "https://rupload.facebook.com/ig-api-upload/v24.0/1"
    with pytest.raises(PermanentError, match="refused the upload \\(400\\): bad"):
        await fb.call("POST", url, content=b"x")
    with pytest.raises(RetryableError, match="ProcessingFailedError"):
        await fb.call("POST", url, content=b"x")


async def test_success_false_is_an_error(api: respx.MockRouter, fb: FacebookPagesConnector) -> None:
    api.post(f"{GRAPH}/9").respond(200, json={"success": False})
    with pytest.raises(PermanentError, match="did not carry out"):
        await fb.graph("POST", "/9", CREDENTIAL, data={"is_hidden": "true"})
