"""X connector against the X API v2's documented request and response shapes (respx)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

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
    RateLimitedError,
    RetryableError,
    x_media,
)
from siar.connectors.errors import PartiallyPublishedError
from siar.connectors.x import XConnector
from siar.connectors.x_auth import XOAuthClient, crc_response
from siar.connectors.x_text import fits, strip_urls, weighted_length

API = "https://api.x.com"
TOKEN = "x-user-token-123"
ME = "42"
ACCOUNT = AccountRef(
    workspace_id="ws_1", account_id="acc_1", network="x", handle="siar_demo", network_account_id=ME
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
HTML = "<html><body><h1>Over capacity</h1></body></html>"


def tweet(post_id: str, text: str = "ok") -> dict[str, Any]:
    return {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def image(alt: str | None = None, mime: str = "image/png") -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type=mime,
        filename="chart.png",
        size_bytes=8,
        alt_text=alt,
        content=b"\x89PNGdata",
    )


def video(content: bytes = b"v" * 25) -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=len(content),
        duration_s=12.0,
        content=content,
    )


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def x() -> AsyncIterator[XConnector]:
    async with httpx.AsyncClient() as http:
        yield XConnector(http, poll_cap_s=0)


# -- publishing ------------------------------------------------------------------------
async def test_text_post_is_sent_with_the_users_bearer_token(
    api: respx.MockRouter, x: XConnector
) -> None:
    route = api.post(f"{API}/2/tweets").respond(201, json=tweet("1850", "Hello from Siar"))
    post = OutgoingPost(text="Hello from Siar", marker="dlv_1")

    published = await x.publish(ACCOUNT, CREDENTIAL, post)

    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert body_of(request) == {"text": "Hello from Siar"}
    assert published.network_post_id == "1850"
    assert published.permalink == "https://x.com/siar_demo/status/1850"


async def test_link_is_appended_when_the_text_lacks_it(
    api: respx.MockRouter, x: XConnector
) -> None:
    route = api.post(f"{API}/2/tweets").respond(201, json=tweet("1"))
    await x.publish(
        ACCOUNT, CREDENTIAL, OutgoingPost(text="Read this", marker="m", link="https://siar.dev/a")
    )
    assert body_of(route.calls.last.request) == {"text": "Read this https://siar.dev/a"}


async def test_thread_parts_chain_and_first_comment_replies_to_the_head(
    api: respx.MockRouter, x: XConnector
) -> None:
    route = api.post(f"{API}/2/tweets").mock(
        side_effect=[httpx.Response(201, json=tweet(i)) for i in ("10", "11", "12", "13")]
    )
    post = OutgoingPost(
        text="1/ A thread", marker="m", thread=["2/ more", "3/ end"], first_comment="Sources"
    )

    published = await x.publish(ACCOUNT, CREDENTIAL, post)

    bodies = [body_of(call.request) for call in route.calls]
    assert bodies == [
        {"text": "1/ A thread"},
        {"text": "2/ more", "reply": {"in_reply_to_tweet_id": "10"}},
        {"text": "3/ end", "reply": {"in_reply_to_tweet_id": "11"}},
        {"text": "Sources", "reply": {"in_reply_to_tweet_id": "10"}},
    ]
    assert published.network_post_id == "10"


async def test_a_failed_thread_part_is_permanent_and_keeps_the_heads_receipt(
    api: respx.MockRouter, x: XConnector
) -> None:
    api.post(f"{API}/2/tweets").mock(
        side_effect=[
            httpx.Response(201, json=tweet("10")),
            httpx.Response(503, json={"title": "Service Unavailable", "status": 503}),
        ]
    )
    post = OutgoingPost(text="1/ head", marker="m", thread=["2/ tail"])

    with pytest.raises(PartiallyPublishedError) as caught:
        await x.publish(ACCOUNT, CREDENTIAL, post)

    assert isinstance(caught.value, PermanentError)
    assert caught.value.published.network_post_id == "10"
    assert "part 2" in caught.value.reason
    assert "Service Unavailable" in caught.value.reason


async def test_over_long_text_is_refused_before_any_call(
    api: respx.MockRouter, x: XConnector
) -> None:
    route = api.post(f"{API}/2/tweets").respond(201, json=tweet("1"))
    with pytest.raises(PermanentError, match="part 1 has 281"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="a" * 281, marker="m"))
    assert not route.called


async def test_image_is_uploaded_whole_with_alt_text_then_attached(
    api: respx.MockRouter, x: XConnector
) -> None:
    upload = api.post(f"{API}/2/media/upload").respond(
        200, json={"data": {"id": "710", "media_key": "3_710", "expires_after_secs": 86400}}
    )
    metadata = api.post(f"{API}/2/media/metadata").respond(
        200, json={"data": {"id": "710", "associated_metadata": True}}
    )
    create = api.post(f"{API}/2/tweets").respond(201, json=tweet("1"))
    post = OutgoingPost(text="Chart", marker="m", media=[image(alt="A rising line")])

    await x.publish(ACCOUNT, CREDENTIAL, post)

    sent = upload.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert b'name="media_category"\r\n\r\ntweet_image' in sent.content
    assert b'name="media"; filename="chart.png"' in sent.content
    assert b"\x89PNGdata" in sent.content
    assert body_of(metadata.calls.last.request) == {
        "id": "710",
        "metadata": {"alt_text": {"text": "A rising line"}},
    }
    assert body_of(create.calls.last.request) == {"text": "Chart", "media": {"media_ids": ["710"]}}


async def test_video_goes_through_initialize_append_finalize_and_status(
    api: respx.MockRouter, x: XConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_media, "SEGMENT_BYTES", 10)
    init = api.post(f"{API}/2/media/upload/initialize").respond(
        200, json={"data": {"id": "99", "media_key": "7_99", "expires_after_secs": 1295999}}
    )
    append = api.post(f"{API}/2/media/upload/99/append").respond(
        200, json={"data": {"expires_at": 1_900_000_000}}
    )
    finalize = api.post(f"{API}/2/media/upload/99/finalize").respond(
        200,
        json={
            "data": {
                "id": "99",
                "media_key": "7_99",
                "size": 25,
                "processing_info": {"state": "pending", "check_after_secs": 1},
            }
        },
    )
    status = api.get(f"{API}/2/media/upload").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": {
                        "id": "99",
                        "processing_info": {"state": "in_progress", "progress_percent": 40},
                    }
                },
            ),
            httpx.Response(
                200, json={"data": {"id": "99", "processing_info": {"state": "succeeded"}}}
            ),
        ]
    )
    create = api.post(f"{API}/2/tweets").respond(201, json=tweet("1"))
    content = b"0123456789abcdefghijKLMNO"

    await x.publish(
        ACCOUNT, CREDENTIAL, OutgoingPost(text="Clip", marker="m", media=[video(content)])
    )

    assert body_of(init.calls.last.request) == {
        "media_type": "video/mp4",
        "total_bytes": 25,
        "media_category": "tweet_video",
    }
    segments = [call.request.content for call in append.calls]
    assert len(segments) == 3
    for index, (segment, chunk) in enumerate(
        zip(segments, [b"0123456789", b"abcdefghij", b"KLMNO"], strict=True)
    ):
        assert f'name="segment_index"\r\n\r\n{index}'.encode() in segment
        assert chunk in segment
    assert finalize.called
    assert status.call_count == 2
    assert dict(status.calls.last.request.url.params) == {"command": "STATUS", "media_id": "99"}
    assert body_of(create.calls.last.request)["media"] == {"media_ids": ["99"]}


async def test_failed_video_processing_is_permanent_with_xs_reason(
    api: respx.MockRouter, x: XConnector
) -> None:
    api.post(f"{API}/2/media/upload/initialize").respond(200, json={"data": {"id": "99"}})
    api.post(f"{API}/2/media/upload/99/append").respond(204)
    api.post(f"{API}/2/media/upload/99/finalize").respond(
        200,
        json={
            "data": {
                "id": "99",
                "processing_info": {
                    "state": "failed",
                    "error": {
                        "code": 1,
                        "name": "InvalidMedia",
                        "message": "Unsupported video format",
                    },
                },
            }
        },
    )
    create = api.post(f"{API}/2/tweets").respond(201, json=tweet("1"))

    with pytest.raises(PermanentError, match="Unsupported video format"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="Clip", marker="m", media=[video()]))
    assert not create.called


@pytest.mark.parametrize(
    "media",
    [
        [video(), image()],
        [image(), image(), image(), image(), image()],
        [image(mime="image/heic")],
    ],
)
async def test_media_x_would_refuse_is_refused_before_upload(
    api: respx.MockRouter, x: XConnector, media: list[MediaItem]
) -> None:
    upload = api.post(url__startswith=f"{API}/2/media/upload").respond(
        200, json={"data": {"id": "1"}}
    )
    with pytest.raises(PermanentError):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m", media=media))
    assert not upload.called


# -- finding a lost post ---------------------------------------------------------------
async def test_find_by_marker_matches_text_despite_tco_links_and_entities(
    api: respx.MockRouter, x: XConnector
) -> None:
    route = api.get(f"{API}/2/users/{ME}/tweets").respond(
        200,
        json={
            "data": [
                {"id": "9", "text": "Something else", "created_at": "2026-11-23T10:05:00.000Z"},
                {
                    "id": "8",
                    "text": "Launch day &amp; more https://t.co/abc https://t.co/media",
                    "created_at": "2026-11-23T10:01:00.000Z",
                },
            ],
            "meta": {"result_count": 2, "newest_id": "9", "oldest_id": "8"},
        },
    )
    post = OutgoingPost(text="Launch day & more https://siar.dev/launch", marker="dlv_7")

    found = await x.find_by_marker(
        ACCOUNT, CREDENTIAL, post, datetime(2026, 11, 23, 10, tzinfo=UTC)
    )

    assert found is not None
    assert found.network_post_id == "8"
    assert found.published_at == datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
    params = route.calls.last.request.url.params
    assert params["start_time"] == "2026-11-23T10:00:00Z"
    assert params["exclude"] == "retweets,replies"


async def test_find_by_marker_pages_and_resolves_the_user_when_unknown(
    api: respx.MockRouter, x: XConnector
) -> None:
    me = api.get(f"{API}/2/users/me").respond(
        200, json={"data": {"id": ME, "name": "Siar", "username": "siar_demo"}}
    )
    route = api.get(f"{API}/2/users/{ME}/tweets").mock(
        side_effect=[
            httpx.Response(
                200,
                json={"data": [{"id": "3", "text": "nope"}], "meta": {"next_token": "pg2"}},
            ),
            httpx.Response(200, json={"meta": {"result_count": 0}}),
        ]
    )
    account = ACCOUNT.model_copy(update={"network_account_id": None})

    found = await x.find_by_marker(
        account, CREDENTIAL, OutgoingPost(text="gone", marker="m"), datetime.now(UTC)
    )

    assert found is None
    assert me.called
    assert route.calls.last.request.url.params["pagination_token"] == "pg2"


# -- inbox -----------------------------------------------------------------------------
FOLLOWERS_12 = {"followers_count": 12}
MENTIONS = {
    "data": [
        {
            "id": "302",
            "text": "@siar_demo love it &amp; more",
            "author_id": "7",
            "conversation_id": "300",
            "in_reply_to_user_id": ME,
            "referenced_tweets": [{"type": "replied_to", "id": "300"}],
            "created_at": "2026-11-23T09:00:00.000Z",
        },
        {
            "id": "301",
            "text": "Look at @siar_demo",
            "author_id": "8",
            "conversation_id": "301",
            "created_at": "2026-11-23T08:00:00.000Z",
        },
    ],
    "includes": {
        "users": [
            {
                "id": "7",
                "name": "Ana",
                "username": "ana",
                "public_metrics": {"followers_count": 12},
            },
            {"id": "8", "name": "Bo", "username": "bo", "public_metrics": {"followers_count": 3}},
        ]
    },
    "meta": {"result_count": 2, "newest_id": "302", "oldest_id": "301"},
}
DMS = {
    "data": [
        {
            "id": "502",
            "event_type": "MessageCreate",
            "text": "my reply",
            "sender_id": ME,
            "dm_conversation_id": "7-42",
            "created_at": "2026-11-23T09:30:00.000Z",
        },
        {
            "id": "501",
            "event_type": "MessageCreate",
            "text": "hi there",
            "sender_id": "7",
            "dm_conversation_id": "7-42",
            "created_at": "2026-11-23T08:30:00.000Z",
        },
        {
            "id": "400",
            "event_type": "MessageCreate",
            "text": "old",
            "sender_id": "7",
            "dm_conversation_id": "7-42",
            "created_at": "2026-11-20T08:30:00.000Z",
        },
    ],
    "includes": {"users": [{"id": "7", "name": "Ana", "username": "ana"}]},
    "meta": {"result_count": 3},
}


async def test_fetch_messages_returns_mentions_comments_and_dms_oldest_first(
    api: respx.MockRouter, x: XConnector
) -> None:
    mentions = api.get(f"{API}/2/users/{ME}/mentions").respond(200, json=MENTIONS)
    dms = api.get(f"{API}/2/dm_events").respond(200, json=DMS)

    page = await x.fetch_messages(ACCOUNT, CREDENTIAL, cursor="d:450|m:250")

    assert [(m.kind, m.network_message_id) for m in page.messages] == [
        ("mention", "301"),
        ("dm", "501"),
        ("comment", "302"),
    ]
    comment = page.messages[2]
    assert (comment.author_handle, comment.author_followers) == ("ana", 12)
    assert comment.text == "@siar_demo love it & more"
    assert (comment.network_post_id, comment.parent_network_id) == ("300", "300")
    assert page.messages[1].parent_network_id == "7-42"
    assert page.cursor == "d:502|m:302"
    assert mentions.calls.last.request.url.params["since_id"] == "250"
    assert dms.calls.last.request.url.params["event_types"] == "MessageCreate"


async def test_fetch_messages_with_nothing_new_keeps_the_cursor(
    api: respx.MockRouter, x: XConnector
) -> None:
    api.get(f"{API}/2/users/{ME}/mentions").respond(200, json={"meta": {"result_count": 0}})
    api.get(f"{API}/2/dm_events").respond(200, json={"data": DMS["data"][:1], "meta": {}})

    page = await x.fetch_messages(ACCOUNT, CREDENTIAL, cursor="d:502|m:302")

    assert page.messages == []
    assert page.cursor == "d:502|m:302"


# -- engagement ------------------------------------------------------------------------
async def test_reply_like_repost_hide_delete_and_dm(api: respx.MockRouter, x: XConnector) -> None:
    reply = api.post(f"{API}/2/tweets").respond(201, json=tweet("900"))
    like = api.post(f"{API}/2/users/{ME}/likes").respond(200, json={"data": {"liked": True}})
    repost = api.post(f"{API}/2/users/{ME}/retweets").respond(
        200, json={"data": {"retweeted": True}}
    )
    hide = api.put(f"{API}/2/tweets/302/hidden").respond(200, json={"data": {"hidden": True}})
    delete = api.delete(f"{API}/2/tweets/302").respond(200, json={"data": {"deleted": True}})
    to_person = api.post(f"{API}/2/dm_conversations/with/7/messages").respond(
        201, json={"data": {"dm_conversation_id": "7-42", "dm_event_id": "600"}}
    )
    to_thread = api.post(f"{API}/2/dm_conversations/7-42/messages").respond(
        201, json={"data": {"dm_conversation_id": "7-42", "dm_event_id": "601"}}
    )

    result = await x.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="302", text="Thanks!")
    )
    assert result.network_id == "900"
    assert body_of(reply.calls.last.request) == {
        "text": "Thanks!",
        "reply": {"in_reply_to_tweet_id": "302"},
    }
    for action in ("like", "repost", "hide", "delete"):
        await x.engage(ACCOUNT, CREDENTIAL, Engagement(action=action, target_network_id="302"))
    assert body_of(like.calls.last.request) == {"tweet_id": "302"}
    assert body_of(repost.calls.last.request) == {"tweet_id": "302"}
    assert body_of(hide.calls.last.request) == {"hidden": True}
    assert delete.called
    dm = await x.engage(
        ACCOUNT,
        CREDENTIAL,
        Engagement(action="dm", target_network_id="501", text="Hi", recipient_network_id="7"),
    )
    assert dm.network_id == "600"
    assert body_of(to_person.calls.last.request) == {"text": "Hi"}
    dm = await x.engage(
        ACCOUNT,
        CREDENTIAL,
        Engagement(action="dm", target_network_id="501", text="Hi", recipient_network_id="7-42"),
    )
    assert dm.network_id == "601"
    assert to_thread.called


async def test_reply_without_text_is_refused(x: XConnector) -> None:
    with pytest.raises(PermanentError, match="needs text"):
        await x.engage(ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="1"))


# -- metrics ---------------------------------------------------------------------------
async def test_account_metrics_map_public_metrics(api: respx.MockRouter, x: XConnector) -> None:
    route = api.get(f"{API}/2/users/{ME}").respond(
        200,
        json={
            "data": {
                "id": ME,
                "username": "siar_demo",
                "public_metrics": {
                    "followers_count": 1500,
                    "following_count": 20,
                    "tweet_count": 300,
                    "listed_count": 4,
                    "like_count": 77,
                },
            }
        },
    )

    snapshot = await x.account_metrics(ACCOUNT, CREDENTIAL)

    assert snapshot.metrics == {
        "followers": 1500.0,
        "following": 20.0,
        "posts": 300.0,
        "listed": 4.0,
        "likes": 77.0,
    }
    assert not snapshot.partial
    assert route.calls.last.request.url.params["user.fields"] == "public_metrics"


async def test_post_metrics_are_partial_when_private_metrics_are_gone(
    api: respx.MockRouter, x: XConnector
) -> None:
    public = {
        "retweet_count": 2,
        "reply_count": 3,
        "like_count": 10,
        "quote_count": 1,
        "bookmark_count": 0,
        "impression_count": 500,
    }
    api.get(f"{API}/2/tweets/1850").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": {
                        "id": "1850",
                        "public_metrics": public,
                        "non_public_metrics": {
                            "url_link_clicks": 5,
                            "user_profile_clicks": 2,
                            "engagements": 21,
                        },
                    }
                },
            ),
            httpx.Response(200, json={"data": {"id": "1850", "public_metrics": public}}),
        ]
    )

    fresh = await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")
    old = await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")

    assert fresh.metrics["impressions"] == 500.0
    assert fresh.metrics["link_clicks"] == 5.0
    assert not fresh.partial
    assert old.partial
    assert "link_clicks" not in old.metrics


# -- errors ----------------------------------------------------------------------------
async def test_401_means_the_token_expired(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(
        401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with pytest.raises(AuthExpiredError):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_429_honours_retry_after(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(
        429, headers={"retry-after": "15"}, json={"title": "Too Many Requests", "status": 429}
    )
    with pytest.raises(RateLimitedError) as caught:
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))
    assert caught.value.retry_after_s == 15.0


async def test_429_waits_for_the_window_or_the_daily_cap_reset(
    api: respx.MockRouter, x: XConnector
) -> None:
    now = int(time.time())
    window = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
    api.post(f"{API}/2/tweets").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={**window, "x-rate-limit-reset": str(now + 600)},
                json={"title": "Too Many Requests", "detail": "Too Many Requests"},
            ),
            httpx.Response(
                429,
                headers={
                    **window,
                    "x-rate-limit-reset": str(now + 600),
                    "x-user-limit-24hour-limit": "100",
                    "x-user-limit-24hour-remaining": "0",
                    "x-user-limit-24hour-reset": str(now + 7200),
                },
                json={"title": "Too Many Requests", "detail": "Too Many Requests"},
            ),
        ]
    )
    post = OutgoingPost(text="t", marker="m")
    with pytest.raises(RateLimitedError) as window_error:
        await x.publish(ACCOUNT, CREDENTIAL, post)
    with pytest.raises(RateLimitedError) as daily_error:
        await x.publish(ACCOUNT, CREDENTIAL, post)

    assert window_error.value.retry_after_s == pytest.approx(600, abs=5)
    assert "window of 100 calls" in window_error.value.reason
    assert daily_error.value.retry_after_s == pytest.approx(7200, abs=5)
    assert "daily post cap" in daily_error.value.reason


async def test_5xx_is_retryable(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(
        503, json={"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503}
    )
    with pytest.raises(RetryableError, match="503"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_html_instead_of_json_is_retryable(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").respond(200, text=HTML, headers={"content-type": "text/html"})
    with pytest.raises(RetryableError, match="not JSON"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_200_with_only_errors_is_classified(api: respx.MockRouter, x: XConnector) -> None:
    api.get(f"{API}/2/tweets/1850").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "value": "1850",
                            "detail": "Could not find tweet with id: [1850].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": "1850",
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            ),
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "title": "Usage Capped",
                            "detail": "Usage cap exceeded: Monthly product cap",
                            "type": "https://api.twitter.com/2/problems/usage-capped",
                        }
                    ]
                },
            ),
        ]
    )
    with pytest.raises(PermanentError, match=r"Could not find tweet with id: \[1850\]"):
        await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")
    with pytest.raises(RateLimitedError, match="Monthly product cap"):
        await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")


async def test_validation_and_policy_errors_quote_x(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").mock(
        side_effect=[
            httpx.Response(
                400,
                json={
                    "errors": [
                        {
                            "parameters": {"media.media_ids": ["1"]},
                            "message": "Your media IDs are invalid.",
                        }
                    ],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            ),
            httpx.Response(
                403,
                json={
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
            ),
        ]
    )
    post = OutgoingPost(text="t", marker="m", media_ids=["1"])
    with pytest.raises(PermanentError, match="Your media IDs are invalid"):
        await x.publish(ACCOUNT, CREDENTIAL, post)
    with pytest.raises(PermanentError, match="duplicate content"):
        await x.publish(ACCOUNT, CREDENTIAL, post)


async def test_read_timeout_is_retryable(api: respx.MockRouter, x: XConnector) -> None:
    api.post(f"{API}/2/tweets").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(RetryableError, match="did not answer in time"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_a_slow_answer_hits_the_deadline(api: respx.MockRouter, x: XConnector) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return httpx.Response(201, json=tweet("1"))

    api.post(f"{API}/2/tweets").mock(side_effect=slow)
    x.call_deadline_s = 0.05
    started = time.monotonic()
    with pytest.raises(RetryableError, match="did not answer in time"):
        await x.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="t", marker="m"))
    assert time.monotonic() - started < 0.5


# -- OAuth and webhooks ----------------------------------------------------------------
async def test_oauth_uses_basic_client_auth_and_pkce(api: respx.MockRouter, x: XConnector) -> None:
    route = api.post(f"{API}/2/oauth2/token").respond(
        200,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "new-access",
            "scope": "tweet.read tweet.write users.read offline.access",
            "refresh_token": "new-refresh",
        },
    )
    client = XOAuthClient(x, client_id="client-1", client_secret="s3cret")

    grant = await client.exchange_code(
        code="abc", redirect_uri="https://siar.test/cb", code_verifier="verifier-1"
    )
    await client.refresh("old-refresh")

    first, second = (call.request for call in route.calls)
    expected = "Basic " + base64.b64encode(b"client-1:s3cret").decode()
    assert first.headers["authorization"] == expected
    form = dict(httpx.QueryParams(first.content.decode()))
    assert form == {
        "grant_type": "authorization_code",
        "code": "abc",
        "redirect_uri": "https://siar.test/cb",
        "code_verifier": "verifier-1",
        "client_id": "client-1",
    }
    assert dict(httpx.QueryParams(second.content.decode()))["refresh_token"] == "old-refresh"
    assert grant.access_token.get_secret_value() == "new-access"
    assert grant.refresh_token is not None
    assert grant.expires_in_s == 7200
    assert x.oauth is not None
    assert x.oauth.pkce
    assert x.oauth.authorize_url == "https://x.com/i/oauth2/authorize"


def test_crc_and_webhook_signature(x: XConnector) -> None:
    secret = "consumer-secret"
    digest = hmac.new(secret.encode(), b"challenge", hashlib.sha256).digest()
    assert crc_response("challenge", secret) == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }
    body = b'{"for_user_id":"42","tweet_create_events":[]}'
    signature = (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )
    assert x.verify_webhook({"X-Twitter-Webhooks-Signature": signature}, body, secret)
    assert not x.verify_webhook({"x-twitter-webhooks-signature": signature}, body + b" ", secret)
    assert not x.verify_webhook({}, body, secret)


# -- weighted length -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("こんにちは", 10),  # CJK weighs 2
        ("😀", 2),
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # a ZWJ family is one emoji
        ("👍🏽", 2),  # skin tone modifier
        ("🇯🇵", 2),  # flag
        ("e\u0301", 1),  # NFC first
        ("\u2026", 2),  # … is outside the weight-1 ranges
        ("\u2014", 1),  # — is inside them
        ("see https://example.com/a/very/long/path?with=query.", 28),  # URL counts 23
        ("siar.dev/docs", 23),
        ("e.g. file.txt", 13),
    ],
)
def test_weighted_length(text: str, length: int) -> None:
    assert weighted_length(text) == length


def test_fits_and_strip_urls() -> None:
    assert fits("a" * 280)
    assert not fits("a" * 281)
    assert fits("字" * 140)
    assert not fits("字" * 141)
    assert fits("https://example.com/" + "x" * 400)
    assert not fits("   ")
    assert strip_urls("Go  https://t.co/x now\nhttps://t.co/y") == "Go now"
