"""Bluesky connector: notifications, engagement and metrics, from documented shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    Engagement,
    PermanentError,
)
from siar.connectors.bluesky import BlueskyConnector
from tests.unit.connectors.bluesky_fakes import (
    ACCESS,
    ACCOUNT,
    BOB,
    CID,
    CREDENTIAL,
    DID,
    POST_URI,
    body_of,
    created,
    xrpc,
)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def bsky() -> AsyncIterator[BlueskyConnector]:
    async with httpx.AsyncClient() as http:
        yield BlueskyConnector(http)


# -- inbox -----------------------------------------------------------------------------
def notification(uri: str, reason: str, at: str, **record: Any) -> dict[str, Any]:
    return {
        "uri": uri,
        "cid": CID,
        "author": {"did": BOB, "handle": "bob.test", "displayName": "Bob"},
        "reason": reason,
        "record": {"$type": "app.bsky.feed.post", "text": "hey", "createdAt": at, **record},
        "isRead": False,
        "indexedAt": at,
    }


async def test_fetch_messages_returns_new_replies_and_mentions_oldest_first(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    reply = {"root": {"uri": POST_URI, "cid": CID}, "parent": {"uri": "at://x/p/1", "cid": CID}}
    route = api.get(xrpc("app.bsky.notification.listNotifications")).mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "notifications": [
                        notification("at://b/3", "mention", "2024-05-01T10:03:00.000Z"),
                        notification("at://b/2", "like", "2024-05-01T10:02:00.000Z"),
                    ],
                    "cursor": "page2",
                },
            ),
            httpx.Response(
                200,
                json={
                    "notifications": [
                        notification("at://b/1", "reply", "2024-05-01T10:01:00.000Z", reply=reply),
                        notification("at://b/0", "reply", "2024-05-01T10:00:00.000Z"),
                    ],
                    "cursor": "page3",
                },
            ),
        ]
    )
    page = await bsky.fetch_messages(ACCOUNT, CREDENTIAL, "2024-05-01T10:00:00.000Z")

    assert [m.network_message_id for m in page.messages] == ["at://b/1", "at://b/3"]
    comment, mention = page.messages
    assert comment.kind == "comment"
    assert comment.network_post_id == POST_URI
    assert comment.parent_network_id == "at://x/p/1"
    assert comment.author_handle == "bob.test"
    assert comment.author_name == "Bob"
    assert mention.kind == "mention"
    assert page.cursor == "2024-05-01T10:03:00.000Z"
    first, second = (call.request.url.params for call in route.calls)
    assert first.get_list("reasons") == ["reply", "mention", "quote"]
    assert route.calls[0].request.headers["authorization"] == f"Bearer {ACCESS}"
    assert second["cursor"] == "page2"


async def test_fetch_messages_without_cursor_reads_one_page(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    route = api.get(xrpc("app.bsky.notification.listNotifications")).respond(
        200,
        json={
            "notifications": [notification("at://b/1", "mention", "2024-05-01T10:01:00.000Z")],
            "cursor": "more",
        },
    )
    page = await bsky.fetch_messages(ACCOUNT, CREDENTIAL, None)
    assert route.call_count == 1
    assert page.cursor == "2024-05-01T10:01:00.000Z"
    assert len(page.messages) == 1


# -- engagement ------------------------------------------------------------------------
async def test_reply_references_the_threads_root_and_the_parent(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    parent_uri = f"at://{BOB}/app.bsky.feed.post/3kparent"
    root = {"uri": POST_URI, "cid": CID}
    get = api.get(xrpc("com.atproto.repo.getRecord")).respond(
        200,
        json={
            "uri": parent_uri,
            "cid": "bafyparent",
            "value": {"text": "nice", "reply": {"root": root, "parent": root}},
        },
    )
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created("rep"))
    result = await bsky.engage(
        ACCOUNT,
        CREDENTIAL,
        Engagement(action="reply", target_network_id=parent_uri, text="Thanks!"),
    )
    assert get.calls.last.request.url.params["repo"] == BOB
    assert get.calls.last.request.url.params["rkey"] == "3kparent"
    record = body_of(create.calls.last.request)["record"]
    assert record["text"] == "Thanks!"
    assert record["reply"] == {"root": root, "parent": {"uri": parent_uri, "cid": "bafyparent"}}
    assert result.network_id == f"at://{DID}/app.bsky.feed.post/rep"


@pytest.mark.parametrize(
    ("action", "collection"), [("like", "app.bsky.feed.like"), ("repost", "app.bsky.feed.repost")]
)
async def test_like_and_repost_are_records_with_the_targets_strong_ref(
    api: respx.MockRouter, bsky: BlueskyConnector, action: Any, collection: str
) -> None:
    api.get(xrpc("com.atproto.repo.getRecord")).respond(
        200, json={"uri": POST_URI, "cid": CID, "value": {"text": "x"}}
    )
    create = api.post(xrpc("com.atproto.repo.createRecord")).respond(
        200, json={"uri": f"at://{DID}/{collection}/3k", "cid": "bafy"}
    )
    result = await bsky.engage(
        ACCOUNT, CREDENTIAL, Engagement(action=action, target_network_id=POST_URI)
    )
    sent = body_of(create.calls.last.request)
    assert sent["collection"] == collection
    assert sent["record"]["$type"] == collection
    assert sent["record"]["subject"] == {"uri": POST_URI, "cid": CID}
    assert result.network_id == f"at://{DID}/{collection}/3k"


async def test_delete_removes_the_accounts_own_record(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    route = api.post(xrpc("com.atproto.repo.deleteRecord")).respond(200, json={})
    await bsky.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id=POST_URI))
    assert body_of(route.calls.last.request) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": "3l6oveex3ii2l",
    }


async def test_someone_elses_record_cannot_be_deleted(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    target = f"at://{BOB}/app.bsky.feed.post/3k"
    with pytest.raises(PermanentError, match="own posts"):
        await bsky.engage(
            ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id=target)
        )
    assert not api.calls


async def test_dm_goes_through_the_chat_service_proxy(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    convo = api.get(xrpc("chat.bsky.convo.getConvoForMembers")).respond(
        200, json={"convo": {"id": "convo1", "members": []}}
    )
    send = api.post(xrpc("chat.bsky.convo.sendMessage")).respond(
        200, json={"id": "msg1", "text": "Hello", "sentAt": "2024-05-01T10:00:00Z"}
    )
    dm = Engagement(action="dm", target_network_id="", recipient_network_id=BOB, text="Hello")
    result = await bsky.engage(ACCOUNT, CREDENTIAL, dm)

    assert convo.calls.last.request.url.params["members"] == BOB
    for route in (convo, send):
        headers = route.calls.last.request.headers
        assert headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"
        assert headers["authorization"] == f"Bearer {ACCESS}"
    assert body_of(send.calls.last.request) == {
        "convoId": "convo1",
        "message": {"text": "Hello"},
    }
    assert result.network_id == "msg1"


async def test_hiding_a_reply_is_not_supported(bsky: BlueskyConnector) -> None:
    with pytest.raises(PermanentError, match="does not support hide"):
        await bsky.engage(
            ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id=POST_URI)
        )


# -- metrics ---------------------------------------------------------------------------
async def test_post_metrics_are_partial_when_a_count_is_missing(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    route = api.get(xrpc("app.bsky.feed.getPosts")).respond(
        200, json={"posts": [{"uri": POST_URI, "likeCount": 4, "repostCount": 1, "replyCount": 2}]}
    )
    snap = await bsky.post_metrics(ACCOUNT, CREDENTIAL, POST_URI)
    assert route.calls.last.request.url.params["uris"] == POST_URI
    assert snap.metrics == {"likes": 4.0, "reposts": 1.0, "comments": 2.0}
    assert snap.partial


async def test_account_metrics_come_from_the_profile(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    route = api.get(xrpc("app.bsky.actor.getProfile")).respond(
        200, json={"did": DID, "followersCount": 10, "followsCount": 3, "postsCount": 7}
    )
    snap = await bsky.account_metrics(ACCOUNT, CREDENTIAL)
    assert route.calls.last.request.url.params["actor"] == DID
    assert snap.metrics == {"followers": 10.0, "following": 3.0, "posts": 7.0}
    assert not snap.partial


async def test_metrics_of_a_deleted_post_are_permanent_error(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.get(xrpc("app.bsky.feed.getPosts")).respond(200, json={"posts": []})
    with pytest.raises(PermanentError, match="deleted"):
        await bsky.post_metrics(ACCOUNT, CREDENTIAL, POST_URI)
