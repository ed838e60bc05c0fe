"""Mastodon connector: statuses, media processing and finding posts again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    Credential,
    MediaItem,
    MediaKind,
    OutgoingPost,
    PartiallyPublishedError,
    PermanentError,
    RetryableError,
)
from siar.connectors.mastodon import MastodonConnector
from tests.unit.connectors.mastodon_fakes import (
    ACCOUNT,
    BASE,
    CREDENTIAL,
    NOW,
    TOKEN,
    body_of,
    status,
)


def image(size: int = 100, mime: str = "image/png", alt: str | None = "A sunset") -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type=mime,
        filename="sunset.png",
        size_bytes=size,
        alt_text=alt,
        content=b"\x89PNG" + b"\x00" * (size - 4),
    )


def attachment(mid: str, url: str | None) -> dict[str, Any]:
    return {"id": mid, "type": "image", "url": url, "preview_url": f"{BASE}/p/{mid}.png"}


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


# -- publishing ------------------------------------------------------------------------
async def test_publish_posts_a_status_with_an_idempotency_key(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    route = api.post(f"{BASE}/api/v1/statuses").respond(200, json=status())
    published = await masto.publish(
        ACCOUNT, CREDENTIAL, OutgoingPost(text="Hello #siar", marker="dlv_1")
    )
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["idempotency-key"] == "dlv_1"
    assert body_of(request) == {"status": "Hello #siar", "visibility": "public"}
    assert published.network_post_id == "1133"
    assert published.permalink == f"{BASE}/@siar/1133"
    assert abs(published.published_at - NOW) < timedelta(seconds=1)


async def test_the_instance_comes_from_the_handle_when_the_credential_lacks_it(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    route = api.post("https://hachyderm.io/api/v1/statuses").respond(200, json=status())
    account = ACCOUNT.model_copy(update={"handle": "@siar@hachyderm.io"})
    await masto.publish(
        account, Credential(access_token=SecretStr(TOKEN)), OutgoingPost(text="Hi", marker="d")
    )
    assert route.called


async def test_a_link_missing_from_the_text_is_appended(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    route = api.post(f"{BASE}/api/v1/statuses").respond(200, json=status())
    post = OutgoingPost(text="New post", marker="d", link="https://siar.example/blog")
    await masto.publish(ACCOUNT, CREDENTIAL, post)
    assert body_of(route.calls.last.request)["status"] == "New post\n\nhttps://siar.example/blog"


async def test_images_are_uploaded_then_attached(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    upload = api.post(f"{BASE}/api/v2/media").mock(
        side_effect=[
            httpx.Response(200, json=attachment("22", f"{BASE}/m/22.png")),
            httpx.Response(200, json=attachment("23", f"{BASE}/m/23.png")),
        ]
    )
    post_route = api.post(f"{BASE}/api/v1/statuses").respond(200, json=status())
    post = OutgoingPost(text="Pics", marker="d", media=[image(), image(alt=None)])
    await masto.publish(ACCOUNT, CREDENTIAL, post)

    first = upload.calls[0].request
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="sunset.png"' in first.content
    assert b"Content-Type: image/png" in first.content
    assert b'name="description"\r\n\r\nA sunset' in first.content
    assert b'name="description"' not in upload.calls[1].request.content
    assert body_of(post_route.calls.last.request)["media_ids"] == ["22", "23"]


async def test_a_202_upload_is_polled_until_processed(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    api.post(f"{BASE}/api/v2/media").respond(202, json=attachment("31", None))
    poll = api.get(f"{BASE}/api/v1/media/31").mock(
        side_effect=[
            httpx.Response(206, json=attachment("31", None)),
            httpx.Response(200, json=attachment("31", f"{BASE}/m/31.mp4")),
        ]
    )
    post_route = api.post(f"{BASE}/api/v1/statuses").respond(200, json=status())
    clip = MediaItem(
        kind=MediaKind.VIDEO, mime_type="video/mp4", size_bytes=10, content=b"\x00" * 10
    )
    await masto.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="Clip", marker="d", media=[clip]))
    assert poll.call_count == 2
    assert poll.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert body_of(post_route.calls.last.request)["media_ids"] == ["31"]


async def test_failed_media_processing_is_permanent(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    api.post(f"{BASE}/api/v2/media").respond(202, json=attachment("31", None))
    api.get(f"{BASE}/api/v1/media/31").respond(
        422, json={"error": "Validation failed: File could not be processed"}
    )
    statuses = api.post(f"{BASE}/api/v1/statuses")
    with pytest.raises(PermanentError, match="File could not be processed"):
        await masto.publish(
            ACCOUNT, CREDENTIAL, OutgoingPost(text="x", marker="d", media=[image()])
        )
    assert not statuses.called


async def test_media_still_processing_after_the_wait_is_retryable(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    api.post(f"{BASE}/api/v2/media").respond(202, json=attachment("31", None))
    api.get(f"{BASE}/api/v1/media/31").respond(206, json=attachment("31", None))
    masto.media_wait_s = 0
    with pytest.raises(RetryableError, match="still processing"):
        await masto.publish(
            ACCOUNT, CREDENTIAL, OutgoingPost(text="x", marker="d", media=[image()])
        )


@pytest.mark.parametrize(
    ("media", "message"),
    [
        ([image()] * 5, "at most 4"),
        ([image(mime="image/bmp")], "image/bmp"),
        ([image(size=16 * 1024 * 1024 + 1)], "at most 16777216"),
        (
            [
                image(),
                MediaItem(kind=MediaKind.VIDEO, mime_type="video/mp4", size_bytes=1, content=b"v"),
            ],
            "either one video",
        ),
    ],
)
async def test_invalid_media_are_refused_before_any_call(
    api: respx.MockRouter, masto: MastodonConnector, media: list[MediaItem], message: str
) -> None:
    with pytest.raises(PermanentError, match=message):
        await masto.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="x", marker="d", media=media))
    assert not api.calls


async def test_thread_and_first_comment_are_replies_with_their_own_keys(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    route = api.post(f"{BASE}/api/v1/statuses").mock(
        side_effect=[
            httpx.Response(200, json=status("1")),
            httpx.Response(200, json=status("2")),
            httpx.Response(200, json=status("3")),
            httpx.Response(200, json=status("4")),
        ]
    )
    post = OutgoingPost(text="1/3", marker="dlv", thread=["2/3", "3/3"], first_comment="Sources")
    published = await masto.publish(ACCOUNT, CREDENTIAL, post)

    bodies = [body_of(c.request) for c in route.calls]
    keys = [c.request.headers["idempotency-key"] for c in route.calls]
    assert keys == ["dlv", "dlv:1", "dlv:2", "dlv:comment"]
    assert [b.get("in_reply_to_id") for b in bodies] == [None, "1", "2", "1"]
    assert [b["status"] for b in bodies] == ["1/3", "2/3", "3/3", "Sources"]
    assert published.network_post_id == "1"


async def test_a_refused_thread_part_is_a_partial_publish_a_passing_failure_retries(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    refusal = {"error": "Validation failed: Text character limit of 500 exceeded"}
    route = api.post(f"{BASE}/api/v1/statuses").mock(
        side_effect=[
            httpx.Response(200, json=status("1")),
            httpx.Response(422, json=refusal),
        ]
    )
    post = OutgoingPost(text="1/3", marker="dlv", thread=["2/3", "3/3"], first_comment="Sources")
    with pytest.raises(PartiallyPublishedError, match="part 2 of 3, nor what follows") as err:
        await masto.publish(ACCOUNT, CREDENTIAL, post)
    assert err.value.published.network_post_id == "1"
    assert route.call_count == 2  # neither part 3 nor the first comment

    # A server error is not final: the whole delivery may run again, and the instance
    # answers each replayed Idempotency-Key with the status it already made.
    route.side_effect = [
        httpx.Response(200, json=status("1")),
        *[httpx.Response(503) for _ in range(5)],
    ]
    with pytest.raises(RetryableError) as passing:
        await masto.publish(ACCOUNT, CREDENTIAL, post)
    assert not isinstance(passing.value, PartiallyPublishedError)


# -- finding a post again --------------------------------------------------------------
LINK_HTML = (
    '<p>Launch day! <a href="https://siar.example/launch/announcement" rel="nofollow">'
    '<span class="invisible">https://</span><span class="ellipsis">siar.example/launch/an'
    '</span><span class="invisible">nouncement</span></a> thanks <span class="h-card">'
    '<a href="https://mas.to/@bob" class="u-url mention">@<span>bob</span></a></span></p>'
    "<p>Second &amp; last line</p>"
)


async def test_find_by_marker_matches_the_text_rendered_as_html(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    route = api.get(f"{BASE}/api/v1/accounts/109302/statuses").mock(
        side_effect=[
            httpx.Response(200, json=[status("9", "<p>Other</p>")]),
            httpx.Response(
                200,
                json=[
                    status("8", LINK_HTML, in_reply_to_id="5"),
                    status("7", LINK_HTML),
                ],
            ),
        ]
    )
    post = OutgoingPost(
        text="Launch day! https://siar.example/launch/announcement thanks @bob@mas.to\n\n"
        "Second & last line",
        marker="dlv",
    )
    found = await masto.find_by_marker(ACCOUNT, CREDENTIAL, post, NOW - timedelta(minutes=5))

    assert found is not None
    assert found.network_post_id == "7"
    first, second = (c.request.url.params for c in route.calls)
    assert first["exclude_reblogs"] == "true"
    assert "max_id" not in first
    assert second["max_id"] == "9"


async def test_find_by_marker_gives_up_at_statuses_older_than_since(
    api: respx.MockRouter, masto: MastodonConnector
) -> None:
    me = api.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(
        200, json={"id": "109302", "acct": "siar"}
    )
    old = status("5", "<p>Hello</p>", created_at="2020-01-01T00:00:00.000Z")
    route = api.get(f"{BASE}/api/v1/accounts/109302/statuses").respond(200, json=[old])
    account = ACCOUNT.model_copy(update={"network_account_id": None})
    post = OutgoingPost(text="Hello", marker="dlv")
    assert await masto.find_by_marker(account, CREDENTIAL, post, NOW - timedelta(hours=1)) is None
    assert me.called
    assert route.call_count == 1
