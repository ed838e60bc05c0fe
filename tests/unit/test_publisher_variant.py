"""The publisher sends each network its variant, and a failed first comment is a warning.

The networks are faked with respx from their documented requests and answers: Facebook's
Graph API (``POST /{page}/feed``, ``POST /{post}/comments``) and YouTube's Data API
(resumable ``videos.insert``, ``commentThreads.insert``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from siar.connectors import PartiallyPublishedError, PermanentError, PostFormat, PublishedPost
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.pinterest import PinterestConnector
from siar.connectors.sandbox import SandboxConnector
from siar.connectors.youtube import YouTubeConnector
from siar.connectors.youtube_media import CHUNK_UNIT
from siar.contracts import PostScheduled
from siar_publisher.domain import FirstComment
from siar_publisher.variant import after_publish, found_again, outgoing, partly
from tests.unit.connectors.facebook_fakes import (
    ACCOUNT,
    APP_SECRET,
    CREDENTIAL,
    GRAPH,
    PAGE,
    POST_ID,
    mock_receipt,
)
from tests.unit.connectors.meta_fakes import form, graph_error
from tests.unit.connectors.youtube_fakes import ACCOUNT as YT_ACCOUNT
from tests.unit.connectors.youtube_fakes import API as YT_API
from tests.unit.connectors.youtube_fakes import CREDENTIAL as YT_CREDENTIAL
from tests.unit.connectors.youtube_fakes import video as yt_video

AT = datetime(2030, 5, 1, 9, tzinfo=UTC)


def scheduled(**changes: object) -> PostScheduled:
    fields: dict[str, object] = {
        "workspace_id": "ws_1",
        "post_id": "pst_1",
        "account_id": "acc_fb",
        "network": "facebook",
        "occurrence": AT.isoformat(),
        "due_at": AT,
        "text": "Facebook's own caption",
        "first_comment": "Order at siar.test",
        "title": "Spring menu",
        "format": "feed",
    }
    fields.update(changes)
    return PostScheduled.new(**fields)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def fb() -> AsyncIterator[FacebookPagesConnector]:
    async with httpx.AsyncClient() as http:
        yield FacebookPagesConnector(http, app_secret=APP_SECRET)


async def no_pace() -> None:
    return None


def test_the_post_sent_is_the_variant() -> None:
    fb = FacebookPagesConnector.__new__(FacebookPagesConnector)
    post = outgoing(scheduled(format="video"), "dlv_1", fb)
    assert (post.text, post.title, post.format) == (
        "Facebook's own caption",
        "Spring menu",
        PostFormat.VIDEO,
    )
    assert post.first_comment == "Order at siar.test"  # Facebook comments itself
    assert outgoing(scheduled(format=None), "dlv_1", fb).format is PostFormat.FEED
    # The sandbox can only reply: the publisher posts the comment after the post.
    sandbox = SandboxConnector.__new__(SandboxConnector)
    assert outgoing(scheduled(), "dlv_1", sandbox).first_comment is None
    with pytest.raises(PermanentError, match="hologram"):
        outgoing(scheduled(format="hologram"), "dlv_1", fb)


async def test_facebook_gets_the_caption_then_the_first_comment(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    feed = api.post(f"{GRAPH}/{PAGE}/feed").respond(200, json={"id": POST_ID})
    mock_receipt(api)
    comments = api.post(f"{GRAPH}/{POST_ID}/comments").respond(200, json={"id": "777_1"})
    event = scheduled()
    published = await fb.publish(ACCOUNT, CREDENTIAL, outgoing(event, "dlv_1", fb))
    assert form(feed.calls.last.request) == {"message": "Facebook's own caption"}
    assert form(comments.calls.last.request) == {"message": "Order at siar.test"}
    noted = await after_publish(fb, ACCOUNT, CREDENTIAL, event, published, no_pace)
    assert noted == (FirstComment(status="posted", via="publish"), [])


async def test_a_failed_first_comment_is_a_warning_and_the_post_stands(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.post(f"{GRAPH}/{PAGE}/feed").respond(200, json={"id": POST_ID})
    mock_receipt(api)
    api.post(f"{GRAPH}/{POST_ID}/comments").respond(
        400, json=graph_error(100, "Comments are turned off")
    )
    event = scheduled()
    with pytest.raises(PartiallyPublishedError) as caught:
        await fb.publish(ACCOUNT, CREDENTIAL, outgoing(event, "dlv_1", fb))
    assert caught.value.published.network_post_id == POST_ID
    comment, warnings = partly(event, fb, caught.value)
    assert comment is not None
    assert (comment.status, comment.via) == ("failed", "publish")
    assert "Comments are turned off" in (comment.reason or "")
    assert warnings == [comment.reason]


async def test_a_network_without_comments_skips_it_with_a_warning() -> None:
    pinterest = PinterestConnector.__new__(PinterestConnector)
    receipt = PublishedPost(network_post_id="pin_1", published_at=AT)
    comment, warnings = await after_publish(
        pinterest, ACCOUNT, CREDENTIAL, scheduled(network="pinterest"), receipt, no_pace
    )
    assert comment is not None
    assert comment.status == "skipped"
    assert warnings == ["Pinterest takes no comments; the first comment was not posted"]
    assert await after_publish(
        pinterest, ACCOUNT, CREDENTIAL, scheduled(first_comment=None), receipt, no_pace
    ) == (None, [])


def test_a_post_found_again_does_not_get_a_second_comment() -> None:
    fb = FacebookPagesConnector.__new__(FacebookPagesConnector)
    comment, warnings = found_again(scheduled(), fb)
    assert comment is not None
    assert comment.status == "skipped"
    assert "not posted again" in warnings[0]
    assert found_again(scheduled(first_comment=None), fb) == (None, [])


async def test_youtube_gets_the_variants_title_caption_and_short_format(
    api: respx.MockRouter,
) -> None:
    upload = "https://www.googleapis.com/upload/youtube/v3/videos"
    session = f"{upload}?uploadType=resumable&upload_id=xa298sd_f"
    start = api.post(upload, params={"uploadType": "resumable"}).respond(
        200, headers={"location": session}
    )
    api.put(session).respond(
        201, json={"id": "dQw4w9WgXcQ", "snippet": {"publishedAt": "2024-05-01T10:00:00Z"}}
    )
    comment = api.post(f"{YT_API}/commentThreads").respond(200, json={"id": "UgxFirst"})
    event = scheduled(
        network="youtube",
        text="The full description #spring",
        title="Spring menu, in 30 seconds",
        format="reel",
        first_comment="Which one first?",
    )
    async with httpx.AsyncClient() as http:
        youtube = YouTubeConnector(http, chunk_size=CHUNK_UNIT, resume_delay_s=0)
        post = outgoing(event, "dlv_1", youtube).model_copy(update={"media": [yt_video(1000)]})
        published = await youtube.publish(YT_ACCOUNT, YT_CREDENTIAL, post)
    snippet = json.loads(start.calls.last.request.content)["snippet"]
    assert snippet["title"] == "Spring menu, in 30 seconds"
    assert snippet["description"] == "The full description #spring"
    assert published.permalink == "https://www.youtube.com/shorts/dQw4w9WgXcQ"
    sent = json.loads(comment.calls.last.request.content)
    assert sent["snippet"]["topLevelComment"]["snippet"]["textOriginal"] == "Which one first?"
