"""Inbox ingestion against a real MongoDB: signed webhooks, dedupe, order, rules at ingest."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import FetchedMessage
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.x import XConnector
from siar.contracts import EngagementCompleted, utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX, OUTBOX_INDEXES, Outbox
from siar.runtime.problems import install_problem_handlers
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_inbox.api.webhook_routes import router as webhook_router
from siar_inbox.automation import INDEXES as RULE_INDEXES
from siar_inbox.automation import Automation
from siar_inbox.domain import Conversation
from siar_inbox.rules import DAYS, InboxSettings, RuleActions, RuleSpec
from siar_inbox.service import InboxService
from siar_inbox.store import INDEXES, InboxStore
from siar_inbox.webhooks import INDEXES as WEBHOOK_INDEXES
from siar_inbox.webhooks import WebhookReceiver, WebhookRejected, WebhookSecrets
from tests.unit.connectors.webhook_fakes import (
    meta_call,
    meta_signed,
    page_comment,
    x_call,
    x_dm,
    x_signed,
    x_tweet,
)

APP_SECRET, X_SECRET, VERIFY = "meta-app-secret", "x-consumer-secret", "verify-me"
PAGE, X_ME = "9001", "42"


class Inbox:
    """The inbox's ingest path wired as main.py wires it, on a test database."""

    def __init__(self, db: AsyncDatabase[Document], uow: UnitOfWork) -> None:
        self.db = db
        self.automation = Automation(db, cache_s=0)
        self.service = InboxService(store=InboxStore(db), uow=uow, rules=self.automation)
        http = httpx.AsyncClient()
        self.receiver = WebhookReceiver(
            service=self.service,
            connectors={"facebook": FacebookPagesConnector(http), "x": XConnector(http)},
            secrets=WebhookSecrets({"facebook": APP_SECRET, "x": X_SECRET}, VERIFY),
            max_age_s=3600,
            max_bytes=4096,
        )

    async def connect(self, ws: str, account: str, network: str, network_id: str) -> None:
        await self.service.start_polling(
            ws, account, network, "brand", network_account_id=network_id
        )

    async def conversations(self, ws: str) -> list[Conversation]:
        docs = await self.db["conversations"].find({"workspace_id": ws}).to_list()
        return [Conversation.model_validate({**d, "id": d["_id"]}) for d in docs]

    async def events(self, topic: str) -> list[dict[str, Any]]:
        docs = await self.db[OUTBOX].find({"topic": topic}).sort("seq", 1).to_list()
        return [json.loads(d["payload"]) for d in docs]


@pytest.fixture
async def inbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Inbox:
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *INDEXES, *RULE_INDEXES, *WEBHOOK_INDEXES]
    )
    existing = set(await db.list_collection_names())
    for name in {"messages", "conversations", "auto_replies", "webhook_deliveries"} - existing:
        await db.create_collection(name)  # nx-27017: see test_runtime_uow
    return Inbox(db, UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded"))


@pytest.fixture
async def client(inbox: Inbox) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(webhook_router)
    app.state.webhooks = inbox.receiver
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox") as http:
        yield http


def closed_today(zone: str) -> dict[str, list[str]]:
    """Office hours on another weekday only: outside them all of today."""
    other = DAYS[(utcnow().astimezone(ZoneInfo(zone)).weekday() + 3) % 7]
    return {other: ["09:00", "17:00"]}


def outcome(request: dict[str, Any]) -> EngagementCompleted:
    """The publisher's answer to an engagement request: done."""
    return EngagementCompleted.new(
        workspace_id=request["workspace_id"],
        request_id=request["request_id"],
        account_id=request["account_id"],
        network=request["network"],
        action=request["action"],
        ok=True,
        network_id="net_1",
    )


def rejected(network: str, reason: str) -> float:
    labels = {"network": network, "reason": reason}
    return REGISTRY.get_sample_value("siar_inbox_webhooks_rejected_total", labels) or 0.0


async def test_signed_meta_call_is_stored_once_threaded_and_triaged(
    inbox: Inbox, client: httpx.AsyncClient
) -> None:
    await inbox.connect("ws1", "acc_fb", "facebook", PAGE)
    now = utcnow().replace(microsecond=0)
    later = page_comment(PAGE, "c2", "Pelayanan sangat lambat, kecewa 😡", now)
    earlier = page_comment(
        PAGE, "c1", "Halo kak, kapan restock? 日本語", now - timedelta(minutes=5)
    )
    # The network sends the newer comment first, then the older one, then the newer again.
    for entries in ([later], [earlier], [later, earlier]):
        body, headers = meta_signed(meta_call("page", *entries), APP_SECRET)
        response = await client.post("/webhooks/facebook", content=body, headers=headers)
        assert response.status_code == 200, response.text
    assert response.json() == {"stored": 0, "duplicates": 2, "unknown_accounts": []}

    [conv] = await inbox.conversations("ws1")
    messages = await inbox.service.store.messages_of("ws1", conv.id)
    assert [m.network_message_id for m in messages] == ["c1", "c2"]  # by the network's time
    assert messages[0].text == "Halo kak, kapan restock? 日本語"
    assert (messages[1].sentiment, messages[1].language, messages[1].priority) == (
        "negative",
        "id",
        "high",
    )
    assert (conv.message_count, conv.priority, conv.sentiment) == (2, "high", "negative")
    received = await inbox.events("message.received")
    assert [e["network_message_id"] for e in received] == ["c2", "c1"]
    assert (received[0]["sentiment"], received[0]["language"]) == ("negative", "id")


async def test_a_batch_keeps_new_messages_and_drops_repeats(inbox: Inbox) -> None:
    await inbox.connect("ws1", "acc_fb", "facebook", PAGE)
    now = utcnow()
    first = page_comment(PAGE, "c1", "first", now)
    body, headers = meta_signed(meta_call("page", first), APP_SECRET)
    assert (await inbox.receiver.receive("facebook", headers, body)).stored == 1
    again = page_comment(PAGE, "c2", "second", now + timedelta(seconds=1))
    body, headers = meta_signed(meta_call("page", first, again, again), APP_SECRET)
    receipt = await inbox.receiver.receive("facebook", headers, body)
    assert (receipt.stored, receipt.duplicates) == (1, 2)
    [conv] = await inbox.conversations("ws1")
    assert (conv.message_count, conv.last_message_text) == (2, "second")


async def test_forged_unsigned_replayed_and_stale_calls_are_refused(
    inbox: Inbox, client: httpx.AsyncClient
) -> None:
    await inbox.connect("ws1", "acc_fb", "facebook", PAGE)
    body, headers = meta_signed(
        meta_call("page", page_comment(PAGE, "c9", "hi", utcnow())), APP_SECRET
    )
    before = {
        r: rejected("facebook", r) for r in ("unsigned", "bad-signature", "replayed", "stale")
    }

    unsigned = await client.post("/webhooks/facebook", content=body)
    forged = await client.post(
        "/webhooks/facebook", content=body, headers={"x-hub-signature-256": "sha256=" + "0" * 64}
    )
    tampered = await client.post("/webhooks/facebook", content=body + b" ", headers=headers)
    assert (unsigned.status_code, forged.status_code, tampered.status_code) == (401, 401, 401)
    assert unsigned.headers["content-type"] == "application/problem+json"
    assert unsigned.json()["type"].endswith("webhook-unsigned")
    assert forged.json()["type"].endswith("webhook-bad-signature")

    assert (
        await client.post("/webhooks/facebook", content=body, headers=headers)
    ).status_code == 200
    replay = await client.post("/webhooks/facebook", content=body, headers=headers)
    assert replay.status_code == 403
    assert replay.json()["type"].endswith("webhook-replayed")

    old = page_comment(PAGE, "c10", "old news", utcnow() - timedelta(days=3))
    stale_body, stale_headers = meta_signed(meta_call("page", old), APP_SECRET)
    stale = await client.post("/webhooks/facebook", content=stale_body, headers=stale_headers)
    assert stale.status_code == 403
    after = {r: rejected("facebook", r) for r in before}
    assert {r: after[r] - before[r] for r in before} == {
        "unsigned": 1,
        "bad-signature": 2,
        "replayed": 1,
        "stale": 1,
    }
    assert len(await inbox.conversations("ws1")) == 1


async def test_unknown_accounts_huge_bodies_and_unknown_networks(
    inbox: Inbox, client: httpx.AsyncClient
) -> None:
    body, headers = meta_signed(
        meta_call("page", page_comment("555", "c1", "hi", utcnow())), APP_SECRET
    )
    labels = {"network": "facebook"}
    counted = REGISTRY.get_sample_value("siar_inbox_webhook_unknown_accounts_total", labels) or 0
    unknown = await client.post("/webhooks/facebook", content=body, headers=headers)
    assert unknown.status_code == 404
    after = REGISTRY.get_sample_value("siar_inbox_webhook_unknown_accounts_total", labels)
    assert after == counted + 1
    assert unknown.json()["accounts"] == ["555"]
    assert unknown.json()["type"].endswith("unknown-account")
    await inbox.connect("ws1", "acc_late", "facebook", "555")
    # Not remembered as delivered: the network's retry succeeds once the account is connected.
    retried = await client.post("/webhooks/facebook", content=body, headers=headers)
    assert retried.json()["stored"] == 1

    huge = b"{" + b" " * 10_000 + b"}"
    declared = await client.post("/webhooks/facebook", content=huge, headers=headers)
    assert declared.status_code == 413

    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000  # no Content-Length: cut off while reading

    chunked = await client.post("/webhooks/facebook", content=streamed(), headers=headers)
    assert chunked.status_code == 413

    nowhere = await client.post("/webhooks/myspace", content=b"{}", headers=headers)
    assert nowhere.status_code == 404
    garbage, garbage_headers = b"not json", meta_signed({}, APP_SECRET)[1]
    garbage_headers["x-hub-signature-256"] = meta_signed_raw(garbage)
    malformed = await client.post("/webhooks/facebook", content=garbage, headers=garbage_headers)
    assert malformed.status_code == 400


def meta_signed_raw(body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


async def test_handshakes(client: httpx.AsyncClient) -> None:
    meta = await client.get(
        "/webhooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert (meta.status_code, meta.text) == (200, "1158201444")
    wrong = await client.get(
        "/webhooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403
    crc = await client.get("/webhooks/x", params={"crc_token": "abc"})
    assert crc.status_code == 200
    assert crc.json()["response_token"].startswith("sha256=")


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


async def test_receiver_refuses_unconfigured_networks(inbox: Inbox) -> None:
    inbox.receiver.secrets = WebhookSecrets({}, "")
    with pytest.raises(WebhookRejected) as caught:
        inbox.receiver.verify("facebook", {}, b"{}")
    assert (caught.value.status, caught.value.reason) == (403, "not-configured")


async def test_old_deliveries_are_forgotten(inbox: Inbox) -> None:
    await inbox.connect("ws1", "acc_fb", "facebook", PAGE)
    old = (utcnow() - timedelta(hours=2)).timestamp()  # max_age_s is one hour here
    await inbox.db["webhook_deliveries"].insert_one({"_id": "old", "at_ts": old})
    body, headers = meta_signed(
        meta_call("page", page_comment(PAGE, "c1", "hi", utcnow())), APP_SECRET
    )
    await inbox.receiver.receive("facebook", headers, body)
    kept = await inbox.db["webhook_deliveries"].find({}, {"_id": 1}).to_list()
    assert len(kept) == 1  # the new call's, not the old one
    assert kept[0]["_id"] != "old"


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
