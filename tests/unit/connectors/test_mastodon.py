"""Mastodon connector: inbox, engagement, metrics, instance, OAuth and errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    Engagement,
    OutgoingPost,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.mastodon import MastodonConnector
from tests.unit.connectors.mastodon_fakes import (
    ACCOUNT,
    BASE,
    CREDENTIAL,
    TOKEN,
    body_of,
    status,
)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def masto() -> AsyncIterator[MastodonConnector]:
    async with httpx.AsyncClient() as http:
        connector = MastodonConnector(http)
        connector.media_poll_s = 0
        yield connector


# -- inbox -----------------------------------------------------------------------------
def note(nid: str, st: dict[str, Any]) -> dict[str, Any]:
    author = {"id": "77", "acct": "bob@mas.to", "display_name": "Bob", "followers_count": 40}
    return {
        "id": nid,
        "type": "mention",
        "created_at": st["created_at"],
        "account": author,
        "status": st,
    }


async def test_fetch_messages_sorts_mentions_replies_and_dms(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    reply = status(
        "60", "<p>@siar great!</p>", in_reply_to_id="50", in_reply_to_account_id="109302"
    )
    mention = status("61", "<p>cc @siar</p>")
    direct = status("62", "<p>psst</p>", visibility="direct")
    notes = api.get(f"{BASE}/api/v1/notifications").respond(
        200, json=[note("203", direct), note("202", mention), note("201", reply)]
    )
    context = api.get(f"{BASE}/api/v1/statuses/60/context").respond(
        200, json={"ancestors": [status("40"), status("50")], "descendants": []}
    )
    page = await masto.fetch_messages(ACCOUNT, CREDENTIAL, "200")

    params = notes.calls.last.request.url.params
    assert params.get_list("types[]") == ["mention"]
    assert params["min_id"] == "200"
    assert [(m.kind, m.network_message_id) for m in page.messages] == [
        ("comment", "60"),
        ("mention", "61"),
        ("dm", "62"),
    ]
    comment = page.messages[0]
    assert comment.network_post_id == "40"
    assert comment.parent_network_id == "50"
    assert comment.text == "@siar great!"
    assert comment.author_handle == "bob@mas.to"
    assert comment.author_followers == 40
    assert context.call_count == 1
    assert page.cursor == "203"


async def test_no_new_notifications_keep_the_cursor(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    api.get(f"{BASE}/api/v1/notifications").respond(200, json=[])
    page = await masto.fetch_messages(ACCOUNT, CREDENTIAL, "200")
    assert page.messages == []
    assert page.cursor == "200"


# -- engagement ------------------------------------------------------------------------
async def test_reply_mentions_the_author_and_keeps_the_visibility(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    parent = status("60", visibility="unlisted", account={"id": "77", "acct": "bob@mas.to"})
    api.get(f"{BASE}/api/v1/statuses/60").respond(200, json=parent)
    route = api.post(f"{BASE}/api/v1/statuses").respond(200, json=status("70"))
    result = await masto.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="60", text="Thanks!")
    )
    request = route.calls.last.request
    assert body_of(request) == {
        "status": "@bob@mas.to Thanks!",
        "in_reply_to_id": "60",
        "visibility": "unlisted",
    }
    assert len(request.headers["idempotency-key"]) == 64
    assert result.network_id == "70"


async def test_dm_is_a_direct_status_mentioning_the_recipient(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    route = api.post(f"{BASE}/api/v1/statuses").respond(200, json=status("71"))
    dm = Engagement(
        action="dm", target_network_id="", recipient_network_id="@bob@mas.to", text="Hi Bob"
    )
    result = await masto.engage(ACCOUNT, CREDENTIAL, dm)
    assert body_of(route.calls.last.request) == {
        "status": "@bob@mas.to Hi Bob",
        "visibility": "direct",
    }
    assert result.network_id == "71"


@pytest.mark.parametrize(
    ("action", "method", "path", "answer_id"),
    [
        ("like", "POST", "/api/v1/statuses/60/favourite", "60"),
        ("repost", "POST", "/api/v1/statuses/60/reblog", "99"),
        ("delete", "DELETE", "/api/v1/statuses/60", "60"),
    ],
)
async def test_like_repost_and_delete(
    api: respx.MockRouter,
    masto: MastodonConnector,
    action: Any,
    method: str,
    path: str,
    answer_id: str,
) -> None:
    route = api.request(method, f"{BASE}{path}").respond(200, json=status(answer_id))
    result = await masto.engage(
        ACCOUNT, CREDENTIAL, Engagement(action=action, target_network_id="60")
    )
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert result.network_id == answer_id


async def test_hiding_is_not_supported(masto: MastodonConnector) -> None:
    with pytest.raises(PermanentError, match="does not support hide"):
        await masto.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="60"))


# -- metrics, instance, OAuth ----------------------------------------------------------
async def test_post_and_account_metrics(api: respx.MockRouter, masto: MastodonConnector) -> None:
    api.get(f"{BASE}/api/v1/statuses/60").respond(
        200, json=status("60", favourites_count=5, reblogs_count=2, replies_count=1)
    )
    api.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(
        200, json={"id": "109302", "followers_count": 10, "following_count": 4}
    )
    post = await masto.post_metrics(ACCOUNT, CREDENTIAL, "60")
    assert post.metrics == {"likes": 5.0, "reposts": 2.0, "comments": 1.0}
    assert not post.partial
    account = await masto.account_metrics(ACCOUNT, CREDENTIAL)
    assert account.metrics == {"followers": 10.0, "following": 4.0}
    assert account.partial  # statuses_count was missing


async def test_instance_rules_read_the_instances_configuration(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    api.get("https://fosstodon.org/api/v2/instance").respond(
        200,
        json={
            "domain": "fosstodon.org",
            "configuration": {
                "statuses": {"max_characters": 500, "max_media_attachments": 4},
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
                    "image_size_limit": 10485760,
                    "video_size_limit": 41943040,
                },
            },
        },
    )
    rules = await masto.instance_rules("fosstodon.org")
    assert rules.max_text_chars == 500
    assert rules.image is not None
    assert rules.video is not None
    assert rules.image.max_bytes == 10485760
    assert rules.image.mime_types == {"image/jpeg", "image/png"}
    assert rules.video.mime_types == {"video/mp4"}
    assert rules.video.max_bytes == 41943040


async def test_register_app_and_oauth_endpoints_are_per_instance(
    api: respx.MockRouter,
) -> None:
    route = api.post("https://hachyderm.io/api/v1/apps").respond(
        200, json={"client_id": "cid", "client_secret": "csecret", "name": "Siar"}
    )
    async with httpx.AsyncClient() as http:
        masto = MastodonConnector(http, instance="hachyderm.io")
        app = await masto.register_app(
            "hachyderm.io", client_name="Siar", redirect_uri="https://siar.example/cb"
        )
    sent = body_of(route.calls.last.request)
    assert sent["redirect_uris"] == "https://siar.example/cb"
    assert "write:statuses" in sent["scopes"].split()
    assert app["client_id"] == "cid"
    assert masto.oauth is not None
    assert masto.oauth.token_url == "https://hachyderm.io/oauth/token"
    assert masto.oauth.authorize_url == "https://hachyderm.io/oauth/authorize"
    assert not masto.oauth.refreshable


# -- errors ----------------------------------------------------------------------------
def publish_text(masto: MastodonConnector) -> Any:
    return masto.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="Hi", marker="d"))


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(401, json={"error": "The access token is invalid"}),
            AuthExpiredError,
            "The access token is invalid",
        ),
        (
            httpx.Response(422, json={"error": "Validation failed: Text character limit of 500"}),
            PermanentError,
            "Validation failed: Text character limit of 500",
        ),
        (
            httpx.Response(403, json={"error": "This action is outside the authorized scopes"}),
            PermanentError,
            "outside the authorized scopes",
        ),
        (httpx.Response(503, text="<html>Maintenance</html>"), RetryableError, "server error"),
        (httpx.Response(200, text="<!DOCTYPE html><html></html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json={"error": "The access token was revoked"}),
            AuthExpiredError,
            "revoked",
        ),
        (
            httpx.Response(200, json={"error": "Record not found"}),
            PermanentError,
            "Record not found",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    masto: MastodonConnector,
    response: httpx.Response,
    error: type[Exception],
    message: str,
) -> None:
    api.post(f"{BASE}/api/v1/statuses").mock(return_value=response)
    with pytest.raises(error, match=message) as raised:
        await publish_text(masto)
    assert type(raised.value) is error


async def test_rate_limit_reset_is_an_iso_time(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=90)).isoformat().replace("+00:00", "Z")
    api.post(f"{BASE}/api/v1/statuses").respond(
        429,
        json={"error": "Too many requests"},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        },
    )
    with pytest.raises(RateLimitedError, match="Too many requests") as raised:
        await publish_text(masto)
    assert raised.value.retry_after_s is not None
    assert 80 < raised.value.retry_after_s <= 90


async def test_a_read_timeout_is_retryable(api: respx.MockRouter, masto: MastodonConnector) -> None:
    api.post(f"{BASE}/api/v1/statuses").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="did not answer in time"):
        await publish_text(masto)


async def test_a_slow_answer_is_cut_at_the_call_deadline(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json=status())

    api.post(f"{BASE}/api/v1/statuses").mock(side_effect=slow)
    masto.call_deadline_s = 0.05
    with pytest.raises(RetryableError, match="did not answer in time"):
        await publish_text(masto)
