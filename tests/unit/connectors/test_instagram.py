"""Instagram connector publishing against the Instagram Graph API's documented shapes (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    PartiallyPublishedError,
    PermanentError,
    PostFormat,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.instagram import InstagramConnector
from tests.unit.connectors.instagram_fakes import (
    ACCOUNT,
    CREDENTIAL,
    GRAPH,
    IG_USER,
    MEDIA_ID,
    RUPLOAD,
    TOKEN,
    image,
    mock_publish,
    mock_quota,
    post,
    status,
    video,
)
from tests.unit.connectors.meta_fakes import CDN, FakeHost, form, graph_error


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
    with pytest.raises(PartiallyPublishedError, match="Comments are turned off") as caught:
        await ig.publish(ACCOUNT, CREDENTIAL, post(first_comment="hi"))
    assert caught.value.published.network_post_id == MEDIA_ID


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
