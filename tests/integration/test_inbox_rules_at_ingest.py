"""Workspace rules at ingest against a real MongoDB: tags, hides, auto-replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import FetchedMessage
from siar.contracts import utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_inbox.rules import InboxSettings, RuleActions, RuleSpec
from tests.unit.connectors.webhook_fakes import (
    meta_call,
    meta_signed,
    page_comment,
    x_call,
    x_dm,
    x_signed,
    x_tweet,
)

from .inbox_ingest_app import (
    APP_SECRET,
    PAGE,
    X_ME,
    X_SECRET,
    Inbox,
    closed_today,
    make_inbox,
    outcome,
    webhook_client,
)


@pytest.fixture
async def inbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Inbox:
    return await make_inbox(mongo, db, infra)


@pytest.fixture
async def client(inbox: Inbox) -> AsyncIterator[httpx.AsyncClient]:
    async with webhook_client(inbox) as http:
        yield http


async def test_x_call_for_two_workspaces_and_rules(inbox: Inbox, client: httpx.AsyncClient) -> None:
    # The same X account connected to two workspaces: each gets the mention.
    await inbox.connect("ws1", "acc_x1", "x", X_ME)
    await inbox.connect("ws2", "acc_x2", "x", X_ME)
    await inbox.automation.create_rule(
        "ws1",
        RuleSpec(
            name="refunds",
            keywords=["refund", "uang kembali"],
            actions=RuleActions(tags=["Billing"], assign="usr_billing", priority="urgent"),
        ),
        "usr_admin",
    )
    await inbox.automation.create_rule(
        "ws1",
        RuleSpec(name="spam", regex=r"cheap\s+followers", actions=RuleActions(hide=True)),
        "usr_admin",
    )
    tweets = [
        x_tweet(X_ME, "801", "@brand I want a REFUND now", utcnow(), followers=50_000),
        x_tweet(X_ME, "802", "buy cheap   followers at spam.example", utcnow(), reply_to="700"),
    ]
    body, headers = x_signed(x_call(X_ME, tweets=tweets), X_SECRET)
    response = await client.post("/webhooks/x", content=body, headers=headers)
    assert response.json() == {"stored": 4, "duplicates": 0, "unknown_accounts": []}

    convs = {c.network_post_id: c for c in await inbox.conversations("ws1")}
    refund = convs["801"]
    assert (refund.tags, refund.assignee, refund.priority, refund.influencer) == (
        ["billing"],
        "usr_billing",
        "urgent",
        True,
    )
    other = await inbox.conversations("ws2")
    assert all(c.tags == [] and c.assignee is None for c in other)  # rules are per workspace
    hides = [e for e in await inbox.events("engagement.requested") if e["action"] == "hide"]
    assert [(h["target_network_id"], h["workspace_id"]) for h in hides] == [("802", "ws1")]
    # The publisher's outcome shows on the thread as for a person's hide.
    await inbox.service.engagement_completed(outcome(hides[0]), "test")
    spam = await inbox.db["messages"].find_one({"network_message_id": "802", "workspace_id": "ws1"})
    assert spam is not None
    assert spam["moderation"] == "hidden"


async def test_auto_reply_outside_office_hours_once_per_period(inbox: Inbox) -> None:
    await inbox.connect("ws1", "acc_fb", "facebook", PAGE)
    # Open on another weekday only: all of today is outside office hours.
    await inbox.automation.put_settings(
        "ws1", InboxSettings(timezone="Asia/Jakarta", office_hours=closed_today("Asia/Jakarta"))
    )
    await inbox.automation.create_rule(
        "ws1", RuleSpec(name="away", actions=RuleActions(auto_reply="We reply from 09:00 WIB")), "u"
    )
    now = utcnow()
    for i in range(3):
        comment = page_comment(PAGE, f"c{i}", f"question {i}", now + timedelta(seconds=i))
        body, headers = meta_signed(meta_call("page", comment), APP_SECRET)
        await inbox.receiver.receive("facebook", headers, body)
    replies = [e for e in await inbox.events("engagement.requested") if e["action"] == "reply"]
    assert [(r["text"], r["target_network_id"]) for r in replies] == [
        ("We reply from 09:00 WIB", "c0")
    ]
    await inbox.service.engagement_completed(outcome(replies[0]), "test")
    [conv] = await inbox.conversations("ws1")
    thread = await inbox.service.store.messages_of("ws1", conv.id)
    assert [(m.direction, m.delivery) for m in thread if m.direction == "outbound"] == [
        ("outbound", "sent")
    ]
    assert conv.message_count == 3  # our auto-reply is not an incoming message


async def test_a_dm_auto_reply_is_a_recorded_dm_whose_outcome_shows(inbox: Inbox) -> None:
    await inbox.connect("ws1", "acc_x", "x", X_ME)
    await inbox.automation.put_settings("ws1", InboxSettings(office_hours=closed_today("UTC")))
    away = RuleActions(auto_reply="Kami balas besok pagi 🙏")
    await inbox.automation.create_rule(
        "ws1", RuleSpec(name="away", kinds=["dm"], actions=away), "u"
    )
    body, headers = x_signed(
        x_call(X_ME, dms=[x_dm(X_ME, "9001", "77", "halo min", utcnow())]), X_SECRET
    )
    assert (await inbox.receiver.receive("x", headers, body)).stored == 1
    [dm] = await inbox.events("engagement.requested")
    assert (dm["action"], dm["target_network_id"], dm["text"]) == ("dm", "9001", away.auto_reply)
    await inbox.service.engagement_completed(outcome(dm), "test")
    [conv] = await inbox.conversations("ws1")
    ours = [
        m
        for m in await inbox.service.store.messages_of("ws1", conv.id)
        if m.direction == "outbound"
    ]
    assert [(m.kind, m.delivery, m.text) for m in ours] == [("dm", "sent", away.auto_reply)]


async def test_no_auto_reply_to_messages_written_before_closing(inbox: Inbox) -> None:
    await inbox.connect("ws1", "acc_fb", "facebook", PAGE)
    await inbox.automation.put_settings("ws1", InboxSettings(office_hours=closed_today("UTC")))
    away = RuleActions(auto_reply="Back soon")
    await inbox.automation.create_rule("ws1", RuleSpec(name="away", actions=away), "u")
    closed_since = InboxSettings(office_hours=closed_today("UTC")).closed_since(utcnow())
    assert closed_since is not None
    # As the first poll of a newly connected account brings history.
    old = FetchedMessage(
        network_message_id="c_old",
        kind="comment",
        author_handle="u1",
        text="from before",
        network_post_id=f"{PAGE}_100",
        sent_at=closed_since - timedelta(minutes=5),
    )
    stored = await inbox.service.ingest(
        workspace_id="ws1", account_id="acc_fb", network="facebook", fetched=old
    )
    assert stored is not None
    assert await inbox.events("engagement.requested") == []


async def test_rules_ask_only_for_what_the_network_can_do(inbox: Inbox) -> None:
    spam = RuleSpec(name="spam", keywords=["promo"], actions=RuleActions(hide=True, tags=["spam"]))
    await inbox.automation.create_rule("ws1", spam, "u")
    fetched = FetchedMessage(
        network_message_id="li_1",
        kind="comment",
        author_handle="someone",
        text="big promo here",
        network_post_id="urn:li:share:1",
        sent_at=utcnow(),
    )
    # LinkedIn offers no hiding of comments: the rule tags, and asks for nothing.
    stored = await inbox.service.ingest(
        workspace_id="ws1", account_id="acc_li", network="linkedin", fetched=fetched
    )
    assert stored is not None
    assert stored.tags == ["spam"]
    assert await inbox.events("engagement.requested") == []
