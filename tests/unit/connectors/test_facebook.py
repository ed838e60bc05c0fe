"""Facebook Pages connector against the Graph API's documented shapes (respx)."""

from __future__ import annotations

import asyncio
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
    facebook_media,
)
from siar.connectors.facebook import FacebookPagesConnector

GRAPH = "https://graph.facebook.com/v24.0"
VIDEO = "https://graph-video.facebook.com/v24.0"
PAGE = "1015"
POST_ID = "1015_777"
TOKEN = "EAAG-page-token"
APP_SECRET = "app-secret"
PROOF = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_1",
    network="facebook",
    handle="siarbakery",
    network_account_id=PAGE,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
RECEIPT = {
    "id": POST_ID,
    "permalink_url": "https://www.facebook.com/1015/posts/777",
    "created_time": "2024-05-01T10:00:00+0000",
}


def image(name: str = "cake.jpg", alt: str | None = None) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/jpeg",
        filename=name,
        size_bytes=9,
        alt_text=alt,
        content=b"\xff\xd8jpeg\xff\xd9",
    )


def video(content: bytes = b"0123456789", mime: str = "video/mp4") -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type=mime,
        filename="clip.mp4",
        size_bytes=len(content),
        content=content,
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Fresh bread at 8", "marker": "dlv_1"}
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
async def fb() -> AsyncIterator[FacebookPagesConnector]:
    async with httpx.AsyncClient() as http:
        yield FacebookPagesConnector(http, app_secret=APP_SECRET)


def mock_receipt(api: respx.MockRouter, post_id: str = POST_ID, **body: Any) -> respx.Route:
    return api.get(f"{GRAPH}/{post_id}").respond(200, json={**RECEIPT, "id": post_id, **body})


# -- publishing --------------------------------------------------------------------------
async def test_text_and_link_post_goes_to_the_feed(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    feed = api.post(f"{GRAPH}/{PAGE}/feed").respond(200, json={"id": POST_ID})
    receipt = mock_receipt(api)
    published = await fb.publish(ACCOUNT, CREDENTIAL, post(link="https://siar.test/bread"))
    request = feed.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.url.params["appsecret_proof"] == PROOF
    assert "access_token" not in request.url.params
    assert form(request) == {"message": "Fresh bread at 8", "link": "https://siar.test/bread"}
    assert receipt.calls.last.request.url.params["fields"] == "permalink_url,created_time"
    assert published.network_post_id == POST_ID
    assert published.permalink == RECEIPT["permalink_url"]
    assert published.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


async def test_one_photo_is_uploaded_as_a_published_photo_post(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    photos = api.post(f"{GRAPH}/{PAGE}/photos").respond(
        200, json={"id": "3001", "post_id": POST_ID}
    )
    mock_receipt(api)
    published = await fb.publish(
        ACCOUNT, CREDENTIAL, post(media=[image(alt="A loaf")], link="https://siar.test/b")
    )
    request = photos.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    body = request.content
    assert b'name="source"; filename="cake.jpg"' in body
    assert b"\xff\xd8jpeg\xff\xd9" in body
    assert b'name="message"\r\n\r\nFresh bread at 8\nhttps://siar.test/b\r\n' in body
    assert b'name="published"\r\n\r\ntrue' in body
    assert b'name="alt_text_custom"\r\n\r\nA loaf' in body
    assert request.url.params["appsecret_proof"] == PROOF
    assert published.network_post_id == POST_ID


async def test_several_photos_are_uploaded_unpublished_and_attached(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    photos = api.post(f"{GRAPH}/{PAGE}/photos").mock(
        side_effect=[
            httpx.Response(200, json={"id": "3001"}),
            httpx.Response(200, json={"id": "3002"}),
        ]
    )
    feed = api.post(f"{GRAPH}/{PAGE}/feed").respond(200, json={"id": POST_ID})
    mock_receipt(api)
    await fb.publish(
        ACCOUNT,
        CREDENTIAL,
        post(media=[image(), image("b.jpg")], format=PostFormat.CAROUSEL, link="https://s.test"),
    )
    assert all(b'name="published"\r\n\r\nfalse' in c.request.content for c in photos.calls)
    sent = form(feed.calls.last.request)
    assert sent["message"] == "Fresh bread at 8\nhttps://s.test"
    assert "link" not in sent  # a link would replace the photos with a link preview
    assert json.loads(sent["attached_media[0]"]) == {"media_fbid": "3001"}
    assert json.loads(sent["attached_media[1]"]) == {"media_fbid": "3002"}


async def test_video_without_app_id_is_sent_whole_to_graph_video(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    videos = api.post(f"{VIDEO}/{PAGE}/videos").respond(200, json={"id": "4001"})
    mock_receipt(api, "4001", permalink_url="/siarbakery/videos/4001/")
    published = await fb.publish(ACCOUNT, CREDENTIAL, post(media=[video()], title="Ovens"))
    body = videos.calls.last.request.content
    assert b'name="source"; filename="clip.mp4"' in body
    assert b"0123456789" in body
    assert b'name="description"\r\n\r\nFresh bread at 8' in body
    assert b'name="title"\r\n\r\nOvens' in body
    assert published.network_post_id == "4001"
    assert published.permalink == "https://www.facebook.com/siarbakery/videos/4001/"


async def test_video_with_app_id_uses_the_resumable_upload_api(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    fb.app_id = "555"
    session = api.post(f"{GRAPH}/555/uploads").respond(200, json={"id": "upload:MTph?sig=ARZ"})
    transfer = api.post(f"{GRAPH}/upload:MTph").respond(200, json={"h": "2:c2FtcGxl:video/mp4"})
    videos = api.post(f"{VIDEO}/{PAGE}/videos").respond(200, json={"id": "4001"})
    mock_receipt(api, "4001")
    await fb.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))
    opened = session.calls.last.request.url.params
    assert (opened["file_name"], opened["file_length"], opened["file_type"]) == (
        "clip.mp4",
        "10",
        "video/mp4",
    )
    sent = transfer.calls.last.request
    assert sent.url.params["sig"] == "ARZ"
    assert sent.url.params["appsecret_proof"] == PROOF
    assert sent.headers["authorization"] == f"OAuth {TOKEN}"
    assert sent.headers["file_offset"] == "0"
    assert sent.content == b"0123456789"
    assert form(videos.calls.last.request) == {
        "description": "Fresh bread at 8",
        "fbuploader_video_file_chunk": "2:c2FtcGxl:video/mp4",
    }


async def test_interrupted_transfer_resumes_from_the_reported_offset(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    fb.app_id = "555"
    api.post(f"{GRAPH}/555/uploads").respond(200, json={"id": "upload:MTph?sig=ARZ"})
    transfer = api.post(f"{GRAPH}/upload:MTph").mock(
        side_effect=[httpx.ReadTimeout("cut"), httpx.Response(200, json={"h": "2:handle"})]
    )
    status = api.get(f"{GRAPH}/upload:MTph").respond(
        200, json={"id": "upload:MTph?sig=ARZ", "file_offset": 4}
    )
    api.post(f"{VIDEO}/{PAGE}/videos").respond(200, json={"id": "4001"})
    mock_receipt(api, "4001")
    await fb.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))
    assert status.calls.last.request.headers["authorization"] == f"OAuth {TOKEN}"
    resumed = transfer.calls.last.request
    assert resumed.headers["file_offset"] == "4"
    assert resumed.content == b"456789"


async def test_first_comment_follows_and_its_failure_keeps_the_post(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.post(f"{GRAPH}/{PAGE}/feed").respond(200, json={"id": POST_ID})
    mock_receipt(api)
    comments = api.post(f"{GRAPH}/{POST_ID}/comments").mock(
        side_effect=[
            httpx.Response(200, json={"id": "777_1"}),
            httpx.Response(500, json=graph_error(2, "Service temporarily unavailable")),
        ]
    )
    await fb.publish(ACCOUNT, CREDENTIAL, post(first_comment="Order at siar.test"))
    assert form(comments.calls.last.request) == {"message": "Order at siar.test"}
    published = await fb.publish(ACCOUNT, CREDENTIAL, post(first_comment="again"))
    assert published.network_post_id == POST_ID


async def test_unreadable_permalink_does_not_fail_a_published_post(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.post(f"{GRAPH}/{PAGE}/feed").respond(200, json={"id": POST_ID})
    api.get(f"{GRAPH}/{POST_ID}").respond(503, text="<html>down</html>")
    published = await fb.publish(ACCOUNT, CREDENTIAL, post())
    assert published.network_post_id == POST_ID
    assert published.permalink is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"media": [image(), video()]}, "photos or one video"),
        ({"media": [video(), video()]}, "photos or one video"),
        ({"text": " "}, "needs text, a link or media"),
        ({"format": PostFormat.STORY}, "does not support story"),
    ],
)
async def test_posts_facebook_cannot_take_are_refused_before_any_call(
    api: respx.MockRouter, fb: FacebookPagesConnector, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(PermanentError, match=message):
        await fb.publish(ACCOUNT, CREDENTIAL, post(**changes))
    assert not api.calls


async def test_a_video_too_big_to_send_whole_needs_resumable_mp4(
    api: respx.MockRouter, fb: FacebookPagesConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facebook_media, "NON_RESUMABLE_MAX", 5)
    fb.app_id = "555"  # resumable, but the Resumable Upload API takes MP4 only
    with pytest.raises(PermanentError, match="resumable upload"):
        await fb.publish(ACCOUNT, CREDENTIAL, post(media=[video(mime="video/quicktime")]))
    assert not api.calls


async def test_unknown_page_id_is_permanent(fb: FacebookPagesConnector) -> None:
    account = ACCOUNT.model_copy(update={"network_account_id": None})
    with pytest.raises(PermanentError, match="reconnect"):
        await fb.publish(account, CREDENTIAL, post())


# -- finding a lost post -------------------------------------------------------------------
async def test_find_by_marker_matches_the_exact_text_since_the_attempt(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    since = datetime(2024, 5, 1, 9, 59, tzinfo=UTC)
    posts = api.get(f"{GRAPH}/{PAGE}/posts").respond(
        200,
        json={
            "data": [
                {
                    "id": "1015_9",
                    "message": "Fresh bread at 8!",
                    "created_time": "2024-05-01T10:01:00+0000",
                },
                {
                    "id": "1015_8",
                    "message": "Fresh bread at 8",
                    "created_time": "2024-05-01T09:00:00+0000",
                },
                {**RECEIPT, "message": "Fresh bread at 8\n"},
            ]
        },
    )
    found = await fb.find_by_marker(ACCOUNT, CREDENTIAL, post(), since)
    assert found is not None
    assert found.network_post_id == POST_ID
    assert found.permalink == RECEIPT["permalink_url"]
    params = posts.calls.last.request.url.params
    assert params["since"] == str(int(since.timestamp()))
    assert "message" in params["fields"]
    assert await fb.find_by_marker(ACCOUNT, CREDENTIAL, post(text="Other"), since) is None


# -- inbox ---------------------------------------------------------------------------------
def comments_page() -> dict[str, Any]:
    return {
        "data": [
            {
                "id": POST_ID,
                "comments": {
                    "data": [
                        {
                            "id": "777_3",
                            "message": "Thanks!",
                            "from": {"id": PAGE, "name": "Siar Bakery"},
                            "created_time": "2024-05-01T10:07:00+0000",
                            "parent": {"id": "777_2"},
                        },
                        {
                            "id": "777_2",
                            "message": "Do you deliver?",
                            "from": {"id": "9001", "name": "Ana"},
                            "created_time": "2024-05-01T10:05:00+0000",
                            "parent": {"id": "777_1"},
                        },
                        {
                            "id": "777_1",
                            "message": "Yum",
                            "created_time": "2024-05-01T10:03:00+0000",
                        },
                    ]
                },
            },
            {"id": "1015_5"},
        ]
    }


async def test_fetch_messages_returns_others_comments_oldest_first_with_a_cursor(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    route = api.get(f"{GRAPH}/{PAGE}/posts").respond(200, json=comments_page())
    page = await fb.fetch_messages(ACCOUNT, CREDENTIAL, None)
    fields = route.calls.last.request.url.params["fields"]
    assert "comments.filter(stream).order(reverse_chronological)" in fields
    assert [m.network_message_id for m in page.messages] == ["777_1", "777_2"]
    first, second = page.messages
    assert (first.author_handle, first.kind, first.network_post_id) == (
        "unknown",
        "comment",
        POST_ID,
    )
    assert (second.author_handle, second.author_name, second.kind) == ("9001", "Ana", "reply")
    assert second.parent_network_id == "777_1"
    assert page.cursor is not None
    again = await fb.fetch_messages(ACCOUNT, CREDENTIAL, page.cursor)
    assert again.messages == []
    assert again.cursor == page.cursor


# -- engagement ----------------------------------------------------------------------------
async def test_engagements_use_the_documented_edges(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    reply = api.post(f"{GRAPH}/777_2/comments").respond(200, json={"id": "777_4"})
    like = api.post(f"{GRAPH}/777_2/likes").respond(200, json={"success": True})
    hide = api.post(f"{GRAPH}/777_2").respond(200, json={"success": True})
    delete = api.delete(f"{GRAPH}/777_2").respond(200, json={"success": True})
    result = await fb.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="777_2", text="Yes!")
    )
    assert result.network_id == "777_4"
    assert form(reply.calls.last.request) == {"message": "Yes!"}
    await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="like", target_network_id="777_2"))
    assert like.called
    await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="777_2"))
    assert form(hide.calls.last.request) == {"is_hidden": "true"}
    await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id="777_2"))
    assert delete.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(PermanentError, match="does not support dm"):
        await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="dm", target_network_id="9001"))
    with pytest.raises(PermanentError, match="needs text"):
        await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="1"))


async def test_hide_answered_with_success_false_is_an_error(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.post(f"{GRAPH}/777_2").respond(200, json={"success": False})
    with pytest.raises(PermanentError):
        await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="777_2"))


# -- metrics -------------------------------------------------------------------------------
async def test_account_metrics_read_followers_and_page_insights(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/{PAGE}").respond(200, json={"followers_count": 1200, "id": PAGE})
    insights = api.get(f"{GRAPH}/{PAGE}/insights").respond(
        200,
        json={
            "data": [
                {
                    "name": "page_media_view",
                    "period": "day",
                    "values": [{"value": 90}, {"value": 120}],
                },
                {
                    "name": "page_total_media_view_unique",
                    "period": "day",
                    "values": [{"value": 80}],
                },
                {"name": "page_post_engagements", "period": "day", "values": [{"value": 14}]},
            ]
        },
    )
    snapshot = await fb.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {"followers": 1200, "views": 120, "reach": 80, "engagements": 14}
    assert not snapshot.partial
    params = insights.calls.last.request.url.params
    assert params["metric"] == "page_media_view,page_total_media_view_unique,page_post_engagements"
    assert params["period"] == "day"


async def test_account_metrics_are_partial_when_insights_are_refused(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/{PAGE}").respond(200, json={"followers_count": 40})
    api.get(f"{GRAPH}/{PAGE}/insights").respond(
        400, json=graph_error(100, "(#100) The value must be a valid insights metric")
    )
    snapshot = await fb.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {"followers": 40}
    assert snapshot.partial


async def test_post_metrics_read_counts_and_post_insights(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    fields = api.get(f"{GRAPH}/{POST_ID}").respond(
        200,
        json={
            "id": POST_ID,
            "reactions": {"data": [], "summary": {"total_count": 31}},
            "comments": {"data": [], "summary": {"total_count": 4}},
        },
    )
    api.get(f"{GRAPH}/{POST_ID}/insights").respond(
        200,
        json={
            "data": [
                {"name": "post_media_view", "period": "lifetime", "values": [{"value": 500}]},
                {
                    "name": "post_total_media_view_unique",
                    "period": "lifetime",
                    "values": [{"value": 410}],
                },
                {"name": "post_clicks", "period": "lifetime", "values": [{"value": 12}]},
            ]
        },
    )
    snapshot = await fb.post_metrics(ACCOUNT, CREDENTIAL, POST_ID)
    assert snapshot.metrics == {
        "likes": 31,
        "comments": 4,
        "shares": 0,
        "views": 500,
        "reach": 410,
        "clicks": 12,
    }
    assert not snapshot.partial
    assert "reactions.summary(total_count)" in fields.calls.last.request.url.params["fields"]


# -- webhooks and pages --------------------------------------------------------------------
def test_webhook_signature(fb: FacebookPagesConnector) -> None:
    body = b'{"object":"page"}'
    signature = "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert fb.verify_webhook({"x-hub-signature-256": signature}, body, "s3")
    assert not fb.verify_webhook({"x-hub-signature-256": signature}, body, "s4")


async def test_managed_pages_hand_out_page_tokens(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/me/accounts").respond(
        200,
        json={
            "data": [
                {
                    "id": PAGE,
                    "name": "Siar Bakery",
                    "username": "siarbakery",
                    "access_token": "EAAP",
                },
                {"id": "1016", "name": "No token"},
            ]
        },
    )
    pages = await fb.managed_pages(CREDENTIAL)
    assert [(p.handle, p.network_account_id) for p in pages] == [("siarbakery", PAGE)]
    assert pages[0].credential.access_token.get_secret_value() == "EAAP"


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
            RetryableError,
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
