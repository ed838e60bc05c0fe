"""A comment's thread is linked to its Siar post whichever of the two arrives first.

``post.published`` (from the publisher) and the comment (from polling or a webhook)
come by different paths, in no guaranteed order; the first slice once saw a thread
left without its post. Each order, and the race between them, on a real MongoDB.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import FetchedMessage
from siar.contracts import PostPublished, utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_inbox.domain import Conversation

from .inbox_ingest_app import Inbox, make_inbox

WS, ACCOUNT, NETWORK_POST, POST = "ws_link", "acc_1", "sbxpost_1", "pst_1"


@pytest.fixture
async def inbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Inbox:
    return await make_inbox(mongo, db, infra)


def published() -> PostPublished:
    return PostPublished.new(
        workspace_id=WS,
        post_id=POST,
        account_id=ACCOUNT,
        network="sandbox",
        occurrence="once",
        network_post_id=NETWORK_POST,
        published_at=utcnow(),
    )


async def comment(inbox: Inbox, message_id: str, minutes_ago: int = 0) -> None:
    fetched = FetchedMessage(
        network_message_id=message_id,
        kind="comment",
        author_handle="fan",
        text=f"comment {message_id}",
        network_post_id=NETWORK_POST,
        sent_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    stored = await inbox.service.ingest(
        workspace_id=WS, account_id=ACCOUNT, network="sandbox", fetched=fetched
    )
    assert stored is not None


async def thread(inbox: Inbox) -> Conversation:
    [conv] = await inbox.conversations(WS)
    return conv


async def test_post_published_first(inbox: Inbox) -> None:
    await inbox.service.post_published(published())
    await comment(inbox, "c1")
    assert (await thread(inbox)).post_id == POST


async def test_comment_first_then_post_published_twice(inbox: Inbox) -> None:
    await comment(inbox, "c1", minutes_ago=2)
    assert (await thread(inbox)).post_id is None
    await inbox.service.post_published(published())
    assert (await thread(inbox)).post_id == POST
    await inbox.service.post_published(published())  # a redelivery changes nothing
    await comment(inbox, "c2")
    conv = await thread(inbox)
    assert (conv.post_id, conv.message_count) == (POST, 2)


async def test_post_published_while_the_comment_is_stored(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The interleaving of the failed first-slice run, made certain: the ingest looks the
    # post up (not there yet), post.published is handled in full (nothing to link yet),
    # then the ingest stores the thread.
    store = inbox.service.store
    look_up = store.posts_by_network_id
    lookups = 0

    async def racing(workspace_id: str, ids: Iterable[str]) -> dict[str, Document]:
        nonlocal lookups
        found = await look_up(workspace_id, ids)
        lookups += 1
        if lookups == 1:
            await inbox.service.post_published(published())
        return found

    monkeypatch.setattr(store, "posts_by_network_id", racing)
    await comment(inbox, "c1")
    assert lookups >= 2, "the ingest never looked again"
    assert (await thread(inbox)).post_id == POST


async def test_a_later_comment_fills_in_a_thread_left_without_its_post(inbox: Inbox) -> None:
    await comment(inbox, "c1", minutes_ago=2)
    # The post is recorded, but the thread was not linked (as if the link were lost).
    await inbox.service.store.record_post(
        WS,
        {
            "network_post_id": NETWORK_POST,
            "account_id": ACCOUNT,
            "post_id": POST,
            "network": "sandbox",
        },
    )
    assert (await thread(inbox)).post_id is None
    await comment(inbox, "c2")
    assert (await thread(inbox)).post_id == POST
