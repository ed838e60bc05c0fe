"""The unified inbox's query and act paths against a real MongoDB (nx-27017 or external).

Messages go in through the real ingest; lists, search, counts, bulk changes, snooze,
thread actions and the change-stream feed are then read back from the database.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import FetchedMessage
from siar.contracts import EngagementCompleted
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX, OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_inbox.actions import INDEXES as ACTION_INDEXES
from siar_inbox.bulk import bulk_change
from siar_inbox.changes import Change
from siar_inbox.domain import ConversationStatus
from siar_inbox.errors import ActionNotSupported, SnoozeNotAhead
from siar_inbox.listing import INDEXES as LISTING_INDEXES
from siar_inbox.listing import ConversationQueries
from siar_inbox.queries import BadCursor, InboxFilter
from siar_inbox.snooze import INDEXES as SNOOZE_INDEXES
from siar_inbox.snooze import Snoozer
from siar_inbox.store import INDEXES, InboxStore
from siar_inbox.stream import ConversationFeed
from siar_inbox.triage import INDEXES as TRIAGE_INDEXES
from siar_inbox.triage import Triage

WS = "ws_query"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Inbox:
    """The inbox's use cases on one test database."""

    def __init__(self, db: AsyncDatabase[Document], uow: UnitOfWork) -> None:
        from siar_inbox.service import InboxService

        self.db = db
        self.service = InboxService(store=InboxStore(db), uow=uow)
        self.triage = Triage(self.service)
        self.queries = ConversationQueries(self.service.store)

    async def message(
        self, n: int, text: str, *, account: str = "acc_1", kind: str = "comment", minutes: int = 0
    ) -> str:
        """Ingest one message of its own thread; the conversation id."""
        fetched = FetchedMessage(
            network_message_id=f"m{n}",
            kind=kind,
            author_handle=f"fan{n}",
            author_name=f"Fan {n}",
            text=text,
            network_post_id=f"p{n}",
            sent_at=T0 + timedelta(minutes=minutes or n),
        )
        stored = await self.service.ingest(
            workspace_id=WS, account_id=account, network="sandbox", fetched=fetched
        )
        assert stored is not None
        return stored.conversation_id

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        """Events of a type waiting in the outbox, oldest first."""
        rows = await self.db[OUTBOX].find({"workspace_id": WS}, sort=[("seq", 1)]).to_list()
        payloads = [json.loads(r["payload"]) for r in rows]
        return [p for p in payloads if p["event_type"] == event_type]


@pytest.fixture
async def inbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Inbox:
    """The inbox on a fresh database with every index its start creates."""
    await ensure_indexes(
        db,
        [
            *OUTBOX_INDEXES,
            *PROCESSED_INDEXES,
            *INDEXES,
            *TRIAGE_INDEXES,
            *LISTING_INDEXES,
            *SNOOZE_INDEXES,
            *ACTION_INDEXES,
        ],
    )
    return Inbox(db, UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded"))


async def test_filters_search_and_cursor_pages(inbox: Inbox) -> None:
    texts = [
        "Terima kasih, produknya bagus sekali 👍🏽",
        "Where is my ORDER? 😡",
        "Café was great",
        "terima kasih lagi",
        "nothing special",
    ]
    ids = [await inbox.message(i + 1, t, account=f"acc_{i % 2}") for i, t in enumerate(texts)]
    q = inbox.queries

    async def found(**kw: Any) -> list[str]:
        page = await q.page(WS, InboxFilter(**kw), me="usr_me", cursor=None, limit=50)
        return [c.id for c in page.items]

    assert await found() == ids[::-1]  # newest first
    assert await found(text="TERIMA kasih") == [ids[3], ids[0]]
    assert await found(text="cafe") == [ids[2]]  # accent-folded
    assert await found(text="👍") == [ids[0]]  # skin tone dropped
    assert await found(text="😡 order") == [ids[1]]
    assert await found(text="?!") == []  # no term at all matches nothing
    assert await found(accounts=["acc_1"]) == [ids[3], ids[1]]
    assert await found(networks=["x"]) == []

    await inbox.triage.change(WS, ids[1], Change(assignee="usr_me", tags=["VIP"]), "usr_a")
    await inbox.triage.change(WS, ids[2], Change(status=ConversationStatus.CLOSED), "usr_a")
    assert await found(assignee="me") == [ids[1]]
    assert await found(assignee="none", statuses=["open"]) == [ids[4], ids[3], ids[0]]
    assert await found(tags=["vip"]) == [ids[1]]

    # Pages of two, and a conversation gaining a message meanwhile moves to the top
    # without making the next page skip or repeat anyone.
    first = await q.page(WS, InboxFilter(), me="usr_me", cursor=None, limit=2)
    assert [c.id for c in first.items] == [ids[4], ids[3]]
    assert first.next_cursor
    await inbox.message(99, "new one", minutes=500)
    second = await q.page(WS, InboxFilter(), me="usr_me", cursor=first.next_cursor, limit=2)
    assert [c.id for c in second.items] == [ids[2], ids[1]]
    third = await q.page(WS, InboxFilter(), me="usr_me", cursor=second.next_cursor, limit=2)
    assert [c.id for c in third.items] == [ids[0]]
    assert third.next_cursor is None
    with pytest.raises(BadCursor):
        await q.page(WS, InboxFilter(), me="usr_me", cursor="bm90LWpzb24", limit=2)


async def test_ties_and_conversations_stored_before_the_sort_key(inbox: Inbox) -> None:
    # Twelve threads with the same last activity (more than the rows read past a
    # cursor for ties): the id orders them across pages of one.
    ids = [await inbox.message(i, f"tie {i}", minutes=7) for i in range(1, 13)]
    # One stored by an older inbox, without the sort key; the start-up backfill adds it.
    old = {"_id": "cnv_old", "account_id": "acc_1", "network": "sandbox", "kind": "comment"}
    old.update(status="open", last_message_at=T0 - timedelta(days=1), message_count=1)
    await inbox.service.store.conversations.insert(WS, old)
    assert await inbox.queries.backfill_sort_key() == 1
    assert await inbox.queries.backfill_sort_key() == 0
    seen: list[str] = []
    cursor = None
    for _ in range(13):
        page = await inbox.queries.page(WS, InboxFilter(), me="u", cursor=cursor, limit=1)
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
    assert seen == [*sorted(ids, reverse=True), "cnv_old"]
    assert cursor is None


async def test_counts_are_faceted(inbox: Inbox) -> None:
    ids = [
        await inbox.message(i, f"hello {i}", kind="dm" if i < 2 else "comment") for i in range(5)
    ]
    await inbox.triage.change(WS, ids[0], Change(status=ConversationStatus.CLOSED), "usr_a")
    await inbox.triage.change(WS, ids[1], Change(assignee="usr_me", tags=["vip"]), "usr_a")
    counts = await inbox.queries.counts(WS, InboxFilter(statuses=["open"]), me="usr_me")
    # Status is counted under the other filters only, so every status shows.
    assert counts["status"] == {"closed": 1, "open": 4}
    assert counts["kind"] == {"comment": 3, "dm": 1}
    assert counts["assignee"] == {"me": 1, "none": 3, "others": 0}
    assert counts["tags"] == {"vip": 1}
    assert counts["total"] == 4
    searched = await inbox.queries.counts(WS, InboxFilter(text="hello 3"), me="usr_me")
    assert searched["total"] == 1
    assert searched["status"] == {"open": 1}


async def test_response_times_and_events_go_with_each_change(inbox: Inbox) -> None:
    conv = await inbox.message(1, "help please")
    await inbox.service.reply(workspace_id=WS, conversation_id=conv, text="on it", author="usr_a")
    await inbox.service.reply(workspace_id=WS, conversation_id=conv, text="again", author="usr_b")
    closed = await inbox.triage.change(WS, conv, Change(status=ConversationStatus.CLOSED), "usr_b")
    assert closed.responded_by == "usr_a"
    assert closed.first_response_s is not None
    assert closed.closed_by == "usr_b"
    assert closed.resolution_s is not None
    assert closed.resolution_s >= closed.first_response_s > 0
    await inbox.triage.change(WS, conv, Change(status=ConversationStatus.OPEN), "usr_b")
    updates = await inbox.events("conversation.updated")
    assert [(u["change"], u["actor_id"]) for u in updates] == [
        ("responded", "usr_a"),
        ("closed", "usr_b"),
        ("reopened", "usr_b"),
    ]
    assert updates[1]["resolution_s"] == pytest.approx(closed.resolution_s)
    assert updates[2]["resolution_s"] is None  # open again: not resolved


async def test_bulk_changes_with_a_result_per_item(inbox: Inbox) -> None:
    ids = [await inbox.message(i, f"bulk {i}") for i in range(3)]
    results = await bulk_change(
        inbox.service, WS, [ids[0], "cnv_missing", ids[2]], Change(add_tags=("Promo",)), "usr_a"
    )
    assert [(r.id, r.status) for r in results] == [
        (ids[0], 200),
        ("cnv_missing", 404),
        (ids[2], 200),
    ]
    closed = await bulk_change(
        inbox.service, WS, ids, Change(status=ConversationStatus.CLOSED), "usr_a"
    )
    assert all(r.conversation and r.conversation.status == "closed" for r in closed)
    assert [
        c.id
        for c in (
            await inbox.queries.page(
                WS, InboxFilter(tags=["promo"], text="bulk"), me="u", cursor=None, limit=10
            )
        ).items
    ] == [ids[2], ids[0]]  # the search terms survived the whole-document writes
    assert len(await inbox.events("conversation.updated")) == 3
    with pytest.raises(SnoozeNotAhead):
        await bulk_change(inbox.service, WS, ids, Change(snooze_until=T0), "usr_a")


async def test_snooze_wakes_by_time_and_by_a_new_message(inbox: Inbox) -> None:
    a, b = await inbox.message(1, "snooze me"), await inbox.message(2, "and me")
    soon = datetime.now(UTC) + timedelta(seconds=1)
    for conv in (a, b):
        snoozed = await inbox.triage.change(WS, conv, Change(snooze_until=soon), "usr_a")
        assert snoozed.status == "snoozed"
        assert snoozed.snoozed_until is not None
    with pytest.raises(SnoozeNotAhead):
        await inbox.triage.change(WS, a, Change(snooze_until=T0), "usr_a")
    # A new message in b's thread wakes it at once.
    fetched = FetchedMessage(
        network_message_id="m2b",
        kind="comment",
        author_handle="fan2",
        text="hello?",
        network_post_id="p2",
        sent_at=T0 + timedelta(hours=1),
    )
    await inbox.service.ingest(
        workspace_id=WS, account_id="acc_1", network="sandbox", fetched=fetched
    )
    assert (await inbox.queries.get(WS, b)).status == "open"
    snoozer = Snoozer(inbox.service, interval_s=0.2)
    assert await snoozer.wake_due() == 0  # a is not due yet
    await asyncio.sleep(1.2)
    assert await snoozer.wake_due() == 1
    assert await snoozer.wake_due() == 0  # woken once only
    woken = await inbox.queries.get(WS, a)
    assert (woken.status, woken.snoozed_until) == ("open", None)
    updates = await inbox.events("conversation.updated")
    # b was woken by its message, a by the waker; each reopening is announced once.
    assert [(u["change"], u["conversation_id"]) for u in updates] == [
        ("snoozed", a),
        ("snoozed", b),
        ("reopened", b),
        ("reopened", a),
    ]


async def test_a_new_message_reopens_a_closed_thread_and_says_so(inbox: Inbox) -> None:
    conv = await inbox.message(1, "first")
    await inbox.triage.change(WS, conv, Change(status=ConversationStatus.CLOSED), "usr_a")
    fetched = FetchedMessage(
        network_message_id="m1b",
        kind="comment",
        author_handle="fan1",
        text="one more thing",
        network_post_id="p1",
        sent_at=T0 + timedelta(hours=2),
    )
    await inbox.service.ingest(
        workspace_id=WS, account_id="acc_1", network="sandbox", fetched=fetched
    )
    assert (await inbox.queries.get(WS, conv)).status == "open"
    updates = await inbox.events("conversation.updated")
    assert [(u["change"], u["status"], u["actor_id"]) for u in updates] == [
        ("closed", "closed", "usr_a"),
        ("reopened", "open", None),
    ]


async def test_thread_actions_are_requested_and_show_their_outcome(inbox: Inbox) -> None:
    conv = await inbox.message(1, "spam spam")
    record = await inbox.service.actions.act(
        workspace_id=WS, conversation_id=conv, action="hide", actor="usr_a"
    )
    requested = await inbox.events("engagement.requested")
    assert [(r["action"], r["target_network_id"], r["request_id"]) for r in requested] == [
        ("hide", "m1", record.id)
    ]
    with pytest.raises(ActionNotSupported, match="Sandbox does not support private replies"):
        await inbox.service.actions.act(
            workspace_id=WS, conversation_id=conv, action="dm", actor="usr_a", text="hi"
        )
    done = EngagementCompleted.new(
        workspace_id=WS,
        request_id=record.id,
        account_id="acc_1",
        network="sandbox",
        action="hide",
        ok=True,
        network_id="m1",
    )
    await inbox.service.engagement_completed(done, "inbox-test")
    await inbox.service.engagement_completed(done, "inbox-test")  # redelivery: no effect
    [shown] = await inbox.service.actions.of(WS, conv)
    assert (shown.state, shown.action) == ("done", "hide")
    [message] = await inbox.service.messages(WS, conv)
    assert message.moderation == "hidden"


async def test_the_feed_streams_changes_of_one_workspace_and_resumes(inbox: Inbox) -> None:
    feed = ConversationFeed(inbox.service.store, heartbeat_s=0.5, max_s=30)
    seen: list[tuple[str | None, dict[str, Any]]] = []

    async def read(last_id: str | None, want: int) -> None:
        event_id = None
        async for chunk in feed.events(WS, last_id):
            text = chunk.decode()
            if "event: conversation" in text:
                lines = dict(line.split(": ", 1) for line in text.strip().splitlines())
                event_id = lines.get("id")
                seen.append((event_id, json.loads(lines["data"])))
                if len(seen) >= want:
                    return

    reader = asyncio.create_task(read(None, 2))
    await asyncio.sleep(1.0)
    conv = await inbox.message(1, "live one")
    other = InboxStore(inbox.db)  # another workspace's write is not ours to see
    await other.conversations.insert("ws_other", {"_id": f"cnv_{uuid.uuid4().hex}", "x": 1})
    for _ in range(100):  # each event shows the conversation as it is when it is sent
        if seen:
            break
        await asyncio.sleep(0.2)
    await inbox.triage.change(WS, conv, Change(tags=["hot"]), "usr_a")
    await asyncio.wait_for(reader, 20)
    assert [(d["id"], d["tags"]) for _, d in seen] == [(conv, []), (conv, ["hot"])]
    assert all("search_terms" not in d for _, d in seen)
    # Resume after the first event: the second comes again, and nothing before it.
    first_id = seen[0][0]
    seen.clear()
    await asyncio.wait_for(read(first_id, 1), 20)
    assert [d["tags"] for _, d in seen] == [["hot"]]
