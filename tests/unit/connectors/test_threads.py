"""Threads connector against the Threads API's documented shapes (respx)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Credential,
    Engagement,
    MediaItem,
    MediaKind,
    OutgoingPost,
    PermanentError,
    PostFormat,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.threads import ThreadsConnector, ThreadsOAuthClient

API = "https://graph.threads.net/v1.0"
USER = "8901234"
TOKEN = "THQVJ-token"
ROOT = "17890000000000001"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_th",
    network="threads",
    handle="siarbakery",
    network_account_id=USER,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
CDN = "https://cdn.siar.test/media"


class FakeHost:
    """A media host that 'uploads' by remembering the item."""

    def __init__(self) -> None:
        self.items: list[MediaItem] = []

    async def public_url(self, item: MediaItem) -> str:
        self.items.append(item)
        return f"{CDN}/{item.filename}"


def image(name: str = "loaf.png") -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        filename=name,
        size_bytes=3,
        alt_text="A loaf",
        content=b"png",
    )


def video() -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=3,
        content=b"mp4",
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Bread is out", "marker": "dlv_3"}
    fields.update(changes)
    return OutgoingPost(**fields)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, "fbtrace_id": "A1b2"}}


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


def mock_quota(api: respx.MockRouter, used: int = 4) -> respx.Route:
    return api.get(f"{API}/{USER}/threads_publishing_limit").respond(
        200,
        json={
            "data": [
                {
                    "quota_usage": used,
                    "config": {"quota_total": 250, "quota_duration": 86400},
                    "reply_quota_usage": 1,
                    "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                }
            ]
        },
    )


def mock_flow(
    api: respx.MockRouter, containers: list[str], published: list[str]
) -> dict[str, respx.Route]:
    for container in containers:
        api.get(f"{API}/{container}").mock(
            side_effect=[
                httpx.Response(200, json={"status": "IN_PROGRESS", "id": container}),
                httpx.Response(200, json={"status": "FINISHED", "id": container}),
            ]
        )
    return {
        "create": api.post(f"{API}/{USER}/threads").mock(
            side_effect=[httpx.Response(200, json={"id": c}) for c in containers]
        ),
        "publish": api.post(f"{API}/{USER}/threads_publish").mock(
            side_effect=[httpx.Response(200, json={"id": p}) for p in published]
        ),
        "receipt": api.get(f"{API}/{published[0]}").respond(
            200,
            json={
                "id": published[0],
                "permalink": "https://www.threads.net/@siarbakery/post/C1",
                "timestamp": "2024-05-01T10:00:00+0000",
            },
        ),
    }


# -- publishing ----------------------------------------------------------------------------
async def test_text_post_with_link_attachment(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    quota = mock_quota(api)
    routes = mock_flow(api, ["c1"], [ROOT])
    published = await threads.publish(ACCOUNT, CREDENTIAL, post(link="https://siar.test/menu"))
    assert "quota_usage" in quota.calls.last.request.url.params["fields"]
    request = routes["create"].calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "appsecret_proof" not in request.url.params
    assert form(request) == {
        "media_type": "TEXT",
        "text": "Bread is out",
        "link_attachment": "https://siar.test/menu",
    }
    assert form(routes["publish"].calls.last.request) == {"creation_id": "c1"}
    assert published.network_post_id == ROOT
    assert published.permalink == "https://www.threads.net/@siarbakery/post/C1"
    assert published.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


async def test_image_and_video_come_from_the_media_host(
    api: respx.MockRouter, threads: ThreadsConnector, host: FakeHost
) -> None:
    mock_quota(api)
    routes = mock_flow(api, ["c1"], [ROOT])
    await threads.publish(ACCOUNT, CREDENTIAL, post(media=[image()], link="https://siar.test/m"))
    assert form(routes["create"].calls.last.request) == {
        "text": "Bread is out\nhttps://siar.test/m",
        "media_type": "IMAGE",
        "image_url": f"{CDN}/loaf.png",
        "alt_text": "A loaf",
    }
    assert [i.filename for i in host.items] == ["loaf.png"]


async def test_video_post(api: respx.MockRouter, threads: ThreadsConnector) -> None:
    mock_quota(api)
    routes = mock_flow(api, ["c1"], [ROOT])
    await threads.publish(ACCOUNT, CREDENTIAL, post(media=[video()], format=PostFormat.VIDEO))
    sent = form(routes["create"].calls.last.request)
    assert (sent["media_type"], sent["video_url"]) == ("VIDEO", f"{CDN}/clip.mp4")


async def test_carousel_children_then_parent(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    mock_quota(api)
    routes = mock_flow(api, ["k1", "k2", "k3"], [ROOT])
    await threads.publish(ACCOUNT, CREDENTIAL, post(media=[image(), video()]))
    first, second, parent = (form(c.request) for c in routes["create"].calls)
    assert first["is_carousel_item"] == "true"
    assert first["media_type"] == "IMAGE"
    assert second["media_type"] == "VIDEO"
    assert parent == {"media_type": "CAROUSEL", "children": "k1,k2", "text": "Bread is out"}


async def test_thread_parts_and_first_comment_are_chained_replies(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    mock_quota(api)
    routes = mock_flow(api, ["c1", "c2", "c3", "c4"], [ROOT, "r2", "r3", "r4"])
    published = await threads.publish(
        ACCOUNT,
        CREDENTIAL,
        post(
            format=PostFormat.THREAD,
            thread=["Part two", "Part three"],
            first_comment="Menu: siar.test",
        ),
    )
    assert published.network_post_id == ROOT
    _, two, three, comment = (form(c.request) for c in routes["create"].calls)
    assert two == {"media_type": "TEXT", "text": "Part two", "reply_to_id": ROOT}
    assert three == {"media_type": "TEXT", "text": "Part three", "reply_to_id": "r2"}
    assert comment == {"media_type": "TEXT", "text": "Menu: siar.test", "reply_to_id": ROOT}


async def test_failed_reply_keeps_the_published_post(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    mock_quota(api)
    api.get(f"{API}/c1").respond(200, json={"status": "FINISHED"})
    api.post(f"{API}/{USER}/threads").mock(
        side_effect=[
            httpx.Response(200, json={"id": "c1"}),
            httpx.Response(400, json=graph_error(100, "Reply quota exceeded")),
        ]
    )
    api.post(f"{API}/{USER}/threads_publish").respond(200, json={"id": ROOT})
    api.get(f"{API}/{ROOT}").respond(200, json={"id": ROOT})
    published = await threads.publish(ACCOUNT, CREDENTIAL, post(first_comment="later"))
    assert published.network_post_id == ROOT


async def test_exhausted_quota_is_rate_limited(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    mock_quota(api, used=250)
    create = api.post(f"{API}/{USER}/threads")
    with pytest.raises(RateLimitedError, match="250 API posts"):
        await threads.publish(ACCOUNT, CREDENTIAL, post())
    assert not create.called
    quota = await threads.publishing_quota(ACCOUNT, CREDENTIAL)
    assert quota == {"posts": (250, 250), "replies": (1, 1000)}


@pytest.mark.parametrize(
    ("message", "expected"),
    [("FAILED_DOWNLOADING_VIDEO", RetryableError), ("INVALID_DURATION", PermanentError)],
)
async def test_container_errors(
    api: respx.MockRouter, threads: ThreadsConnector, message: str, expected: type[Exception]
) -> None:
    mock_quota(api)
    api.post(f"{API}/{USER}/threads").respond(200, json={"id": "c1"})
    status = api.get(f"{API}/c1").respond(
        200, json={"status": "ERROR", "id": "c1", "error_message": message}
    )
    publish = api.post(f"{API}/{USER}/threads_publish")
    with pytest.raises(expected, match=message) as caught:
        await threads.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))
    assert type(caught.value) is expected
    assert status.calls.last.request.url.params["fields"] == "status,error_message"
    assert not publish.called


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": "  "}, "needs text or media"),
        ({"media": [image()] * 21}, "2 to 20 items"),
        ({"format": PostFormat.STORY}, "does not support story"),
    ],
)
async def test_posts_threads_cannot_take_are_refused(
    api: respx.MockRouter, threads: ThreadsConnector, changes: dict[str, Any], message: str
) -> None:
    mock_quota(api)
    create = api.post(f"{API}/{USER}/threads")
    with pytest.raises(PermanentError, match=message):
        await threads.publish(ACCOUNT, CREDENTIAL, post(**changes))
    assert not create.called


async def test_media_needs_a_media_host(api: respx.MockRouter) -> None:
    mock_quota(api)
    async with httpx.AsyncClient() as http:
        connector = ThreadsConnector(http)
        with pytest.raises(PermanentError, match="no media host"):
            await connector.publish(ACCOUNT, CREDENTIAL, post(media=[image()]))


# -- finding a lost post -------------------------------------------------------------------
async def test_find_by_marker_matches_the_text_since_the_attempt(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    since = datetime(2024, 5, 1, 9, 59, tzinfo=UTC)
    route = api.get(f"{API}/{USER}/threads").respond(
        200,
        json={
            "data": [
                {"id": "9", "text": "Bread is out", "timestamp": "2024-05-01T09:00:00+0000"},
                {
                    "id": ROOT,
                    "text": "Bread is out\nhttps://siar.test/m",
                    "timestamp": "2024-05-01T10:00:00+0000",
                    "permalink": "https://www.threads.net/@siarbakery/post/C1",
                },
            ]
        },
    )
    wanted = post(media=[image()], link="https://siar.test/m")
    found = await threads.find_by_marker(ACCOUNT, CREDENTIAL, wanted, since)
    assert found is not None
    assert found.network_post_id == ROOT
    assert route.calls.last.request.url.params["since"] == str(int(since.timestamp()))
    assert await threads.find_by_marker(ACCOUNT, CREDENTIAL, post(), since) is None


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
