"""YouTube publishing: the resumable upload protocol and the video resource (respx)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    Credential,
    PartiallyPublishedError,
    PermanentError,
    PostFormat,
    RetryableError,
)
from siar.connectors.youtube import YouTubeConnector
from siar.connectors.youtube_media import CHUNK_UNIT, UploadSessionExpired, next_offset
from tests.unit.connectors.youtube_fakes import (
    ACCOUNT,
    API,
    CREDENTIAL,
    SIZE,
    TOKEN,
    google_error,
    post,
    video,
)

UPLOAD = "https://www.googleapis.com/upload/youtube/v3/videos"
SESSION = f"{UPLOAD}?uploadType=resumable&upload_id=xa298sd_f"
VIDEO_RESOURCE = {
    "kind": "youtube#video",
    "id": "dQw4w9WgXcQ",
    "snippet": {"publishedAt": "2024-05-01T10:00:00Z", "title": "Launch day"},
    "status": {"uploadStatus": "uploaded", "privacyStatus": "unlisted"},
}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def youtube() -> AsyncIterator[YouTubeConnector]:
    async with httpx.AsyncClient() as http:
        yield YouTubeConnector(http, chunk_size=CHUNK_UNIT, resume_delay_s=0)


def session_route(api: respx.MockRouter) -> respx.Route:
    return api.post(UPLOAD, params={"uploadType": "resumable"}).respond(
        200, headers={"location": SESSION}
    )


def resume_incomplete(last: int | None) -> httpx.Response:
    return httpx.Response(308, headers={"range": f"bytes=0-{last}"} if last is not None else {})


# -- publishing ------------------------------------------------------------------------
async def test_video_is_uploaded_in_resumable_chunks(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    start = session_route(api)
    chunks = api.put(SESSION).mock(
        side_effect=[
            resume_incomplete(CHUNK_UNIT - 1),
            resume_incomplete(2 * CHUNK_UNIT - 1),
            httpx.Response(201, json=VIDEO_RESOURCE),
        ]
    )
    comment = api.post(f"{API}/commentThreads").respond(200, json={"id": "UgxFirst"})

    published = await youtube.publish(ACCOUNT, CREDENTIAL, post(first_comment="Links below"))

    assert published.network_post_id == "dQw4w9WgXcQ"
    assert published.permalink == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert published.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    opening = start.calls.last.request
    assert opening.url.params["part"] == "snippet,status"
    assert opening.headers["authorization"] == f"Bearer {TOKEN}"
    assert opening.headers["x-upload-content-length"] == str(SIZE)
    assert opening.headers["x-upload-content-type"] == "video/mp4"
    assert opening.headers["content-type"] == "application/json; charset=UTF-8"
    assert json.loads(opening.content) == {
        "snippet": {
            "title": "Launch day",
            "description": "Launch day\nWe shipped it. #launch #siar",
            "categoryId": "22",
            "tags": ["launch", "siar"],
        },
        "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False},
    }
    sent = [call.request for call in chunks.calls]
    assert [r.headers["content-range"] for r in sent] == [
        f"bytes 0-{CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{SIZE}",
        f"bytes {2 * CHUNK_UNIT}-{SIZE - 1}/{SIZE}",
    ]
    assert b"".join(r.content for r in sent) == video().content
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in sent)
    assert json.loads(comment.calls.last.request.content) == {
        "snippet": {
            "videoId": "dQw4w9WgXcQ",
            "topLevelComment": {"snippet": {"textOriginal": "Links below"}},
        }
    }
    assert comment.calls.last.request.url.params["part"] == "snippet"


async def test_upload_resumes_from_the_range_the_session_reports(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    session_route(api)
    received = CHUNK_UNIT + 1000  # the session kept part of the failed chunk
    chunks = api.put(SESSION).mock(
        side_effect=[
            resume_incomplete(CHUNK_UNIT - 1),
            httpx.Response(503, json=google_error(503, "backendError", "Backend Error")),
            resume_incomplete(received - 1),
            resume_incomplete(received + CHUNK_UNIT - 1),
            httpx.Response(200, json=VIDEO_RESOURCE),
        ]
    )

    published = await youtube.publish(ACCOUNT, CREDENTIAL, post())

    assert published.network_post_id == "dQw4w9WgXcQ"
    status_query = chunks.calls[2].request
    assert status_query.headers["content-range"] == f"bytes */{SIZE}"
    assert status_query.content == b""
    resumed = chunks.calls[3].request
    assert (
        resumed.headers["content-range"] == f"bytes {received}-{received + CHUNK_UNIT - 1}/{SIZE}"
    )
    assert resumed.content == video().content[received : received + CHUNK_UNIT]


async def test_lost_answer_to_the_last_chunk_is_recovered_from_the_session(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    session_route(api)
    api.put(SESSION).mock(
        side_effect=[
            resume_incomplete(CHUNK_UNIT - 1),
            resume_incomplete(2 * CHUNK_UNIT - 1),
            httpx.ReadTimeout("lost"),
            httpx.Response(201, json=VIDEO_RESOURCE),
        ]
    )
    published = await youtube.publish(ACCOUNT, CREDENTIAL, post())
    assert published.network_post_id == "dQw4w9WgXcQ"


async def test_expired_session_restarts_the_whole_upload(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    session_route(api)
    chunks = api.put(SESSION).respond(404, json=google_error(404, "notFound", "Not Found"))
    with pytest.raises(UploadSessionExpired):
        await youtube.publish(ACCOUNT, CREDENTIAL, post())
    assert chunks.call_count == 1


async def test_upload_gives_up_after_too_many_interruptions(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    youtube.max_resumes = 2
    session_route(api)
    chunks = api.put(SESSION).respond(500, text="<html>error</html>")
    with pytest.raises(RetryableError):
        await youtube.publish(ACCOUNT, CREDENTIAL, post())
    assert chunks.call_count == 3


def test_range_header_gives_the_next_byte() -> None:
    assert next_offset("bytes=0-524287") == 524288
    assert next_offset(None) == 0


async def test_short_gets_a_shorts_permalink_and_first_comment_failure_keeps_the_video(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    session_route(api)
    api.put(SESSION).respond(201, json=VIDEO_RESOURCE)
    api.post(f"{API}/commentThreads").respond(
        403, json=google_error(403, "commentsDisabled", "Comments are disabled")
    )
    short = post(media=[video(1000)], format=PostFormat.REEL, first_comment="hi")
    with pytest.raises(PartiallyPublishedError, match="Comments are disabled") as caught:
        await youtube.publish(ACCOUNT, CREDENTIAL, short)
    assert caught.value.published.permalink == "https://www.youtube.com/shorts/dQw4w9WgXcQ"


async def test_text_is_adapted_and_checked_before_any_call(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    start = session_route(api)
    api.put(SESSION).respond(201, json=VIDEO_RESOURCE)
    await youtube.publish(ACCOUNT, CREDENTIAL, post(text="a <b> c", title="x > y"))
    snippet = json.loads(start.calls.last.request.content)["snippet"]
    assert snippet["title"] == "x \uff1e y"
    assert snippet["description"] == "a \uff1cb\uff1e c"
    start.reset()
    with pytest.raises(PermanentError, match="5000 bytes"):
        await youtube.publish(ACCOUNT, CREDENTIAL, post(text="é" * 2501))
    with pytest.raises(PermanentError, match="exactly one video"):
        await youtube.publish(ACCOUNT, CREDENTIAL, post(media=[]))
    bad_privacy = Credential(access_token=SecretStr(TOKEN), extra={"privacy_status": "friends"})
    with pytest.raises(PermanentError, match="privacy status"):
        await youtube.publish(ACCOUNT, bad_privacy, post())
    assert start.call_count == 0
