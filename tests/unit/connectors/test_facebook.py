"""Facebook Pages connector publishing against the Graph API's documented shapes (respx)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import PartiallyPublishedError, PermanentError, PostFormat, facebook_media
from siar.connectors.facebook import FacebookPagesConnector
from tests.unit.connectors.facebook_fakes import (
    ACCOUNT,
    APP_SECRET,
    CREDENTIAL,
    GRAPH,
    PAGE,
    POST_ID,
    PROOF,
    RECEIPT,
    TOKEN,
    VIDEO,
    image,
    mock_receipt,
    post,
    video,
)
from tests.unit.connectors.meta_fakes import form, graph_error


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def fb() -> AsyncIterator[FacebookPagesConnector]:
    async with httpx.AsyncClient() as http:
        yield FacebookPagesConnector(http, app_secret=APP_SECRET)


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
    # The post is live: the failure carries its receipt, so it is never posted again.
    with pytest.raises(PartiallyPublishedError, match="not its first comment") as caught:
        await fb.publish(ACCOUNT, CREDENTIAL, post(first_comment="again"))
    assert caught.value.published.network_post_id == POST_ID


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
