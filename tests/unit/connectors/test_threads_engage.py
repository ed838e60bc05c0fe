"""Threads inbox, engagement, metrics, webhooks and OAuth against the Threads API (respx)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import Engagement, PermanentError
from siar.connectors.threads import ThreadsConnector, ThreadsOAuthClient
from tests.unit.connectors.meta_fakes import FakeHost, form
from tests.unit.connectors.threads_fakes import ACCOUNT, API, CREDENTIAL, ROOT, USER


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


# -- inbox ---------------------------------------------------------------------------------
async def test_fetch_messages_reads_each_recent_posts_conversation(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    api.get(f"{API}/{USER}/threads").respond(
        200, json={"data": [{"id": ROOT, "timestamp": "2024-05-01T10:00:00+0000"}]}
    )
    conversation = api.get(f"{API}/{ROOT}/conversation").respond(
        200,
        json={
            "data": [
                {
                    "id": "r3",
                    "text": "Thanks!",
                    "username": "siarbakery",
                    "timestamp": "2024-05-01T10:09:00+0000",
                    "is_reply_owned_by_me": True,
                },
                {
                    "id": "r2",
                    "text": "Gluten free?",
                    "username": "ben",
                    "timestamp": "2024-05-01T10:08:00+0000",
                    "replied_to": {"id": "r1"},
                    "is_reply_owned_by_me": False,
                },
                {
                    "id": "r1",
                    "text": "Yum",
                    "username": "ana",
                    "timestamp": "2024-05-01T10:05:00+0000",
                    "replied_to": {"id": ROOT},
                },
            ]
        },
    )
    page = await threads.fetch_messages(ACCOUNT, CREDENTIAL, None)
    assert [(m.network_message_id, m.author_handle) for m in page.messages] == [
        ("r1", "ana"),
        ("r2", "ben"),
    ]
    assert page.messages[1].parent_network_id == "r1"
    assert "is_reply_owned_by_me" in conversation.calls.last.request.url.params["fields"]
    again = await threads.fetch_messages(ACCOUNT, CREDENTIAL, page.cursor)
    assert again.messages == []


# -- engagement ----------------------------------------------------------------------------
async def test_engagements(api: respx.MockRouter, threads: ThreadsConnector) -> None:
    api.post(f"{API}/{USER}/threads").respond(200, json={"id": "c9"})
    api.get(f"{API}/c9").respond(200, json={"status": "FINISHED"})
    api.post(f"{API}/{USER}/threads_publish").respond(200, json={"id": "r9"})
    hide = api.post(f"{API}/r2/manage_reply").respond(200, json={"success": True})
    delete = api.delete(f"{API}/{ROOT}").respond(200, json={"success": True, "deleted_id": ROOT})
    repost = api.post(f"{API}/555/repost").respond(200, json={"id": "rp1"})
    reply = await threads.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="r2", text="Yes")
    )
    assert reply.network_id == "r9"
    await threads.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="r2"))
    assert form(hide.calls.last.request) == {"hide": "true"}
    await threads.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id=ROOT))
    assert delete.called
    result = await threads.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="repost", target_network_id="555")
    )
    assert result.network_id == "rp1"
    assert repost.called
    with pytest.raises(PermanentError, match="does not support like"):
        await threads.engage(ACCOUNT, CREDENTIAL, Engagement(action="like", target_network_id="1"))


# -- metrics -------------------------------------------------------------------------------
async def test_account_metrics_sum_the_daily_views(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    route = api.get(f"{API}/{USER}/threads_insights").respond(
        200,
        json={
            "data": [
                {"name": "views", "period": "day", "values": [{"value": 10}, {"value": 15}]},
                {"name": "likes", "period": "day", "total_value": {"value": 7}},
                {"name": "replies", "period": "day", "total_value": {"value": 2}},
                {"name": "reposts", "period": "day", "total_value": {"value": 1}},
                {"name": "quotes", "period": "day", "total_value": {"value": 0}},
                {"name": "followers_count", "period": "day", "total_value": {"value": 321}},
            ]
        },
    )
    snapshot = await threads.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {
        "views": 25,
        "likes": 7,
        "replies": 2,
        "reposts": 1,
        "quotes": 0,
        "followers": 321,
    }
    assert not snapshot.partial
    metric = route.calls.last.request.url.params["metric"]
    assert metric == "views,likes,replies,reposts,quotes,followers_count"


async def test_post_metrics_are_partial_when_a_metric_is_missing(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    api.get(f"{API}/{ROOT}/insights").respond(
        200,
        json={
            "data": [
                {"name": "views", "period": "lifetime", "values": [{"value": 300}]},
                {"name": "likes", "period": "lifetime", "values": [{"value": 20}]},
            ]
        },
    )
    snapshot = await threads.post_metrics(ACCOUNT, CREDENTIAL, ROOT)
    assert snapshot.metrics == {"views": 300, "likes": 20}
    assert snapshot.partial


def test_webhook_signature(threads: ThreadsConnector) -> None:
    body = b'{"app_id":"1","topic":"moderate"}'
    signature = "sha256=" + hmac.new(b"th-secret", body, hashlib.sha256).hexdigest()
    assert threads.verify_webhook({"X-Hub-Signature-256": signature}, body, "th-secret")
    assert not threads.verify_webhook({"X-Hub-Signature-256": "sha256=00"}, body, "th-secret")


# -- OAuth ---------------------------------------------------------------------------------
async def test_oauth_code_becomes_a_long_lived_self_refreshing_token(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    code = api.post("https://graph.threads.net/oauth/access_token").respond(
        200, json={"access_token": "short", "user_id": 8901234}
    )
    exchange = api.get("https://graph.threads.net/access_token").respond(
        200, json={"access_token": "long", "token_type": "bearer", "expires_in": 5183944}
    )
    refresh = api.get("https://graph.threads.net/refresh_access_token").respond(
        200, json={"access_token": "longer", "token_type": "bearer", "expires_in": 5184000}
    )
    client = ThreadsOAuthClient(threads, client_id="th-app", client_secret="th-secret")
    grant = await client.exchange_code(
        code="AQ", redirect_uri="https://siar.test/cb", code_verifier=None
    )
    sent = form(code.calls.last.request)
    assert sent["grant_type"] == "authorization_code"
    assert (sent["client_id"], sent["client_secret"], sent["code"]) == ("th-app", "th-secret", "AQ")
    params = exchange.calls.last.request.url.params
    assert (params["grant_type"], params["access_token"]) == ("th_exchange_token", "short")
    assert grant.access_token.get_secret_value() == "long"
    assert grant.refresh_token is not None
    assert grant.refresh_token.get_secret_value() == "long"
    assert grant.expires_in_s == 5183944
    renewed = await client.refresh("long")
    assert refresh.calls.last.request.url.params["grant_type"] == "th_refresh_token"
    assert renewed.access_token.get_secret_value() == "longer"
    config = threads.oauth
    assert config is not None
    assert config.authorize_url == "https://threads.net/oauth/authorize"
    assert "threads_content_publish" in config.scopes
