"""LinkedIn connector publishing against the documented /rest request/response shapes (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import OutgoingPost, PermanentError
from siar.connectors.errors import PartiallyPublishedError
from siar.connectors.linkedin import API_VERSION, LinkedInConnector
from tests.unit.connectors.linkedin_fakes import (
    API,
    COMMENT,
    CREDENTIAL,
    IMAGE,
    ORG,
    ORG_Q,
    PERSON,
    SHARE,
    SHARE_Q,
    TOKEN,
    VIDEO,
    account,
    body_of,
    created,
    image,
    video,
)


def assert_rest_headers(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["linkedin-version"] == API_VERSION
    assert request.headers["x-restli-protocol-version"] == "2.0.0"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def linkedin() -> AsyncIterator[LinkedInConnector]:
    async with httpx.AsyncClient() as http:
        yield LinkedInConnector(http, poll_interval_s=0)


# -- publishing ------------------------------------------------------------------------
async def test_text_post_is_created_with_escaped_commentary(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    route = api.post(f"{API}/rest/posts").mock(return_value=created())
    post = OutgoingPost(text="Big news (finally) #launch @ 50% off [v2]", marker="dlv_1")

    published = await linkedin.publish(account(), CREDENTIAL, post)

    request = route.calls.last.request
    assert_rest_headers(request)
    assert body_of(request) == {
        "author": ORG,
        "commentary": r"Big news \(finally\) #launch \@ 50% off \[v2\]",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    assert published.network_post_id == SHARE
    assert published.permalink == f"https://www.linkedin.com/feed/update/{SHARE}/"


async def test_member_post_with_a_link_is_an_article(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    route = api.post(f"{API}/rest/posts").mock(return_value=created())
    post = OutgoingPost(
        text="Read this", marker="m", link="https://siar.dev/blog", title="Siar's launch"
    )

    await linkedin.publish(account(PERSON), CREDENTIAL, post)

    sent = body_of(route.calls.last.request)
    assert sent["author"] == PERSON
    assert sent["content"] == {
        "article": {"source": "https://siar.dev/blog", "title": "Siar's launch"}
    }


async def test_image_is_registered_uploaded_and_attached_with_alt_text(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    upload_url = "https://www.linkedin.com/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploaded-image/0"
    init = api.post(f"{API}/rest/images", params={"action": "initializeUpload"}).respond(
        200,
        json={
            "value": {
                "uploadUrlExpiresAt": 1_650_567_510_704,
                "uploadUrl": upload_url,
                "image": IMAGE,
            }
        },
    )
    put = api.put(upload_url).respond(201)
    create = api.post(f"{API}/rest/posts").mock(return_value=created())
    post = OutgoingPost(text="Chart", marker="m", media=[image(alt="A rising line")])

    await linkedin.publish(account(), CREDENTIAL, post)

    assert_rest_headers(init.calls.last.request)
    assert body_of(init.calls.last.request) == {"initializeUploadRequest": {"owner": ORG}}
    assert put.calls.last.request.content == b"\x89PNGbytes"
    assert put.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert body_of(create.calls.last.request)["content"] == {
        "media": {"id": IMAGE, "altText": "A rising line"}
    }


async def test_several_images_make_a_multi_image_post(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/images").mock(
        side_effect=[
            httpx.Response(
                200, json={"value": {"uploadUrl": f"https://up.linkedin.com/{n}", "image": urn}}
            )
            for n, urn in enumerate(["urn:li:image:A", "urn:li:image:B"])
        ]
    )
    api.put(url__startswith="https://up.linkedin.com/").respond(201)
    create = api.post(f"{API}/rest/posts").mock(return_value=created())
    post = OutgoingPost(
        text="Album", marker="m", media=[image("first"), image()], link="https://siar.dev/a_b"
    )

    await linkedin.publish(account(), CREDENTIAL, post)

    assert body_of(create.calls.last.request)["commentary"] == "Album\n\nhttps://siar.dev/a\\_b"

    assert body_of(create.calls.last.request)["content"] == {
        "multiImage": {
            "images": [{"id": "urn:li:image:A", "altText": "first"}, {"id": "urn:li:image:B"}]
        }
    }


async def test_video_parts_are_put_finalized_with_etags_and_awaited(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    part_urls = [f"https://www.linkedin.com/dms-uploads/{VIDEO}/part/{n}" for n in (0, 1)]
    init = api.post(f"{API}/rest/videos", params={"action": "initializeUpload"}).respond(
        200,
        json={
            "value": {
                "uploadUrlsExpireAt": 1_650_567_510_704,
                "video": VIDEO,
                "uploadInstructions": [
                    {"uploadUrl": part_urls[0], "firstByte": 0, "lastByte": 49_999},
                    {"uploadUrl": part_urls[1], "firstByte": 50_000, "lastByte": 79_999},
                ],
                "uploadToken": "",
            }
        },
    )
    parts = [
        api.put(url).respond(200, headers={"etag": f"/etag-{n}"}) for n, url in enumerate(part_urls)
    ]
    finalize = api.post(f"{API}/rest/videos", params={"action": "finalizeUpload"}).respond(200)
    status = api.get(f"{API}/rest/videos/{VIDEO.replace(':', '%3A')}").mock(
        side_effect=[
            httpx.Response(200, json={"id": VIDEO, "status": "PROCESSING"}),
            httpx.Response(200, json={"id": VIDEO, "status": "AVAILABLE", "duration": 20000}),
        ]
    )
    create = api.post(f"{API}/rest/posts").mock(return_value=created())
    clip = video()
    post = OutgoingPost(text="Watch", marker="m", media=[clip], title="Behind the scenes")

    await linkedin.publish(account(), CREDENTIAL, post)

    assert body_of(init.calls.last.request) == {
        "initializeUploadRequest": {
            "owner": ORG,
            "fileSizeBytes": 80_000,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
    }
    assert parts[0].calls.last.request.content == clip.content[:50_000]
    assert parts[1].calls.last.request.content == clip.content[50_000:]
    assert "authorization" not in parts[0].calls.last.request.headers
    assert body_of(finalize.calls.last.request) == {
        "finalizeUploadRequest": {
            "video": VIDEO,
            "uploadToken": "",
            "uploadedPartIds": ["/etag-0", "/etag-1"],
        }
    }
    assert status.call_count == 2
    assert body_of(create.calls.last.request)["content"] == {
        "media": {"id": VIDEO, "title": "Behind the scenes"}
    }


async def test_failed_video_processing_is_permanent(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/videos", params={"action": "initializeUpload"}).respond(
        200,
        json={
            "value": {
                "video": VIDEO,
                "uploadInstructions": [
                    {"uploadUrl": "https://up.linkedin.com/0", "firstByte": 0, "lastByte": 79_999}
                ],
            }
        },
    )
    api.put("https://up.linkedin.com/0").respond(200, headers={"etag": "e0"})
    api.post(f"{API}/rest/videos", params={"action": "finalizeUpload"}).respond(200)
    api.get(url__startswith=f"{API}/rest/videos/").respond(
        200,
        json={"id": VIDEO, "status": "PROCESSING_FAILED", "processingFailureReason": "Bad codec"},
    )
    create = api.post(f"{API}/rest/posts").mock(return_value=created())

    with pytest.raises(PermanentError, match="Bad codec"):
        await linkedin.publish(
            account(), CREDENTIAL, OutgoingPost(text="v", marker="m", media=[video()])
        )
    assert not create.called


async def test_first_comment_is_posted_on_the_new_post(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(return_value=created())
    comment = api.post(f"{API}/rest/socialActions/{SHARE_Q}/comments").respond(
        201, headers={"x-restli-id": COMMENT}, json={"commentUrn": COMMENT}
    )
    post = OutgoingPost(text="Hello", marker="m", first_comment="Link in here")

    await linkedin.publish(account(), CREDENTIAL, post)

    assert_rest_headers(comment.calls.last.request)
    assert body_of(comment.calls.last.request) == {
        "actor": ORG,
        "object": SHARE,
        "message": {"text": "Link in here"},
    }


async def test_a_failed_first_comment_keeps_the_posts_receipt(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(return_value=created())
    api.post(f"{API}/rest/socialActions/{SHARE_Q}/comments").respond(
        500, json={"message": "Internal Server Error", "status": 500}
    )
    post = OutgoingPost(text="Hello", marker="m", first_comment="Link in here")

    with pytest.raises(PartiallyPublishedError) as caught:
        await linkedin.publish(account(), CREDENTIAL, post)

    assert caught.value.published.network_post_id == SHARE
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("who", "post", "reason"),
    [
        (ORG, OutgoingPost(text="x" * 3001, marker="m"), "3000 characters"),
        (ORG, OutgoingPost(text="x", marker="m", media=[video(), image()]), "one video"),
        ("2414183", OutgoingPost(text="x", marker="m"), "author URN"),
    ],
)
async def test_posts_linkedin_would_refuse_are_refused_before_any_call(
    api: respx.MockRouter, linkedin: LinkedInConnector, who: str, post: OutgoingPost, reason: str
) -> None:
    anything = api.route(url__startswith=API).respond(201)
    with pytest.raises(PermanentError, match=reason):
        await linkedin.publish(account(who), CREDENTIAL, post)
    assert not anything.called


# -- finding a lost post ---------------------------------------------------------------
def post_element(urn: str, commentary: str, when: datetime) -> dict[str, Any]:
    ms = int(when.timestamp() * 1000)
    return {
        "id": urn,
        "author": ORG,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "lifecycleState": "PUBLISHED",
        "createdAt": ms,
        "publishedAt": ms,
        "lastModifiedAt": ms,
    }


async def test_find_by_marker_matches_the_commentary_since_the_attempt(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    since = datetime(2026, 11, 23, 10, tzinfo=UTC)
    route = api.get(url__startswith=f"{API}/rest/posts").respond(
        200,
        json={
            "paging": {"start": 0, "count": 50, "links": []},
            "elements": [
                post_element(SHARE, r"Launch \(v2\) #siar", since + timedelta(minutes=2)),
                post_element("urn:li:share:1", r"Launch \(v2\) #siar", since - timedelta(days=3)),
            ],
        },
    )

    found = await linkedin.find_by_marker(
        account(), CREDENTIAL, OutgoingPost(text="Launch (v2) #siar", marker="m"), since
    )

    assert found is not None
    assert found.network_post_id == SHARE
    assert found.published_at == since + timedelta(minutes=2)
    request = route.calls.last.request
    assert_rest_headers(request)
    assert str(request.url) == (f"{API}/rest/posts?author={ORG_Q}&q=author&count=50&sortBy=CREATED")


async def test_find_by_marker_ignores_old_or_different_posts(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    since = datetime(2026, 11, 23, 10, tzinfo=UTC)
    api.get(url__startswith=f"{API}/rest/posts").respond(
        200,
        json={
            "elements": [
                post_element(SHARE, "Something else", since + timedelta(minutes=2)),
                post_element("urn:li:share:1", "Launch", since - timedelta(days=3)),
            ]
        },
    )
    found = await linkedin.find_by_marker(
        account(), CREDENTIAL, OutgoingPost(text="Launch", marker="m"), since
    )
    assert found is None
