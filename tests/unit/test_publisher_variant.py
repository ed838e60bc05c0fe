"""The publisher sends each network its variant, and a failed first comment is a warning.

The Facebook Graph API is faked with respx from its documented requests and answers
(``POST /{page}/feed``, ``POST /{post}/comments``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from siar.connectors import PartiallyPublishedError, PermanentError, PostFormat, PublishedPost
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.pinterest import PinterestConnector
from siar.connectors.sandbox import SandboxConnector
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
