"""Instagram connector against the Instagram Graph API's documented shapes (respx)."""

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
from siar.connectors.instagram import InstagramConnector

GRAPH = "https://graph.facebook.com/v24.0"
RUPLOAD = "https://rupload.facebook.com/ig-api-upload/v24.0"
IG_USER = "17841405822304914"
TOKEN = "EAAG-user-token"
MEDIA_ID = "17920238422030506"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_ig",
    network="instagram",
    handle="siarbakery",
    network_account_id=IG_USER,
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


def image(name: str = "loaf.jpg", alt: str | None = None) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/jpeg",
        filename=name,
        size_bytes=4,
        alt_text=alt,
        content=b"jpeg",
    )


def video(content: bytes = b"mp4-bytes") -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="reel.mp4",
        size_bytes=len(content),
        duration_s=12,
        content=content,
    )


def post(**changes: Any) -> OutgoingPost:
    fields: dict[str, Any] = {"text": "Sourdough day #bread", "marker": "dlv_2", "media": [image()]}
    fields.update(changes)
    return OutgoingPost(**fields)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, "fbtrace_id": "A1b2"}}


def status(code: str, detail: str | None = None) -> httpx.Response:
    body = {"status_code": code, "id": "c"}
    if detail:
        body["status"] = detail
    return httpx.Response(200, json=body)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
async def ig(host: FakeHost) -> AsyncIterator[InstagramConnector]:
    async with httpx.AsyncClient() as http:
        yield InstagramConnector(http, media_host=host, poll_interval_s=0, poll_timeout_s=5)


def mock_quota(api: respx.MockRouter, used: int = 2, total: int = 100) -> respx.Route:
    return api.get(f"{GRAPH}/{IG_USER}/content_publishing_limit").respond(
        200, json={"data": [{"quota_usage": used, "config": {"quota_total": total}}]}
    )


def mock_publish(api: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "publish": api.post(f"{GRAPH}/{IG_USER}/media_publish").respond(200, json={"id": MEDIA_ID}),
        "receipt": api.get(f"{GRAPH}/{MEDIA_ID}").respond(
            200,
            json={
                "id": MEDIA_ID,
                "permalink": "https://www.instagram.com/p/Cx1/",
                "timestamp": "2024-05-01T10:00:00+0000",
            },
        ),
    }


# -- publishing ----------------------------------------------------------------------------
async def test_image_post_is_a_container_fetched_from_the_media_host(
    api: respx.MockRouter, ig: InstagramConnector, host: FakeHost
) -> None:
    quota = mock_quota(api)
    create = api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c1"})
    ready = api.get(f"{GRAPH}/c1").mock(side_effect=[status("IN_PROGRESS"), status("FINISHED")])
    routes = mock_publish(api)
    published = await ig.publish(ACCOUNT, CREDENTIAL, post(media=[image(alt="A loaf")]))
    assert quota.calls.last.request.url.params["fields"] == "quota_usage,config"
    request = create.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert form(request) == {
        "caption": "Sourdough day #bread",
        "image_url": f"{CDN}/loaf.jpg",
        "alt_text": "A loaf",
    }
    assert [i.filename for i in host.items] == ["loaf.jpg"]
    assert ready.call_count == 2
    assert ready.calls.last.request.url.params["fields"] == "status_code,status"
    assert form(routes["publish"].calls.last.request) == {"creation_id": "c1"}
    assert published.network_post_id == MEDIA_ID
    assert published.permalink == "https://www.instagram.com/p/Cx1/"
    assert published.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


async def test_reel_video_bytes_go_to_rupload(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    mock_quota(api)
    create = api.post(f"{GRAPH}/{IG_USER}/media").respond(
        200, json={"id": "c2", "uri": f"{RUPLOAD}/c2"}
    )
    upload = api.post(f"{RUPLOAD}/c2").respond(
        200, json={"success": True, "message": "Upload successful."}
    )
    api.get(f"{GRAPH}/c2").mock(side_effect=[status("IN_PROGRESS"), status("FINISHED")])
    mock_publish(api)
    await ig.publish(ACCOUNT, CREDENTIAL, post(media=[video()], format=PostFormat.REEL))
    assert form(create.calls.last.request) == {
        "caption": "Sourdough day #bread",
        "media_type": "REELS",
        "share_to_feed": "true",
        "upload_type": "resumable",
    }
    sent = upload.calls.last.request
    assert sent.headers["authorization"] == f"OAuth {TOKEN}"
    assert sent.headers["offset"] == "0"
    assert sent.headers["file_size"] == "9"
    assert sent.content == b"mp4-bytes"


async def test_upload_uri_defaults_to_the_documented_rupload_path(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c2"})
    upload = api.post(f"{RUPLOAD}/c2").respond(200, json={"success": True})
    api.get(f"{GRAPH}/c2").mock(return_value=status("FINISHED"))
    mock_publish(api)
    await ig.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))
    assert upload.called


async def test_carousel_children_then_parent(api: respx.MockRouter, ig: InstagramConnector) -> None:
    mock_quota(api)
    create = api.post(f"{GRAPH}/{IG_USER}/media").mock(
        side_effect=[
            httpx.Response(200, json={"id": "k1"}),
            httpx.Response(200, json={"id": "k2", "uri": f"{RUPLOAD}/k2"}),
            httpx.Response(200, json={"id": "k3"}),
        ]
    )
    api.post(f"{RUPLOAD}/k2").respond(200, json={"success": True})
    for container in ("k1", "k2", "k3"):
        api.get(f"{GRAPH}/{container}").mock(return_value=status("FINISHED"))
    routes = mock_publish(api)
    await ig.publish(
        ACCOUNT, CREDENTIAL, post(media=[image(), video()], format=PostFormat.CAROUSEL)
    )
    first, second, parent = (form(c.request) for c in create.calls)
    assert first == {"is_carousel_item": "true", "image_url": f"{CDN}/loaf.jpg"}
    assert second == {"is_carousel_item": "true", "media_type": "VIDEO", "upload_type": "resumable"}
    assert parent == {
        "media_type": "CAROUSEL",
        "children": "k1,k2",
        "caption": "Sourdough day #bread",
    }
    assert form(routes["publish"].calls.last.request) == {"creation_id": "k3"}


async def test_story_and_first_comment(api: respx.MockRouter, ig: InstagramConnector) -> None:
    mock_quota(api)
    create = api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "s1"})
    api.get(f"{GRAPH}/s1").mock(return_value=status("FINISHED"))
    mock_publish(api)
    comments = api.post(f"{GRAPH}/{MEDIA_ID}/comments").respond(200, json={"id": "c9"})
    await ig.publish(
        ACCOUNT, CREDENTIAL, post(format=PostFormat.STORY, first_comment="ignored for stories")
    )
    assert form(create.calls.last.request) == {
        "media_type": "STORIES",
        "image_url": f"{CDN}/loaf.jpg",
    }
    assert not comments.called
    await ig.publish(ACCOUNT, CREDENTIAL, post(first_comment="More at siar.test"))
    assert form(comments.calls.last.request) == {"message": "More at siar.test"}


async def test_failed_first_comment_keeps_the_post(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c1"})
    api.get(f"{GRAPH}/c1").mock(return_value=status("FINISHED"))
    mock_publish(api)
    api.post(f"{GRAPH}/{MEDIA_ID}/comments").respond(
        400, json=graph_error(100, "Comments are turned off")
    )
    published = await ig.publish(ACCOUNT, CREDENTIAL, post(first_comment="hi"))
    assert published.network_post_id == MEDIA_ID


async def test_exhausted_quota_is_rate_limited_before_any_container(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    mock_quota(api, used=100, total=100)
    create = api.post(f"{GRAPH}/{IG_USER}/media")
    with pytest.raises(RateLimitedError, match="100 API posts") as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 3600
    assert not create.called


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("Error: 2207026 unsupported video format", PermanentError),
        ("Error: 2207001 Instagram server error", RetryableError),
    ],
)
async def test_container_errors_are_classified_by_subcode(
    api: respx.MockRouter, ig: InstagramConnector, detail: str, expected: type[Exception]
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c1"})
    api.get(f"{GRAPH}/c1").mock(return_value=status("ERROR", detail))
    publish = api.post(f"{GRAPH}/{IG_USER}/media_publish")
    with pytest.raises(expected, match=detail) as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post())
    assert type(caught.value) is expected
    assert not publish.called


async def test_container_still_processing_after_the_wait_is_retryable(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    ig.poll_timeout_s = 0
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c1"})
    api.get(f"{GRAPH}/c1").mock(return_value=status("IN_PROGRESS"))
    with pytest.raises(RetryableError, match="still processing"):
        await ig.publish(ACCOUNT, CREDENTIAL, post())


async def test_expired_container_is_retryable(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c1"})
    api.get(f"{GRAPH}/c1").mock(return_value=status("EXPIRED"))
    with pytest.raises(RetryableError, match="expired"):
        await ig.publish(ACCOUNT, CREDENTIAL, post())


async def test_unconfirmed_video_upload_is_retryable(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").respond(200, json={"id": "c2"})
    api.post(f"{RUPLOAD}/c2").respond(200, json={"success": False, "message": "partial body"})
    with pytest.raises(RetryableError, match="did not confirm the video upload: partial body"):
        await ig.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"media": []}, "needs an image or a video"),
        ({"format": PostFormat.STORY, "media": [image(), image()]}, "exactly one"),
        ({"format": PostFormat.REEL}, "reel needs a video"),
        ({"media": [image()] * 11}, "2 to 10 items"),
        ({"format": PostFormat.CAROUSEL}, "2 to 10 items"),
    ],
)
async def test_posts_instagram_cannot_take_are_refused(
    api: respx.MockRouter, ig: InstagramConnector, changes: dict[str, Any], message: str
) -> None:
    mock_quota(api)
    create = api.post(f"{GRAPH}/{IG_USER}/media")
    with pytest.raises(PermanentError, match=message):
        await ig.publish(ACCOUNT, CREDENTIAL, post(**changes))
    assert not create.called


async def test_images_need_a_media_host(api: respx.MockRouter) -> None:
    mock_quota(api)
    async with httpx.AsyncClient() as http:
        ig = InstagramConnector(http)
        with pytest.raises(PermanentError, match="no media host is configured"):
            await ig.publish(ACCOUNT, CREDENTIAL, post())


# -- finding a lost post -------------------------------------------------------------------
async def test_find_by_marker_matches_the_caption_since_the_attempt(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    since = datetime(2024, 5, 1, 9, 59, tzinfo=UTC)
    api.get(f"{GRAPH}/{IG_USER}/media").respond(
        200,
        json={
            "data": [
                {
                    "id": "1",
                    "caption": "Sourdough day #bread",
                    "timestamp": "2024-04-30T10:00:00+0000",
                },
                {
                    "id": MEDIA_ID,
                    "caption": "Sourdough day #bread",
                    "timestamp": "2024-05-01T10:00:00+0000",
                    "permalink": "https://www.instagram.com/p/Cx1/",
                },
                {"id": "3", "caption": "Other", "timestamp": "2024-05-01T10:00:00+0000"},
            ]
        },
    )
    found = await ig.find_by_marker(ACCOUNT, CREDENTIAL, post(), since)
    assert found is not None
    assert (found.network_post_id, found.permalink) == (
        MEDIA_ID,
        "https://www.instagram.com/p/Cx1/",
    )
    assert await ig.find_by_marker(ACCOUNT, CREDENTIAL, post(text="Nope"), since) is None


async def test_find_by_marker_for_a_story_takes_the_first_story_since(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    stories = api.get(f"{GRAPH}/{IG_USER}/stories").respond(
        200,
        json={
            "data": [
                {"id": "s2", "timestamp": "2024-05-01T10:05:00+0000"},
                {"id": "s1", "timestamp": "2024-05-01T10:00:00+0000"},
                {"id": "s0", "timestamp": "2024-05-01T08:00:00+0000"},
            ]
        },
    )
    since = datetime(2024, 5, 1, 9, 59, tzinfo=UTC)
    found = await ig.find_by_marker(ACCOUNT, CREDENTIAL, post(format=PostFormat.STORY), since)
    assert found is not None
    assert found.network_post_id == "s1"
    assert stories.called


# -- inbox ---------------------------------------------------------------------------------
async def test_fetch_messages_flattens_comments_and_replies(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    route = api.get(f"{GRAPH}/{IG_USER}/media").respond(
        200,
        json={
            "data": [
                {
                    "id": MEDIA_ID,
                    "comments": {
                        "data": [
                            {
                                "id": "180",
                                "text": "Recipe?",
                                "username": "ana",
                                "timestamp": "2024-05-01T10:02:00+0000",
                                "replies": {
                                    "data": [
                                        {
                                            "id": "181",
                                            "text": "Soon!",
                                            "username": "SiarBakery",
                                            "timestamp": "2024-05-01T10:03:00+0000",
                                        },
                                        {
                                            "id": "182",
                                            "text": "+1",
                                            "username": "ben",
                                            "timestamp": "2024-05-01T10:04:00+0000",
                                        },
                                    ]
                                },
                            }
                        ]
                    },
                },
                {"id": "2"},
            ]
        },
    )
    page = await ig.fetch_messages(ACCOUNT, CREDENTIAL, None)
    assert "replies{" in route.calls.last.request.url.params["fields"]
    assert [(m.network_message_id, m.kind, m.author_handle) for m in page.messages] == [
        ("180", "comment", "ana"),
        ("182", "reply", "ben"),
    ]
    assert page.messages[1].parent_network_id == "180"
    assert page.messages[1].network_post_id == MEDIA_ID
    again = await ig.fetch_messages(ACCOUNT, CREDENTIAL, page.cursor)
    assert again.messages == []


# -- engagement ----------------------------------------------------------------------------
async def test_engagements(api: respx.MockRouter, ig: InstagramConnector) -> None:
    reply = api.post(f"{GRAPH}/180/replies").respond(200, json={"id": "183"})
    hide = api.post(f"{GRAPH}/180").respond(200, json={"success": True})
    delete = api.delete(f"{GRAPH}/180").respond(200, json={"success": True})
    result = await ig.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="180", text="Soon!")
    )
    assert result.network_id == "183"
    assert form(reply.calls.last.request) == {"message": "Soon!"}
    await ig.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="180"))
    assert form(hide.calls.last.request) == {"hide": "true"}
    await ig.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id="180"))
    assert delete.called
    for action in ("like", "repost", "dm"):
        engagement = Engagement.model_validate({"action": action, "target_network_id": "180"})
        with pytest.raises(PermanentError, match=f"does not support {action}"):
            await ig.engage(ACCOUNT, CREDENTIAL, engagement)


# -- metrics -------------------------------------------------------------------------------
async def test_account_metrics(api: respx.MockRouter, ig: InstagramConnector) -> None:
    api.get(f"{GRAPH}/{IG_USER}").respond(
        200, json={"followers_count": 5000, "follows_count": 80, "media_count": 312}
    )
    insights = api.get(f"{GRAPH}/{IG_USER}/insights").respond(
        200,
        json={
            "data": [
                {"name": "reach", "period": "day", "total_value": {"value": 900}},
                {"name": "views", "period": "day", "total_value": {"value": 2500}},
                {"name": "accounts_engaged", "period": "day", "total_value": {"value": 70}},
            ]
        },
    )
    snapshot = await ig.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {
        "followers": 5000,
        "following": 80,
        "posts": 312,
        "reach": 900,
        "views": 2500,
        "engagements": 70,
    }
    assert snapshot.partial  # total_interactions was not returned
    params = insights.calls.last.request.url.params
    assert params["metric_type"] == "total_value"
    assert params["period"] == "day"


async def test_post_metrics_are_partial_when_insights_are_refused(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    api.get(f"{GRAPH}/{MEDIA_ID}").respond(200, json={"like_count": 12, "comments_count": 3})
    api.get(f"{GRAPH}/{MEDIA_ID}/insights").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [
                        {"name": n, "period": "lifetime", "values": [{"value": v}]}
                        for n, v in (
                            ("reach", 40),
                            ("views", 60),
                            ("saved", 2),
                            ("shares", 1),
                            ("total_interactions", 18),
                        )
                    ]
                },
            ),
            httpx.Response(
                400, json=graph_error(100, "(#100) metric not supported for this media")
            ),
        ]
    )
    full = await ig.post_metrics(ACCOUNT, CREDENTIAL, MEDIA_ID)
    assert full.metrics["saves"] == 2
    assert not full.partial
    partial = await ig.post_metrics(ACCOUNT, CREDENTIAL, MEDIA_ID)
    assert partial.metrics == {"likes": 12, "comments": 3}
    assert partial.partial


def test_webhook_signature(ig: InstagramConnector) -> None:
    body = b'{"object":"instagram"}'
    signature = "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert ig.verify_webhook({"X-Hub-Signature-256": signature}, body, "s3")
    assert not ig.verify_webhook({"X-Hub-Signature-256": signature}, b"{}", "s3")


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "expected", "text"),
    [
        (httpx.Response(401, json={"message": "bad token"}), AuthExpiredError, "bad token"),
        (
            httpx.Response(400, json=graph_error(190, "Error validating access token", 460)),
            AuthExpiredError,
            "Error validating access token",
        ),
        (
            httpx.Response(400, json=graph_error(4, "Application request limit reached")),
            RateLimitedError,
            "Application request limit reached",
        ),
        (
            httpx.Response(400, json=graph_error(9, "Daily publishing limit reached", 2207042)),
            RateLimitedError,
            "Daily publishing limit",
        ),
        (httpx.Response(502, text="Bad gateway"), RetryableError, "server error"),
        (httpx.Response(200, text="<!DOCTYPE html><html>"), RetryableError, "not JSON"),
        (
            httpx.Response(200, json=graph_error(-2, "It takes too long to download", 2207003)),
            RetryableError,
            "too long to download",
        ),
        (
            httpx.Response(400, json=graph_error(36000, "The image size is too large.", 2207004)),
            PermanentError,
            "The image size is too large",
        ),
    ],
)
async def test_errors_are_classified(
    api: respx.MockRouter,
    ig: InstagramConnector,
    response: httpx.Response,
    expected: type[Exception],
    text: str,
) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").mock(return_value=response)
    with pytest.raises(expected, match=text) as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post())
    assert type(caught.value) is expected


async def test_429_with_retry_after(api: respx.MockRouter, ig: InstagramConnector) -> None:
    api.get(f"{GRAPH}/{IG_USER}/content_publishing_limit").respond(
        429, headers={"retry-after": "45"}, text="Too Many Requests"
    )
    with pytest.raises(RateLimitedError) as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post())
    assert caught.value.retry_after_s == 45.0


async def test_read_timeout_is_retryable(api: respx.MockRouter, ig: InstagramConnector) -> None:
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetryableError, match="in time"):
        await ig.publish(ACCOUNT, CREDENTIAL, post())


async def test_slow_answer_past_the_deadline_is_retryable(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    async def trickle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={"id": "c1"})

    ig.call_deadline_s = 0.05
    mock_quota(api)
    api.post(f"{GRAPH}/{IG_USER}/media").mock(side_effect=trickle)
    with pytest.raises(RetryableError, match="in time"):
        await ig.publish(ACCOUNT, CREDENTIAL, post())
