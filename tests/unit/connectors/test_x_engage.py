"""X connector inbox, engagement and metrics against the X API v2's shapes (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import Engagement, PermanentError
from siar.connectors.x import XConnector
from tests.unit.connectors.x_fakes import ACCOUNT, API, CREDENTIAL, ME, body_of, tweet


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def x() -> AsyncIterator[XConnector]:
    async with httpx.AsyncClient() as http:
        yield XConnector(http, poll_cap_s=0)


# -- inbox -----------------------------------------------------------------------------
FOLLOWERS_12 = {"followers_count": 12}
MENTIONS = {
    "data": [
        {
            "id": "302",
            "text": "@siar_demo love it &amp; more",
            "author_id": "7",
            "conversation_id": "300",
            "in_reply_to_user_id": ME,
            "referenced_tweets": [{"type": "replied_to", "id": "300"}],
            "created_at": "2026-11-23T09:00:00.000Z",
        },
        {
            "id": "301",
            "text": "Look at @siar_demo",
            "author_id": "8",
            "conversation_id": "301",
            "created_at": "2026-11-23T08:00:00.000Z",
        },
    ],
    "includes": {
        "users": [
            {
                "id": "7",
                "name": "Ana",
                "username": "ana",
                "public_metrics": {"followers_count": 12},
            },
            {"id": "8", "name": "Bo", "username": "bo", "public_metrics": {"followers_count": 3}},
        ]
    },
    "meta": {"result_count": 2, "newest_id": "302", "oldest_id": "301"},
}
DMS = {
    "data": [
        {
            "id": "502",
            "event_type": "MessageCreate",
            "text": "my reply",
            "sender_id": ME,
            "dm_conversation_id": "7-42",
            "created_at": "2026-11-23T09:30:00.000Z",
        },
        {
            "id": "501",
            "event_type": "MessageCreate",
            "text": "hi there",
            "sender_id": "7",
            "dm_conversation_id": "7-42",
            "created_at": "2026-11-23T08:30:00.000Z",
        },
        {
            "id": "400",
            "event_type": "MessageCreate",
            "text": "old",
            "sender_id": "7",
            "dm_conversation_id": "7-42",
            "created_at": "2026-11-20T08:30:00.000Z",
        },
    ],
    "includes": {
        "users": [
            {"id": "7", "name": "Ana", "username": "ana", "public_metrics": {"followers_count": 9}}
        ]
    },
    "meta": {"result_count": 3},
}


async def test_fetch_messages_returns_mentions_comments_and_dms_oldest_first(
    api: respx.MockRouter, x: XConnector
) -> None:
    mentions = api.get(f"{API}/2/users/{ME}/mentions").respond(200, json=MENTIONS)
    dms = api.get(f"{API}/2/dm_events").respond(200, json=DMS)

    page = await x.fetch_messages(ACCOUNT, CREDENTIAL, cursor="d:450|m:250")

    assert [(m.kind, m.network_message_id) for m in page.messages] == [
        ("mention", "301"),
        ("dm", "501"),
        ("comment", "302"),
    ]
    comment = page.messages[2]
    assert (comment.author_handle, comment.author_followers) == ("ana", 12)
    assert comment.text == "@siar_demo love it & more"
    assert (comment.network_post_id, comment.parent_network_id) == ("300", "300")
    assert page.messages[1].parent_network_id == "7-42"
    assert page.messages[1].author_followers == 9
    assert page.cursor == "d:502|m:302"
    assert mentions.calls.last.request.url.params["since_id"] == "250"
    assert dms.calls.last.request.url.params["event_types"] == "MessageCreate"


async def test_fetch_messages_with_nothing_new_keeps_the_cursor(
    api: respx.MockRouter, x: XConnector
) -> None:
    api.get(f"{API}/2/users/{ME}/mentions").respond(200, json={"meta": {"result_count": 0}})
    api.get(f"{API}/2/dm_events").respond(200, json={"data": DMS["data"][:1], "meta": {}})

    page = await x.fetch_messages(ACCOUNT, CREDENTIAL, cursor="d:502|m:302")

    assert page.messages == []
    assert page.cursor == "d:502|m:302"


# -- engagement ------------------------------------------------------------------------
async def test_reply_like_repost_hide_delete_and_dm(api: respx.MockRouter, x: XConnector) -> None:
    reply = api.post(f"{API}/2/tweets").respond(201, json=tweet("900"))
    like = api.post(f"{API}/2/users/{ME}/likes").respond(200, json={"data": {"liked": True}})
    repost = api.post(f"{API}/2/users/{ME}/retweets").respond(
        200, json={"data": {"retweeted": True}}
    )
    hide = api.put(f"{API}/2/tweets/302/hidden").respond(200, json={"data": {"hidden": True}})
    delete = api.delete(f"{API}/2/tweets/302").respond(200, json={"data": {"deleted": True}})
    to_person = api.post(f"{API}/2/dm_conversations/with/7/messages").respond(
        201, json={"data": {"dm_conversation_id": "7-42", "dm_event_id": "600"}}
    )
    to_thread = api.post(f"{API}/2/dm_conversations/7-42/messages").respond(
        201, json={"data": {"dm_conversation_id": "7-42", "dm_event_id": "601"}}
    )

    result = await x.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="302", text="Thanks!")
    )
    assert result.network_id == "900"
    assert body_of(reply.calls.last.request) == {
        "text": "Thanks!",
        "reply": {"in_reply_to_tweet_id": "302"},
    }
    for action in ("like", "repost", "hide", "delete"):
        await x.engage(ACCOUNT, CREDENTIAL, Engagement(action=action, target_network_id="302"))
    assert body_of(like.calls.last.request) == {"tweet_id": "302"}
    assert body_of(repost.calls.last.request) == {"tweet_id": "302"}
    assert body_of(hide.calls.last.request) == {"hidden": True}
    assert delete.called
    dm = await x.engage(
        ACCOUNT,
        CREDENTIAL,
        Engagement(action="dm", target_network_id="501", text="Hi", recipient_network_id="7"),
    )
    assert dm.network_id == "600"
    assert body_of(to_person.calls.last.request) == {"text": "Hi"}
    dm = await x.engage(
        ACCOUNT,
        CREDENTIAL,
        Engagement(action="dm", target_network_id="501", text="Hi", recipient_network_id="7-42"),
    )
    assert dm.network_id == "601"
    assert to_thread.called


async def test_reply_without_text_is_refused(x: XConnector) -> None:
    with pytest.raises(PermanentError, match="needs text"):
        await x.engage(ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="1"))


# -- metrics ---------------------------------------------------------------------------
async def test_account_metrics_map_public_metrics(api: respx.MockRouter, x: XConnector) -> None:
    route = api.get(f"{API}/2/users/{ME}").respond(
        200,
        json={
            "data": {
                "id": ME,
                "username": "siar_demo",
                "public_metrics": {
                    "followers_count": 1500,
                    "following_count": 20,
                    "tweet_count": 300,
                    "listed_count": 4,
                    "like_count": 77,
                },
            }
        },
    )

    snapshot = await x.account_metrics(ACCOUNT, CREDENTIAL)

    assert snapshot.metrics == {
        "followers": 1500.0,
        "following": 20.0,
        "posts": 300.0,
        "listed": 4.0,
        "likes": 77.0,
    }
    assert not snapshot.partial
    assert route.calls.last.request.url.params["user.fields"] == "public_metrics"


async def test_post_metrics_are_partial_when_private_metrics_are_gone(
    api: respx.MockRouter, x: XConnector
) -> None:
    public = {
        "retweet_count": 2,
        "reply_count": 3,
        "like_count": 10,
        "quote_count": 1,
        "bookmark_count": 0,
        "impression_count": 500,
    }
    api.get(f"{API}/2/tweets/1850").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": {
                        "id": "1850",
                        "public_metrics": public,
                        "non_public_metrics": {
                            "url_link_clicks": 5,
                            "user_profile_clicks": 2,
                            "engagements": 21,
                        },
                    }
                },
            ),
            httpx.Response(200, json={"data": {"id": "1850", "public_metrics": public}}),
        ]
    )

    fresh = await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")
    old = await x.post_metrics(ACCOUNT, CREDENTIAL, "1850")

    assert fresh.metrics["impressions"] == 500.0
    assert fresh.metrics["link_clicks"] == 5.0
    assert not fresh.partial
    assert old.partial
    assert "link_clicks" not in old.metrics
