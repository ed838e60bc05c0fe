"""Inbox ingestion against a real MongoDB: signed webhooks, dedupe, thread order."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_inbox.webhooks import WebhookRejected, WebhookSecrets
from tests.unit.connectors.webhook_fakes import meta_call, meta_signed, page_comment

from .inbox_ingest_app import (
    APP_SECRET,
    PAGE,
    VERIFY,
    Inbox,
    make_inbox,
    rejected,
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
