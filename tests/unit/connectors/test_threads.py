"""Threads connector publishing against the Threads API's documented shapes (respx)."""

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
from siar.connectors.threads import ThreadsConnector
from tests.unit.connectors.meta_fakes import CDN, FakeHost, form, graph_error
from tests.unit.connectors.threads_fakes import (
    ACCOUNT,
    API,
    CREDENTIAL,
    ROOT,
    TOKEN,
    USER,
    image,
    mock_flow,
    mock_quota,
    post,
    video,
)


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
    with pytest.raises(PartiallyPublishedError, match="Reply quota exceeded") as caught:
        await threads.publish(ACCOUNT, CREDENTIAL, post(first_comment="later"))
    assert caught.value.published.network_post_id == ROOT


async def test_failed_thread_part_is_named_and_stops_what_follows(
    api: respx.MockRouter, threads: ThreadsConnector
) -> None:
    mock_quota(api)
    api.get(f"{API}/c1").respond(200, json={"status": "FINISHED"})
    api.get(f"{API}/c2").respond(200, json={"status": "FINISHED"})
    create = api.post(f"{API}/{USER}/threads").mock(
        side_effect=[
            httpx.Response(200, json={"id": "c1"}),
            httpx.Response(200, json={"id": "c2"}),
            httpx.Response(400, json=graph_error(100, "Reply quota exceeded")),
        ]
    )
    api.post(f"{API}/{USER}/threads_publish").mock(
        side_effect=[httpx.Response(200, json={"id": ROOT}), httpx.Response(200, json={"id": "r2"})]
    )
    api.get(f"{API}/{ROOT}").respond(200, json={"id": ROOT})
    thread = post(format=PostFormat.THREAD, thread=["two", "three"], first_comment="later")
    with pytest.raises(PartiallyPublishedError) as caught:
        await threads.publish(ACCOUNT, CREDENTIAL, thread)
    assert "but not part 3 of 3, nor what follows it" in caught.value.reason
    assert "Reply quota exceeded" in caught.value.reason
    assert caught.value.published.network_post_id == ROOT
    assert create.call_count == 3  # the first comment is not tried after a lost part


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
