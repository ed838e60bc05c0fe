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
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.outbox_relay import RELAY_LEASE, OutboxRelay
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
    lease = await db["outbox_leases"].find_one({"_id": RELAY_LEASE})
    assert lease is not None
    assert lease["holder"] == second.leases.holder


async def _relay_with_broker(
    infra: Infra, outbox: Outbox, db: AsyncDatabase[Document], publish_wrap: Any = None
) -> tuple[KafkaBroker, OutboxRelay]:
    broker = KafkaBroker(
        infra.kafka_bootstrap, acks="all", enable_idempotence=infra.idempotent_producer
    )
    await broker.start()
    publish = kafka_publisher(lambda: broker)
    return broker, OutboxRelay(outbox, db, publish_wrap(publish) if publish_wrap else publish)


async def test_a_failed_delivery_mid_batch_leaves_it_and_the_rest_pending(
    db: AsyncDatabase[Document], infra: Infra, kafka: KafkaTools
) -> None:
    topic = unique("it.outbox.fail")
    await kafka.create_topics(topic)
    await ensure_indexes(db, OUTBOX_INDEXES)
    model = event_type_on(topic)
    events = [scheduled(model, unique("ws"), n) for n in range(100)]
    outbox = Outbox(db)
    await outbox.add_once(events)
    outbox.take_fresh()  # read back from the collection, as another process's rows are

    def failing_41st(publish: Any) -> Any:
        calls = 0

        async def wrapped(**record: Any) -> Awaitable[Any]:
            nonlocal calls
            calls += 1
            delivery = await publish(**record)
            if calls != 41:
                return delivery
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(OSError("broker went away"))
            return failed

        return wrapped

    broker, relay = await _relay_with_broker(infra, outbox, db, failing_41st)
    try:
        with pytest.raises(OSError, match="broker went away"):
            await relay.relay_once()
        pending = await outbox.collection.find({"published": False}, sort=[("seq", 1)]).to_list()
        assert [d["_id"] for d in pending] == [str(e.event_id) for e in events[40:]]
        assert relay.published_total == 40
        retry = OutboxRelay(outbox, db, kafka_publisher(lambda: broker))
        assert await retry.drain() == 60
    finally:
        await broker.stop()
    assert await outbox.collection.count_documents({"published": False}) == 0
    ids = [json.loads(r.value)["event_id"] for r in await kafka.read_topic(topic)]
    # Records after the failed one may reach the topic twice (consumers deduplicate on
    # event_id), but each appears, and the first 40 exactly once and in order.
    assert ids[:40] == [str(e.event_id) for e in events[:40]]
    assert set(ids) == {str(e.event_id) for e in events}


async def test_rows_handed_over_in_memory_go_out_once_after_older_pending_rows(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra, kafka: KafkaTools
) -> None:
    topic = unique("it.outbox.fresh")
    await kafka.create_topics(topic)
    await ensure_indexes(db, OUTBOX_INDEXES)
    model = event_type_on(topic)
    workspace = unique("ws")
    events = [scheduled(model, workspace, n) for n in range(40)]
    outbox = Outbox(db)

    async def older(session: AsyncClientSession) -> None:
        await outbox.add_many(events[:10], session=session)  # not handed over

    await UnitOfWork(mongo, db, outbox).run(older)
    assert await outbox.add_once(events[10:20]) == 10
    assert await outbox.add_once(events[10:20]) == 0, "recorded once"
    broker, relay = await _relay_with_broker(infra, outbox, db)
    try:
        # Older rows are pending: the handed-over ones wait and go out in write order.
        assert await relay.drain() == 20
        assert await outbox.add_once(events[20:30]) == 10
        # A read that found the new rows before they were handed over...
        assert await relay.relay_once() == 10
        # ...keeps the hand-off from sending them a second time.
        assert await relay.drain() == 0
        assert await outbox.add_once(events[30:]) == 10
        assert await relay.drain() == 10  # nothing older pending: sent from memory
    finally:
        await broker.stop()
    ids = [json.loads(r.value)["event_id"] for r in await kafka.read_topic(topic)]
    assert ids == [str(e.event_id) for e in events]
    assert await outbox.collection.count_documents({"published": False}) == 0
