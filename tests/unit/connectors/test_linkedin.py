"""LinkedIn connector against the documented /rest request and response shapes (respx)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
    RateLimitedError,
    RetryableError,
)
from siar.connectors.errors import PartiallyPublishedError
from siar.connectors.http import OAuthClient
from siar.connectors.linkedin import (
    API_VERSION,
    LinkedInConnector,
    challenge_response,
    little_text,
)

API = "https://api.linkedin.com"
TOKEN = "AQV-linkedin-token"
ORG = "urn:li:organization:2414183"
ORG_Q = "urn%3Ali%3Aorganization%3A2414183"
PERSON = "urn:li:person:8675309"
SHARE = "urn:li:share:6844785523593134080"
SHARE_Q = "urn%3Ali%3Ashare%3A6844785523593134080"
IMAGE = "urn:li:image:C4E10AQFoyyAjHPMQuQ"
VIDEO = "urn:li:video:C5F10AQGKQg_6y2a4sQ"
COMMENT = "urn:li:comment:(urn:li:activity:6844785523593134080,6844790000000000000)"
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))
HTML = "<html><body>Bad gateway</body></html>"


def account(author: str | None = ORG) -> AccountRef:
    return AccountRef(
        workspace_id="ws_1",
        account_id="acc_1",
        network="linkedin",
        handle="siar",
        network_account_id=author,
    )


def created(urn: str = SHARE) -> httpx.Response:
    return httpx.Response(201, headers={"x-restli-id": urn})


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def image(alt: str | None = None) -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        filename="chart.png",
        size_bytes=9,
        alt_text=alt,
        content=b"\x89PNGbytes",
    )


def video(size: int = 80_000) -> MediaItem:
    return MediaItem(
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        filename="clip.mp4",
        size_bytes=size,
        duration_s=20.0,
        content=bytes(range(256)) * (size // 256) + b"\x00" * (size % 256),
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


async def test_duplicate_and_invalid_posts_quote_linkedin(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(
        side_effect=[
            httpx.Response(
                422,
                json={
                    "message": f"Content is a duplicate of {SHARE}",
                    "status": 422,
                },
            ),
            httpx.Response(
                422,
                json={
                    "status": 422,
                    "code": "UNPROCESSABLE_ENTITY",
                    "message": "Field Value validation failed in REQUEST_BODY",
                    "errorDetails": {
                        "inputErrors": [
                            {
                                "description": "Commentary exceeds the maximum length",
                                "input": {"inputPath": {"fieldPath": "/commentary"}},
                                "code": "FIELD_VALUE_TOO_LONG",
                            }
                        ]
                    },
                },
            ),
        ]
    )
    post = OutgoingPost(text="Same again", marker="m")
    with pytest.raises(PermanentError, match="Content is a duplicate of urn:li:share"):
        await linkedin.publish(account(), CREDENTIAL, post)
    with pytest.raises(PermanentError, match="Commentary exceeds the maximum length"):
        await linkedin.publish(account(), CREDENTIAL, post)


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


# -- inbox -----------------------------------------------------------------------------
def comment_element(post: str, cid: str, actor: str, text: str, ms: int) -> dict[str, Any]:
    activity = post.replace("share", "activity")
    return {
        "actor": actor,
        "commentUrn": f"urn:li:comment:({activity},{cid})",
        "created": {"actor": actor, "time": ms},
        "id": cid,
        "message": {"text": text},
        "object": activity,
    }


async def test_fetch_messages_collects_others_comments_newer_than_the_cursor(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    second = "urn:li:share:2"
    api.get(url__startswith=f"{API}/rest/posts").respond(
        200, json={"elements": [{"id": SHARE}, {"id": second}]}
    )
    first_comments = api.get(f"{API}/rest/socialActions/{SHARE_Q}/comments").respond(
        200,
        json={
            "paging": {"start": 0, "count": 100, "total": 3},
            "elements": [
                comment_element(SHARE, "30", "urn:li:person:ana", "Great!", 3_000),
                comment_element(SHARE, "20", ORG, "Thanks", 2_500),
                comment_element(SHARE, "10", "urn:li:person:bo", "seen", 1_000),
            ],
        },
    )
    api.get(f"{API}/rest/socialActions/urn%3Ali%3Ashare%3A2/comments").respond(
        200, json={"elements": [comment_element(second, "40", "urn:li:person:cy", "Hi", 2_000)]}
    )
    cursor = "1000|urn:li:comment:(urn:li:activity:6844785523593134080,10)"

    page = await linkedin.fetch_messages(account(), CREDENTIAL, cursor)

    assert [m.text for m in page.messages] == ["Hi", "Great!"]
    great = page.messages[1]
    assert great.author_handle == "urn:li:person:ana"
    assert great.network_post_id == SHARE
    assert great.sent_at == datetime.fromtimestamp(3, UTC)
    assert page.cursor == "3000|urn:li:comment:(urn:li:activity:6844785523593134080,30)"
    assert first_comments.calls.last.request.url.params["count"] == "100"


# -- engagement ------------------------------------------------------------------------
async def test_replies_to_posts_and_to_comments(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    on_post = api.post(f"{API}/rest/socialActions/{SHARE_Q}/comments").respond(
        201, headers={"x-restli-id": "urn:li:comment:(urn:li:activity:1,2)"}
    )
    encoded = COMMENT.replace(":", "%3A").replace("(", "%28").replace(")", "%29")
    on_comment = api.post(
        f"{API}/rest/socialActions/{encoded.replace(',', '%2C')}/comments"
    ).respond(201, json={"commentUrn": "urn:li:comment:(urn:li:activity:1,3)"})

    first = await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="reply", target_network_id=SHARE, text="Yes")
    )
    second = await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="reply", target_network_id=COMMENT, text="No")
    )

    assert first.network_id == "urn:li:comment:(urn:li:activity:1,2)"
    assert second.network_id == "urn:li:comment:(urn:li:activity:1,3)"
    assert body_of(on_post.calls.last.request)["object"] == SHARE
    assert body_of(on_comment.calls.last.request) == {
        "actor": ORG,
        "object": "urn:li:activity:6844785523593134080",
        "message": {"text": "No"},
        "parentComment": COMMENT,
    }


async def test_like_repost_and_delete(api: respx.MockRouter, linkedin: LinkedInConnector) -> None:
    like = api.post(f"{API}/rest/reactions", params={"actor": ORG}).respond(201)
    repost = api.post(f"{API}/rest/posts").mock(return_value=created("urn:li:share:99"))
    delete_post = api.delete(f"{API}/rest/posts/{SHARE_Q}").respond(204)
    delete_comment = api.delete(
        url__startswith=f"{API}/rest/socialActions/urn%3Ali%3Aactivity%3A6844785523593134080"
    ).respond(204)

    await linkedin.engage(account(), CREDENTIAL, Engagement(action="like", target_network_id=SHARE))
    shared = await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="repost", target_network_id=SHARE)
    )
    await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="delete", target_network_id=SHARE)
    )
    await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="delete", target_network_id=COMMENT)
    )

    assert str(like.calls.last.request.url) == f"{API}/rest/reactions?actor={ORG_Q}"
    assert body_of(like.calls.last.request) == {"root": SHARE, "reactionType": "LIKE"}
    assert shared.network_id == "urn:li:share:99"
    assert body_of(repost.calls.last.request)["reshareContext"] == {"parent": SHARE}
    assert delete_post.called
    assert str(delete_comment.calls.last.request.url) == (
        f"{API}/rest/socialActions/urn%3Ali%3Aactivity%3A6844785523593134080"
        f"/comments/6844790000000000000?actor={ORG_Q}"
    )


@pytest.mark.parametrize("action", ["dm", "hide"])
async def test_dm_and_hide_are_not_offered(linkedin: LinkedInConnector, action: Any) -> None:
    with pytest.raises(PermanentError, match="LinkedIn does not support"):
        await linkedin.engage(
            account(), CREDENTIAL, Engagement(action=action, target_network_id=SHARE, text="x")
        )


# -- metrics ---------------------------------------------------------------------------
TOTALS = {
    "uniqueImpressionsCount": 900,
    "shareCount": 4,
    "engagement": 0.05,
    "clickCount": 30,
    "likeCount": 25,
    "impressionCount": 1200,
    "commentCount": 6,
}


async def test_organization_account_metrics(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    size = api.get(f"{API}/rest/networkSizes/{ORG_Q}").respond(200, json={"firstDegreeSize": 5400})
    stats = api.get(url__startswith=f"{API}/rest/organizationalEntityShareStatistics").respond(
        200,
        json={
            "paging": {"start": 0, "count": 10},
            "elements": [{"totalShareStatistics": TOTALS, "organizationalEntity": ORG}],
        },
    )

    snapshot = await linkedin.account_metrics(account(), CREDENTIAL)

    assert snapshot.metrics == {
        "followers": 5400.0,
        "impressions": 1200.0,
        "unique_impressions": 900.0,
        "clicks": 30.0,
        "likes": 25.0,
        "comments": 6.0,
        "shares": 4.0,
        "engagement_rate": 0.05,
    }
    assert not snapshot.partial
    assert size.calls.last.request.url.params["edgeType"] == "COMPANY_FOLLOWED_BY_MEMBER"
    assert str(stats.calls.last.request.url).endswith(
        f"?q=organizationalEntity&organizationalEntity={ORG_Q}"
    )


async def test_member_account_metrics(api: respx.MockRouter, linkedin: LinkedInConnector) -> None:
    api.get(f"{API}/rest/memberFollowersCount", params={"q": "me"}).respond(
        200, json={"elements": [{"memberFollowersCount": 321}]}
    )
    snapshot = await linkedin.account_metrics(account(PERSON), CREDENTIAL)
    assert snapshot.metrics == {"followers": 321.0}
    assert not snapshot.partial


async def test_post_metrics_for_organizations_and_members(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    stats = api.get(url__startswith=f"{API}/rest/organizationalEntityShareStatistics").respond(
        200, json={"elements": [{"totalShareStatistics": {"impressionCount": 10, "likeCount": 2}}]}
    )
    social = api.get(f"{API}/rest/socialMetadata/{SHARE_Q}").respond(
        200,
        json={
            "reactionSummaries": {
                "LIKE": {"reactionType": "LIKE", "count": 7},
                "PRAISE": {"reactionType": "PRAISE", "count": 2},
            },
            "commentSummary": {"count": 3, "topLevelCount": 2},
            "entity": SHARE,
        },
    )

    org = await linkedin.post_metrics(account(), CREDENTIAL, SHARE)
    member = await linkedin.post_metrics(account(PERSON), CREDENTIAL, SHARE)

    assert str(stats.calls.last.request.url).endswith(f"&shares=List({SHARE_Q})")
    assert org.metrics == {"impressions": 10.0, "likes": 2.0}
    assert org.partial
    assert social.called
    assert member.metrics == {"reactions": 9.0, "comments": 3.0}
    assert member.partial


# -- errors ----------------------------------------------------------------------------
async def test_revoked_token_is_auth_expired(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").respond(
        401,
        json={
            "serviceErrorCode": 65601,
            "message": "The token used in the request has been revoked by the user",
            "status": 401,
        },
    )
    with pytest.raises(AuthExpiredError, match="revoked by the user"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_429_honours_retry_after_or_waits_for_midnight_utc(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(
        side_effect=[
            httpx.Response(
                429, headers={"retry-after": "30"}, json={"message": "Too Many", "status": 429}
            ),
            httpx.Response(
                429,
                json={
                    "message": "Resource level throttle APPLICATION DAY limit for calls to "
                    "this resource is reached.",
                    "status": 429,
                },
            ),
        ]
    )
    post = OutgoingPost(text="t", marker="m")
    with pytest.raises(RateLimitedError) as short:
        await linkedin.publish(account(), CREDENTIAL, post)
    with pytest.raises(RateLimitedError) as daily:
        await linkedin.publish(account(), CREDENTIAL, post)

    assert short.value.retry_after_s == 30.0
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert daily.value.retry_after_s == pytest.approx((midnight - now).total_seconds(), abs=5)


async def test_5xx_is_retryable(api: respx.MockRouter, linkedin: LinkedInConnector) -> None:
    api.post(f"{API}/rest/posts").respond(504, json={"message": "Gateway Timeout", "status": 504})
    with pytest.raises(RetryableError, match="504"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_html_instead_of_json_is_retryable(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.get(url__startswith=f"{API}/rest/").respond(
        200, text=HTML, headers={"content-type": "text/html"}
    )
    api.post(f"{API}/rest/posts").respond(200, text=HTML, headers={"content-type": "text/html"})
    with pytest.raises(RetryableError, match="not JSON"):
        await linkedin.account_metrics(account(), CREDENTIAL)
    with pytest.raises(RetryableError, match="without its URN"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_200_with_an_error_body_is_classified(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.get(f"{API}/rest/memberFollowersCount", params={"q": "me"}).mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "serviceErrorCode": 100,
                    "message": "Not enough permissions to access: memberFollowersCount.FINDER-me",
                    "status": 403,
                },
            ),
            httpx.Response(
                200,
                json={"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401},
            ),
        ]
    )
    with pytest.raises(PermanentError, match="Not enough permissions"):
        await linkedin.account_metrics(account(PERSON), CREDENTIAL)
    with pytest.raises(AuthExpiredError, match="Invalid access token"):
        await linkedin.account_metrics(account(PERSON), CREDENTIAL)


async def test_read_timeout_is_retryable(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    api.post(f"{API}/rest/posts").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(RetryableError, match="did not answer in time"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))


async def test_a_slow_answer_hits_the_deadline(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return created()

    api.post(f"{API}/rest/posts").mock(side_effect=slow)
    linkedin.call_deadline_s = 0.05
    started = time.monotonic()
    with pytest.raises(RetryableError, match="did not answer in time"):
        await linkedin.publish(account(), CREDENTIAL, OutgoingPost(text="t", marker="m"))
    assert time.monotonic() - started < 0.5


# -- OAuth, webhooks and text ----------------------------------------------------------
async def test_oauth_code_exchange_posts_the_client_credentials(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    route = api.post("https://www.linkedin.com/oauth/v2/accessToken").respond(
        200,
        json={
            "access_token": "AQV-new",
            "expires_in": 5_184_000,
            "refresh_token": "AQW-refresh",
            "refresh_token_expires_in": 31_536_000,
            "scope": "r_organization_social,w_organization_social",
        },
    )
    client = OAuthClient(linkedin, client_id="li-client", client_secret="li-secret")

    grant = await client.exchange_code(
        code="code-1", redirect_uri="https://siar.test/cb", code_verifier=None
    )

    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": "https://siar.test/cb",
        "client_id": "li-client",
        "client_secret": "li-secret",
    }
    assert grant.access_token.get_secret_value() == "AQV-new"
    assert grant.expires_in_s == 5_184_000
    assert linkedin.oauth is not None
    assert linkedin.oauth.authorize_url == "https://www.linkedin.com/oauth/v2/authorization"


def test_webhook_challenge_and_signature(linkedin: LinkedInConnector) -> None:
    secret = "li-secret"
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
    assert challenge_response(code, secret) == {
        "challengeCode": code,
        "challengeResponse": hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest(),
    }
    body = b'{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"}'
    signature = hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    assert linkedin.verify_webhook({"X-LI-Signature": signature}, body, secret)
    assert linkedin.verify_webhook({"x-li-signature": f"hmacsha256={signature}"}, body, secret)
    assert not linkedin.verify_webhook({"X-LI-Signature": signature}, body + b" ", secret)
    assert not linkedin.verify_webhook({}, body, secret)


@pytest.mark.parametrize(
    ("text", "little"),
    [
        ("plain text, 100% fine!", "plain text, 100% fine!"),
        ("#launch day", "#launch day"),
        ("C# and a#b and # alone", r"C\# and a\#b and \# alone"),
        ("a_b *c* ~d~ <e> {f} |g| \\h", r"a\_b \*c\* \~d\~ \<e\> \{f\} \|g\| \\h"),
        ("@someone [x](y)", r"\@someone \[x\]\(y\)"),
    ],
)
def test_little_text_escapes_reserved_characters(text: str, little: str) -> None:
    assert little_text(text) == little
