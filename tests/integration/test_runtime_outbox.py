"""The transactional outbox and its relay against a real MongoDB and a real Kafka."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any, ClassVar

import pytest
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostScheduled, utcnow
from siar.devstack import Infra
from siar.runtime.kafka import kafka_publisher
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox, OutboxRelay
from siar.runtime.uow import UnitOfWork

from .conftest import KafkaTools, unique


class Boom(Exception):
    """The work of a transaction failing on purpose."""


def event_type_on(topic_name: str) -> type[PostScheduled]:
    """PostScheduled routed to a topic of this test's own."""

    class ProbeScheduled(PostScheduled):
        topic: ClassVar[str] = topic_name

    return ProbeScheduled


def scheduled(
    model: type[PostScheduled], workspace_id: str, n: int, account_id: str = "acct-1"
) -> PostScheduled:
    """A valid event, numbered so that order can be checked."""
    return model.new(
        event_type="post.scheduled",
        workspace_id=workspace_id,
        post_id=f"post-{n:04d}",
        account_id=account_id,
        network="sandbox",
        occurrence="2030-01-01T09:00:00+00:00",
        due_at=utcnow(),
        text=f"post number {n}",
    )


async def never_publish(
    *, topic: str, payload: bytes, key: bytes, headers: dict[str, str]
) -> Awaitable[Any]:
    """A Publish for relays that must not get as far as publishing."""
    raise AssertionError(f"unexpected publish to {topic}")


async def test_an_aborted_transaction_leaves_no_outbox_document(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    await ensure_indexes(db, OUTBOX_INDEXES)  # as a service's start does
    outbox = Outbox(db)
    uow = UnitOfWork(mongo, db, outbox)
    event = scheduled(PostScheduled, unique("ws"), 1)

    async def work(session: AsyncClientSession) -> None:
        await db["posts"].insert_one({"_id": "p1"}, session=session)
        await outbox.add(event, session=session)
        # Written inside the transaction, so that the abort below is what removes it.
        assert await outbox.collection.count_documents({}, session=session) == 1
        raise Boom

    with pytest.raises(Boom):
        await uow.run(work)

    assert await outbox.collection.count_documents({}) == 0
    assert await db["posts"].find_one({"_id": "p1"}) is None


async def test_a_committed_transaction_keeps_its_outbox_document(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document]
) -> None:
    outbox = Outbox(db)
    uow = UnitOfWork(mongo, db, outbox)
    event = scheduled(PostScheduled, unique("ws"), 1)

    async def work(session: AsyncClientSession) -> str:
        await db["posts"].insert_one({"_id": "p1"}, session=session)
        await outbox.add(event, session=session)
        return "done"

    assert await uow.run(work) == "done"

    doc = await outbox.collection.find_one({"_id": str(event.event_id)})
    assert doc is not None
    assert doc["topic"] == "post.scheduled"
    assert bytes(doc["key"]) == f"{event.workspace_id}:acct-1".encode()
    assert PostScheduled.model_validate_json(bytes(doc["payload"])) == event
    assert doc["workspace_id"] == event.workspace_id
    assert doc["published"] is False
    assert await db["posts"].count_documents({}) == 1
    # The commit woke the relay: waiting returns at once instead of after 5 s.
    await asyncio.wait_for(outbox.wait(5.0), timeout=1.0)


async def test_relay_publishes_one_keys_events_in_write_order_exactly_once(
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    infra: Infra,
    kafka: KafkaTools,
) -> None:
    topic = unique("it.outbox")
    await kafka.create_topics(topic, partitions=3)
    await ensure_indexes(db, OUTBOX_INDEXES)
    model = event_type_on(topic)
    workspace = unique("ws")
    events = [scheduled(model, workspace, n) for n in range(300)]
    outbox = Outbox(db)

    async def write(session: AsyncClientSession) -> None:
        for event in events:
            await outbox.add(event, session=session)

    await UnitOfWork(mongo, db, outbox).run(write)

    broker = KafkaBroker(
        infra.kafka_bootstrap, acks="all", enable_idempotence=infra.idempotent_producer
    )
    await broker.start()
    try:
        relay = OutboxRelay(outbox, db, kafka_publisher(lambda: broker))
        assert await relay.relay_once() == 300
        assert await relay.relay_once() == 0
        assert relay.published_total == 300
    finally:
        await broker.stop()

    records = await kafka.read_topic(topic)
    assert len(records) == 300
    assert len({r.partition for r in records}) == 1, "one key must stay on one partition"
    assert [json.loads(r.value)["event_id"] for r in records] == [str(e.event_id) for e in events]
    assert {r.key for r in records} == {f"{workspace}:acct-1".encode()}
    assert all(dict(r.headers)["content-type"] == b"application/json" for r in records)
    assert await outbox.collection.count_documents({"published": False}) == 0
    assert (
        await outbox.collection.count_documents({"published": True, "published_at": {"$ne": None}})
        == 300
    )


async def test_one_relay_holds_the_lease_until_it_expires(db: AsyncDatabase[Document]) -> None:
    outbox = Outbox(db)
    first = OutboxRelay(outbox, db, never_publish, lease_s=0.5)
    second = OutboxRelay(outbox, db, never_publish, lease_s=0.5)

    assert await first._hold_lease()
    assert not await second._hold_lease()
    assert await first._hold_lease(), "the holder renews its own lease"
    assert not await second._hold_lease()

    await asyncio.sleep(0.7)  # the holder stops renewing: its lease lapses

    assert await second._hold_lease()
    assert not await first._hold_lease()
    lease = await db["outbox_leases"].find_one({"_id": "relay"})
    assert lease is not None
    assert lease["owner"] == second.owner
