"""LinkedIn connector errors, OAuth, webhooks and little text against /rest shapes (respx)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

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
from siar.connectors.http import OAuthClient
from siar.connectors.linkedin import LinkedInConnector, challenge_response, little_text
from tests.unit.connectors.linkedin_fakes import (
    API,
    CREDENTIAL,
    HTML,
    PERSON,
    SHARE,
    account,
    created,
)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def linkedin() -> AsyncIterator[LinkedInConnector]:
    async with httpx.AsyncClient() as http:
        yield LinkedInConnector(http, poll_interval_s=0)


# -- errors ----------------------------------------------------------------------------
async def test_revoked_token_is_auth_expired(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").respond(
        401,
        json={
            "serviceErrorCode": 65601,
            "message": "The token used in the request has been revoked by the user",
            "status": 401,
        },
    )
    with pytest.raises(AuthExpiredError, match="revoked by the user"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_429_honours_retry_after_or_waits_for_midnight_utc(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(
        side_effect=[
            httpx.Response(
                429, headers={"retry-after": "30"}, json={"message": "Too Many", "status": 429}
            ),
            httpx.Response(
                429,
                json={
                    "message": "Resource level throttle APPLICATION DAY limit for calls to "
                    "this resource is reached.",
                    "status": 429,
                },
            ),
        ]
    )
    post = OutgoingPost(text="t", marker="m")
    with pytest.raises(RateLimitedError) as short:
        await linkedin.publish(account(), CREDENTIAL, post)
    with pytest.raises(RateLimitedError) as daily:
        await linkedin.publish(account(), CREDENTIAL, post)

    assert short.value.retry_after_s == 30.0
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert daily.value.retry_after_s == pytest.approx((midnight - now).total_seconds(), abs=5)


async def test_5xx_is_retryable(api: respx.MockRouter, linkedin: LinkedInConnector) -> None:
    api.post(f"{API}/rest/posts").respond(504, json={"message": "Gateway Timeout", "status": 504})
    with pytest.raises(RetryableError, match="504"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_html_instead_of_json_is_retryable(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.get(url__startswith=f"{API}/rest/").respond(
        200, text=HTML, headers={"content-type": "text/html"}
    )
    api.post(f"{API}/rest/posts").respond(200, text=HTML, headers={"content-type": "text/html"})
    with pytest.raises(RetryableError, match="not JSON"):
        await linkedin.account_metrics(account(), CREDENTIAL)
    with pytest.raises(RetryableError, match="without its URN"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_200_with_an_error_body_is_classified(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.get(f"{API}/rest/memberFollowersCount", params={"q": "me"}).mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "serviceErrorCode": 100,
                    "message": "Not enough permissions to access: memberFollowersCount.FINDER-me",
                    "status": 403,
                },
            ),
            httpx.Response(
                200,
                json={"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401},
            ),
        ]
    )
    with pytest.raises(PermanentError, match="Not enough permissions"):
        await linkedin.account_metrics(account(PERSON), CREDENTIAL)
    with pytest.raises(AuthExpiredError, match="Invalid access token"):
        await linkedin.account_metrics(account(PERSON), CREDENTIAL)


async def test_read_timeout_is_retryable(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(RetryableError, match="did not answer in time"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_a_slow_answer_hits_the_deadline(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return created()

    api.post(f"{API}/rest/posts").mock(side_effect=slow)
    linkedin.call_deadline_s = 0.05
    started = time.monotonic()
    with pytest.raises(RetryableError, match="did not answer in time"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))
    assert time.monotonic() - started < 0.5


async def test_duplicate_and_invalid_posts_quote_linkedin(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(
        side_effect=[
            httpx.Response(
                422,
                json={
                    "message": f"Content is a duplicate of {SHARE}",
                    "status": 422,
                },
            ),
            httpx.Response(
                422,
                json={
                    "status": 422,
                    "code": "UNPROCESSABLE_ENTITY",
                    "message": "Field Value validation failed in REQUEST_BODY",
                    "errorDetails": {
                        "inputErrors": [
                            {
                                "description": "Commentary exceeds the maximum length",
                                "input": {"inputPath": {"fieldPath": "/commentary"}},
                                "code": "FIELD_VALUE_TOO_LONG",
                            }
                        ]
                    },
                },
            ),
        ]
    )
    post = OutgoingPost(text="Same again", marker="m")
    with pytest.raises(PermanentError, match="Content is a duplicate of urn:li:share"):
        await linkedin.publish(account(), CREDENTIAL, post)
    with pytest.raises(PermanentError, match="Commentary exceeds the maximum length"):
        await linkedin.publish(account(), CREDENTIAL, post)


# -- OAuth, webhooks and text ----------------------------------------------------------
async def test_oauth_code_exchange_posts_the_client_credentials(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    route = api.post("https://www.linkedin.com/oauth/v2/accessToken").respond(
        200,
        json={
            "access_token": "AQV-new",
            "expires_in": 5_184_000,
            "refresh_token": "AQW-refresh",
            "refresh_token_expires_in": 31_536_000,
            "scope": "r_organization_social,w_organization_social",
        },
    )
    client = OAuthClient(linkedin, client_id="li-client", client_secret="li-secret")

    grant = await client.exchange_code(
        code="code-1", redirect_uri="https://siar.test/cb", code_verifier=None
    )

    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "https://siar.test/cb",
        "client_id": "li-client",
        "client_secret": "li-secret",
    }
    assert grant.access_token.get_secret_value() == "AQV-new"
    assert grant.expires_in_s == 5_184_000
    assert linkedin.oauth is not None
    assert linkedin.oauth.authorize_url == "https://www.linkedin.com/oauth/v2/authorization"


def test_webhook_challenge_and_signature(linkedin: LinkedInConnector) -> None:
    secret = "li-secret"
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
    assert challenge_response(code, secret) == {
        "challengeCode": code,
        "challengeResponse": hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest(),
    }
    body = b'{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"}'
    signature = hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    assert linkedin.verify_webhook({"X-LI-Signature": signature}, body, secret)
    assert linkedin.verify_webhook({"x-li-signature": f"hmacsha256={signature}"}, body, secret)
    assert not linkedin.verify_webhook({"X-LI-Signature": signature}, body + b" ", secret)
    assert not linkedin.verify_webhook({}, body, secret)


@pytest.mark.parametrize(
    ("text", "little"),
    [
        ("plain text, 100% fine!", "plain text, 100% fine!"),
        ("#launch day", "#launch day"),
        ("C# and a#b and # alone", r"C\# and a\#b and \# alone"),
        ("a_b *c* ~d~ <e> {f} |g| \\h", r"a\_b \*c\* \~d\~ \<e\> \{f\} \|g\| \\h"),
        ("@someone [x](y)", r"\@someone \[x\]\(y\)"),
    ],
)
def test_little_text_escapes_reserved_characters(text: str, little: str) -> None:
    assert little_text(text) == little
