"""TikTok publishing: creator info, direct-post init, chunked upload, status polling (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    AuthExpiredError,
    MediaItem,
    MediaKind,
    OutgoingPost,
    PermanentError,
    RetryableError,
)
from siar.connectors.tiktok import TikTokConnector
from siar.connectors.tiktok_media import MIN_CHUNK, plan_chunks
from tests.unit.connectors.tiktok_fakes import (
    ACCOUNT,
    API,
    CREATOR,
    CREDENTIAL,
    TOKEN,
    body_of,
    ok,
    video,
    video_post,
)

UPLOAD_URL = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123"
PUBLISH_ID = "v_pub_file~v2-1.123456789"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def tiktok() -> AsyncIterator[TikTokConnector]:
    async with httpx.AsyncClient() as http:
        yield TikTokConnector(http, chunk_size=MIN_CHUNK, poll_interval_s=0, publish_wait_s=5)


def mock_publish_path(api: respx.MockRouter, statuses: list[dict[str, Any]]) -> dict[str, Any]:
    routes = {
        "creator": api.post(f"{API}/v2/post/publish/creator_info/query/").respond(
            200, json=ok(CREATOR)
        ),
        "init": api.post(f"{API}/v2/post/publish/video/init/").respond(
            200, json=ok({"publish_id": PUBLISH_ID, "upload_url": UPLOAD_URL})
        ),
        "upload": api.put(UPLOAD_URL).respond(201),
        "status": api.post(f"{API}/v2/post/publish/status/fetch/").mock(
            side_effect=[httpx.Response(200, json=ok(s)) for s in statuses]
        ),
    }
    return routes


# -- publishing ------------------------------------------------------------------------
async def test_video_is_initialised_uploaded_in_chunks_and_polled(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    size = 2 * MIN_CHUNK + 123_456
    routes = mock_publish_path(
        api,
        [
            {"status": "PROCESSING_UPLOAD", "uploaded_bytes": size},
            {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7212345678901234567]},
        ],
    )
    routes["upload"].mock(side_effect=[httpx.Response(206), httpx.Response(201)])

    published = await tiktok.publish(ACCOUNT, CREDENTIAL, video_post(size))

    assert published.network_post_id == "7212345678901234567"
    assert published.permalink == "https://www.tiktok.com/@siar_demo/video/7212345678901234567"
    init = routes["init"].calls.last.request
    assert init.headers["authorization"] == f"Bearer {TOKEN}"
    assert init.headers["content-type"] == "application/json; charset=UTF-8"
    assert body_of(init) == {
        "post_info": {
            "title": "Behind the scenes #siar",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": False,
            "disable_duet": True,
            "disable_stitch": False,
        },
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": MIN_CHUNK,
            "total_chunk_count": 2,
        },
    }
    first, last = (call.request for call in routes["upload"].calls)
    assert first.headers["content-range"] == f"bytes 0-{MIN_CHUNK - 1}/{size}"
    assert last.headers["content-range"] == f"bytes {MIN_CHUNK}-{size - 1}/{size}"
    assert first.headers["content-type"] == "video/mp4"
    assert "authorization" not in first.headers
    assert len(first.content) == MIN_CHUNK
    assert len(last.content) == size - MIN_CHUNK
    assert first.content + last.content == video_post(size).media[0].content
    assert body_of(routes["status"].calls.last.request) == {"publish_id": PUBLISH_ID}
    assert routes["status"].call_count == 2


def test_chunk_plan_follows_the_media_transfer_rules() -> None:
    assert plan_chunks(1000, MIN_CHUNK).total_chunk_count == 1
    assert plan_chunks(1000, MIN_CHUNK).chunk_size == 1000
    plan = plan_chunks(130 * 1024 * 1024, 200 * 1024 * 1024)  # preferred is capped at 64 MB
    assert plan.chunk_size == 64 * 1024 * 1024
    assert plan.total_chunk_count == 2
    assert plan.ranges()[-1] == (64 * 1024 * 1024, 130 * 1024 * 1024 - 1)
    with pytest.raises(PermanentError):
        plan_chunks(0, MIN_CHUNK)


async def test_small_video_goes_in_one_chunk(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    routes = mock_publish_path(
        api, [{"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [42]}]
    )
    await tiktok.publish(ACCOUNT, CREDENTIAL, video_post(1000))
    assert body_of(routes["init"].calls.last.request)["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 1000,
        "chunk_size": 1000,
        "total_chunk_count": 1,
    }
    assert routes["upload"].calls.last.request.headers["content-range"] == "bytes 0-999/1000"


async def test_photos_are_pulled_from_their_urls(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    api.post(f"{API}/v2/post/publish/creator_info/query/").respond(200, json=ok(CREATOR))
    init = api.post(f"{API}/v2/post/publish/content/init/").respond(
        200, json=ok({"publish_id": "p_pub_url~v2.123"})
    )
    api.post(f"{API}/v2/post/publish/status/fetch/").respond(
        200, json=ok({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [77]})
    )
    urls = ["https://media.siar.example/a.jpg", "https://media.siar.example/b.jpg"]
    post = OutgoingPost(text="Two photos", marker="dlv_2", title="Album", media_ids=urls)

    published = await tiktok.publish(ACCOUNT, CREDENTIAL, post)

    assert published.permalink == "https://www.tiktok.com/@siar_demo/photo/77"
    assert body_of(init.calls.last.request) == {
        "post_info": {
            "title": "Album",
            "description": "Two photos",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": False,
            "auto_add_music": True,
        },
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": urls},
        "post_mode": "DIRECT_POST",
        "media_type": "PHOTO",
    }


async def test_photos_without_urls_are_refused_before_any_call(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    image = MediaItem(kind=MediaKind.IMAGE, mime_type="image/jpeg", size_bytes=3, content=b"abc")
    with pytest.raises(PermanentError, match="verified"):
        await tiktok.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="x", marker="m", media=[image]))
    too_many = [f"https://media.siar.example/{i}.jpg" for i in range(36)]
    with pytest.raises(PermanentError, match="up to 35 photos"):
        await tiktok.publish(
            ACCOUNT, CREDENTIAL, OutgoingPost(text="x", marker="m", media_ids=too_many)
        )
    with pytest.raises(PermanentError, match="needs a video"):
        await tiktok.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="x", marker="m"))
    assert not api.calls


async def test_privacy_level_the_creator_cannot_use_is_refused(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    routes = mock_publish_path(api, [])
    routes["creator"].respond(200, json=ok({**CREATOR, "privacy_level_options": ["SELF_ONLY"]}))
    with pytest.raises(PermanentError, match="allows SELF_ONLY"):
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
    assert routes["init"].call_count == 0


async def test_video_longer_than_the_creator_may_post_is_refused(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    routes = mock_publish_path(api, [])
    post = video_post(media=[video(1000, duration_s=301)])
    with pytest.raises(PermanentError, match="up to 300 s"):
        await tiktok.publish(ACCOUNT, CREDENTIAL, post)
    assert routes["init"].call_count == 0


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("duration_check_failed", PermanentError),
        ("spam_risk_too_many_posts", PermanentError),
        ("internal", RetryableError),
        ("auth_removed", AuthExpiredError),
    ],
)
async def test_failed_publish_status_is_classified(
    api: respx.MockRouter, tiktok: TikTokConnector, reason: str, expected: type[Exception]
) -> None:
    mock_publish_path(api, [{"status": "FAILED", "fail_reason": reason}])
    with pytest.raises(expected, match=reason) as caught:
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
    assert type(caught.value) is expected


async def test_post_still_in_moderation_is_reported_by_publish_id(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    tiktok.publish_wait_s = 0
    mock_publish_path(api, [{"status": "PROCESSING_UPLOAD"}])
    published = await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
    assert published.network_post_id == PUBLISH_ID
    assert published.permalink is None


async def test_errors_after_the_upload_never_ask_for_a_repost(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    routes = mock_publish_path(api, [])
    routes["status"].respond(503)
    published = await tiktok.publish(ACCOUNT, CREDENTIAL, video_post())
    assert published.network_post_id == PUBLISH_ID


async def test_lost_answer_to_the_last_chunk_is_checked_before_failing(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    routes = mock_publish_path(
        api,
        [
            {"status": "PROCESSING_UPLOAD", "uploaded_bytes": 1000},
            {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [5]},
        ],
    )
    routes["upload"].mock(side_effect=httpx.ReadTimeout("lost"))
    published = await tiktok.publish(ACCOUNT, CREDENTIAL, video_post(1000))
    assert published.network_post_id == "5"


async def test_failed_chunk_that_did_not_land_is_retryable(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    routes = mock_publish_path(api, [{"status": "PROCESSING_UPLOAD", "uploaded_bytes": 0}])
    routes["upload"].respond(502, text="<html>bad gateway</html>")
    with pytest.raises(RetryableError):
        await tiktok.publish(ACCOUNT, CREDENTIAL, video_post(1000))


# -- metrics of a post still being published ---------------------------------------
async def test_post_metrics_resolve_a_publish_id_first(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    api.post(f"{API}/v2/post/publish/status/fetch/").respond(
        200, json=ok({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [88]})
    )
    query = api.post(f"{API}/v2/video/query/").respond(
        200,
        json=ok(
            {
                "videos": [
                    {
                        "id": "88",
                        "like_count": 1,
                        "comment_count": 2,
                        "share_count": 3,
                        "view_count": 4,
                    }
                ]
            }
        ),
    )
    snapshot = await tiktok.post_metrics(ACCOUNT, CREDENTIAL, PUBLISH_ID)
    assert snapshot.partial is False
    assert body_of(query.calls.last.request) == {"filters": {"video_ids": ["88"]}}


async def test_post_metrics_of_a_post_in_moderation_are_retryable(
    api: respx.MockRouter, tiktok: TikTokConnector
) -> None:
    api.post(f"{API}/v2/post/publish/status/fetch/").respond(
        200, json=ok({"status": "PROCESSING_DOWNLOAD"})
    )
    with pytest.raises(RetryableError, match="processing"):
        await tiktok.post_metrics(ACCOUNT, CREDENTIAL, PUBLISH_ID)
