"""Pinterest publishing: image, carousel and video Pins with their media sources (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    Credential,
    PermanentError,
    RetryableError,
)
from siar.connectors.pinterest import PinterestConnector
from tests.unit.connectors.pinterest_fakes import (
    ACCOUNT,
    API,
    CREDENTIAL,
    PIN,
    TOKEN,
    b64,
    image,
    post,
    sent,
    video,
)

S3 = "https://pinterest-media-upload.s3-accelerate.amazonaws.com/"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def pinterest() -> AsyncIterator[PinterestConnector]:
    async with httpx.AsyncClient() as http:
        yield PinterestConnector(http, poll_interval_s=0, media_wait_s=5)


# -- publishing ------------------------------------------------------------------------
async def test_image_pin_is_created_with_base64_source(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    route = api.post(f"{API}/pins").respond(201, json=PIN)
    published = await pinterest.publish(
        ACCOUNT,
        CREDENTIAL,
        post(title="Spring", link="https://blog.example/spring", media=[image(alt="A salad")]),
    )
    assert published.network_post_id == "813744226420795884"
    assert published.permalink == "https://www.pinterest.com/pin/813744226420795884/"
    assert published.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent(route) == {
        "board_id": "549755885175",
        "description": "Spring recipes",
        "note": "siar:dlv_1",
        "title": "Spring",
        "link": "https://blog.example/spring",
        "alt_text": "A salad",
        "media_source": {
            "source_type": "image_base64",
            "content_type": "image/jpeg",
            "data": b64(b"\xff\xd8jpeg"),
        },
    }


async def test_image_url_and_carousels(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    route = api.post(f"{API}/pins").respond(201, json=PIN)
    section = CREDENTIAL.model_copy(
        update={"extra": {**CREDENTIAL.extra, "board_section_id": "s1"}}
    )
    await pinterest.publish(
        ACCOUNT, section, post(media=[], media_ids=["https://cdn.example/a.jpg"])
    )
    assert sent(route)["media_source"] == {
        "source_type": "image_url",
        "url": "https://cdn.example/a.jpg",
    }
    assert sent(route)["board_section_id"] == "s1"

    urls = ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]
    await pinterest.publish(ACCOUNT, CREDENTIAL, post(media=[], media_ids=urls))
    assert sent(route)["media_source"] == {
        "source_type": "multiple_image_urls",
        "items": [{"url": urls[0]}, {"url": urls[1]}],
    }

    png = image("image/png", b"\x89PNG")
    await pinterest.publish(ACCOUNT, CREDENTIAL, post(media=[image(), png]))
    assert sent(route)["media_source"] == {
        "source_type": "multiple_image_base64",
        "items": [
            {"content_type": "image/jpeg", "data": b64(b"\xff\xd8jpeg")},
            {"content_type": "image/png", "data": b64(b"\x89PNG")},
        ],
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"media": [image("image/webp")]}, "JPEG or PNG"),
        ({"media": [image()] * 6}, "at most 5"),
        ({"media": [image()], "media_ids": ["https://cdn.example/a.jpg"]}, "not both"),
        ({"media": []}, "needs an image or a video"),
        ({"media": [video(), video()]}, "one video"),
    ],
)
async def test_media_the_api_cannot_take_is_refused_before_any_call(
    api: respx.MockRouter, pinterest: PinterestConnector, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(PermanentError, match=reason):
        await pinterest.publish(ACCOUNT, CREDENTIAL, post(**changes))
    assert not api.calls


async def test_board_is_required(api: respx.MockRouter, pinterest: PinterestConnector) -> None:
    bare = Credential(access_token=SecretStr(TOKEN))
    with pytest.raises(PermanentError, match="board"):
        await pinterest.publish(ACCOUNT, bare, post())
    assert not api.calls


def mock_video_upload(api: respx.MockRouter, statuses: list[str]) -> dict[str, respx.Route]:
    return {
        "register": api.post(f"{API}/media").respond(
            201,
            json={
                "media_id": "12345",
                "media_type": "video",
                "upload_url": S3,
                "upload_parameters": {
                    "x-amz-date": "20240501T000000Z",
                    "x-amz-signature": "sig",
                    "key": "uploads/12345",
                    "policy": "cG9saWN5",
                    "Content-Type": "multipart/form-data",
                },
            },
        ),
        "s3": api.post(S3).respond(204),
        "status": api.get(f"{API}/media/12345").mock(
            side_effect=[
                httpx.Response(200, json={"media_id": "12345", "media_type": "video", "status": s})
                for s in statuses
            ]
        ),
        "pin": api.post(f"{API}/pins").respond(201, json=PIN),
    }


async def test_video_pin_registers_uploads_and_waits_for_the_media(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    routes = mock_video_upload(api, ["registered", "processing", "succeeded"])
    await pinterest.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))

    assert sent(routes["register"]) == {"media_type": "video"}
    upload = routes["s3"].calls.last.request
    assert "authorization" not in upload.headers
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="key"\r\n\r\nuploads/12345' in upload.content
    assert b'name="policy"\r\n\r\ncG9saWN5' in upload.content
    assert b'name="file"; filename="clip.mp4"' in upload.content
    assert b"mp4-bytes" in upload.content
    assert routes["status"].call_count == 3
    assert sent(routes["pin"])["media_source"] == {
        "source_type": "video_id",
        "media_id": "12345",
        "cover_image_key_frame_time": 0,
    }


async def test_video_pin_takes_the_post_image_as_its_cover(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    routes = mock_video_upload(api, ["succeeded"])
    await pinterest.publish(ACCOUNT, CREDENTIAL, post(media=[video(), image()]))
    assert sent(routes["pin"])["media_source"] == {
        "source_type": "video_id",
        "media_id": "12345",
        "cover_image_content_type": "image/jpeg",
        "cover_image_data": b64(b"\xff\xd8jpeg"),
    }


async def test_failed_video_processing_is_permanent(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    routes = mock_video_upload(api, ["processing", "failed"])
    with pytest.raises(PermanentError, match="failed"):
        await pinterest.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))
    assert routes["pin"].call_count == 0


async def test_slow_video_processing_is_retryable(
    api: respx.MockRouter, pinterest: PinterestConnector
) -> None:
    pinterest.media_wait_s = 0
    routes = mock_video_upload(api, ["processing"])
    with pytest.raises(RetryableError, match="still processing"):
        await pinterest.publish(ACCOUNT, CREDENTIAL, post(media=[video()]))
    assert routes["pin"].call_count == 0
