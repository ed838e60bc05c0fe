"""X connector publishing against the X API v2's documented request/response shapes (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from siar.connectors import MediaItem, OutgoingPost, PermanentError, x_media
from siar.connectors.errors import PartiallyPublishedError
from siar.connectors.x import XConnector
from siar.connectors.x_text import fits, strip_urls, weighted_length
from tests.unit.connectors.x_fakes import (
    ACCOUNT,
    API,
    CREDENTIAL,
    ME,
    TOKEN,
    body_of,
    image,
    tweet,
    video,
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


async def test_a_failed_first_comment_is_named_as_such(
    api: respx.MockRouter, x: XConnector
) -> None:
    route = api.post(f"{API}/2/tweets").mock(
        side_effect=[
            httpx.Response(201, json=tweet("10")),
            httpx.Response(201, json=tweet("11")),
            httpx.Response(403, json={"title": "Forbidden", "detail": "Reply not allowed"}),
        ]
    )
    post = OutgoingPost(text="1/ head", marker="m", thread=["2/ tail"], first_comment="menu")

    with pytest.raises(PartiallyPublishedError) as caught:
        await x.publish(ACCOUNT, CREDENTIAL, post)

    assert caught.value.published.network_post_id == "10"
    assert "but not its first comment" in caught.value.reason
    reply_to = body_of(route.calls.last.request)["reply"]["in_reply_to_tweet_id"]
    assert reply_to == "10"  # the comment answers the head, not the last part


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
