"""YouTube comments: fetching threads with a cursor, replying, liking, hiding, deleting."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import (
    AccountRef,
    Credential,
    Engagement,
    PermanentError,
)
from siar.connectors.youtube import YouTubeConnector
from siar.connectors.youtube_media import CHUNK_UNIT

API = "https://www.googleapis.com/youtube/v3"
TOKEN = "ya29.token"
CHANNEL = "UCchannel"
ACCOUNT = AccountRef(
    workspace_id="ws_1",
    account_id="acc_1",
    network="youtube",
    handle="@siar",
    network_account_id=CHANNEL,
)
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def youtube() -> AsyncIterator[YouTubeConnector]:
    async with httpx.AsyncClient() as http:
        yield YouTubeConnector(http, chunk_size=CHUNK_UNIT, resume_delay_s=0)


# -- inbox -----------------------------------------------------------------------------
def comment(cid: str, text: str, when: str, author: str = "UCfan", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "youtube#comment",
        "id": cid,
        "snippet": {
            "videoId": "v1",
            "textDisplay": text,
            "authorDisplayName": "@fan",
            "authorChannelId": {"value": author},
            "publishedAt": when,
            **extra,
        },
    }


def thread(top: dict[str, Any], *replies: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "id": top["id"],
        "snippet": {"videoId": "v1", "topLevelComment": top, "totalReplyCount": len(replies)},
    }
    if replies:
        item["replies"] = {"comments": list(replies)}
    return item


async def test_fetch_messages_first_page_oldest_first_without_own_comments(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    route = api.get(f"{API}/commentThreads").respond(
        200,
        json={
            "items": [
                thread(
                    comment("t2", "Love it", "2024-05-02T10:00:00Z"),
                    comment("t2.r1", "Thanks!", "2024-05-02T11:00:00Z", author=CHANNEL),
                    comment("t2.r2", "Same", "2024-05-02T12:00:00Z", parentId="t2"),
                ),
                thread(comment("t1", "First", "2024-05-01T10:00:00Z")),
            ],
            "nextPageToken": "next",
        },
    )
    page = await youtube.fetch_messages(ACCOUNT, CREDENTIAL, None)
    assert [m.network_message_id for m in page.messages] == ["t1", "t2", "t2.r2"]
    reply = page.messages[2]
    assert reply.parent_network_id == "t2"
    assert reply.network_post_id == "v1"
    assert reply.author_handle == "@fan"
    assert page.cursor == "2024-05-02T12:00:00+00:00|t2.r2"
    params = route.calls.last.request.url.params
    assert params["allThreadsRelatedToChannelId"] == CHANNEL
    assert params["part"] == "snippet,replies"
    assert params["order"] == "time"
    assert params["textFormat"] == "plainText"
    assert route.call_count == 1


async def test_fetch_messages_pages_back_to_the_cursor_and_skips_what_was_delivered(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    route = api.get(f"{API}/commentThreads").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "items": [thread(comment("t4", "Newest", "2024-05-03T10:00:00Z"))],
                    "nextPageToken": "p2",
                },
            ),
            httpx.Response(
                200,
                json={
                    "items": [
                        thread(comment("t3", "Same second", "2024-05-02T12:00:00Z")),
                        thread(comment("t2.r2", "Seen", "2024-05-02T12:00:00Z")),
                        thread(comment("t1", "Old", "2024-05-01T10:00:00Z")),
                    ],
                    "nextPageToken": "p3",
                },
            ),
        ]
    )
    page = await youtube.fetch_messages(ACCOUNT, CREDENTIAL, "2024-05-02T12:00:00+00:00|t2.r2")
    assert [m.network_message_id for m in page.messages] == ["t3", "t4"]
    assert page.cursor == "2024-05-03T10:00:00+00:00|t4"
    assert route.calls[1].request.url.params["pageToken"] == "p2"
    assert route.call_count == 2


async def test_fetch_messages_without_news_keeps_the_cursor(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    api.get(f"{API}/commentThreads").respond(
        200, json={"items": [thread(comment("t1", "Old", "2024-05-01T10:00:00Z"))]}
    )
    page = await youtube.fetch_messages(ACCOUNT, CREDENTIAL, "2024-05-02T00:00:00+00:00|")
    assert page.messages == []
    assert page.cursor == "2024-05-02T00:00:00+00:00|"


async def test_channel_id_is_asked_when_the_account_lacks_it(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    api.get(f"{API}/channels").respond(200, json={"items": [{"id": "UCasked"}]})
    route = api.get(f"{API}/commentThreads").respond(200, json={"items": []})
    anonymous = ACCOUNT.model_copy(update={"network_account_id": None})
    await youtube.fetch_messages(anonymous, CREDENTIAL, None)
    assert route.calls.last.request.url.params["allThreadsRelatedToChannelId"] == "UCasked"


async def test_engagements_use_the_documented_calls(
    api: respx.MockRouter, youtube: YouTubeConnector
) -> None:
    reply = api.post(f"{API}/comments").respond(200, json={"id": "t2.r9"})
    rate = api.post(f"{API}/videos/rate").respond(204)
    moderate = api.post(f"{API}/comments/setModerationStatus").respond(204)
    delete = api.delete(f"{API}/comments").respond(204)

    result = await youtube.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="t2.r2", text="Thanks")
    )
    assert result.network_id == "t2.r9"
    assert json.loads(reply.calls.last.request.content) == {
        "snippet": {"parentId": "t2", "textOriginal": "Thanks"}
    }
    await youtube.engage(ACCOUNT, CREDENTIAL, Engagement(action="like", target_network_id="v1"))
    assert dict(rate.calls.last.request.url.params) == {"id": "v1", "rating": "like"}
    await youtube.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="t3"))
    assert dict(moderate.calls.last.request.url.params) == {
        "id": "t3",
        "moderationStatus": "rejected",
    }
    await youtube.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id="t4"))
    assert dict(delete.calls.last.request.url.params) == {"id": "t4"}
    with pytest.raises(PermanentError, match="does not support dm"):
        await youtube.engage(ACCOUNT, CREDENTIAL, Engagement(action="dm", target_network_id="x"))
