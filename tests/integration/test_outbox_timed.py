"""Timed outbox rows on the real broker and database: written ahead, sent at their time.

The scheduler writes ``post.scheduled`` rows before the due instant with a
``not_before``; the relay must hold them until then (in memory when it wrote them, from
the collection otherwise), never let them hold back rows written after them, and send
each once even with two relays or after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from opentelemetry.sdk.trace import TracerProvider
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostScheduled, utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX, OUTBOX_INDEXES, Outbox
from siar.runtime.outbox_relay import OutboxRelay
from siar.runtime.timed_send import TimedProducer

from .conftest import KafkaTools, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

LEAD = timedelta(seconds=2.5)


def scheduled(workspace_id: str, due: datetime) -> PostScheduled:
    return PostScheduled.new(
        workspace_id=workspace_id,
        post_id=f"pst_{uuid.uuid4().hex[:12]}",
        account_id="acc_timed",
        network="sandbox",
        occurrence=due.isoformat(),
        due_at=due,
        text="timed",
    )


def kafka_publish(producer: AIOKafkaProducer) -> Any:
    async def publish(
        *, topic: str, payload: bytes, key: bytes, headers: dict[str, str]
    ) -> Awaitable[Any]:
        encoded = [(name, value.encode()) for name, value in headers.items()]
        delivery: Awaitable[Any] = await producer.send(topic, payload, key=key, headers=encoded)
        return delivery

    return publish


@contextlib.asynccontextmanager
async def relaying(
    outbox: Outbox,
    db: AsyncDatabase[Document],
    producer: AIOKafkaProducer,
    timed: TimedProducer | None = None,
) -> AsyncIterator[OutboxRelay]:
    relay = OutboxRelay(outbox, db, kafka_publish(producer), poll_s=0.2, lease_s=3.0, timed=timed)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 10)


async def records_of(kafka: KafkaTools, workspace_id: str) -> list[ConsumerRecord]:
    records = await kafka.read_topic(PostScheduled.topic, settle_s=1.5, within_s=60)
    return [r for r in records if json.loads(r.value)["workspace_id"] == workspace_id]


def timed_producer(infra: Infra) -> TimedProducer:
    """The producer services give their relay for timed rows (spans recorded here)."""
    return TimedProducer(
        infra.kafka_bootstrap,
        idempotent=infra.idempotent_producer,
        client_id="test-timed",
        tracer_provider=TracerProvider(),
    )


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize("through", ["broker publish", "timed producer"])
async def test_timed_row_waits_for_its_time_without_holding_back_later_rows(
    db: AsyncDatabase[Document],
    producer: AIOKafkaProducer,
    kafka: KafkaTools,
    infra: Infra,
    through: str,
) -> None:
    await ensure_indexes(db, OUTBOX_INDEXES)
    await kafka.create_topics(PostScheduled.topic)
    ws = unique("ws")
    outbox = Outbox(db)
    lateness: list[float] = []
    outbox.on_timed_sent = lambda _topic, _payload, late: lateness.append(late)
    timed_via = timed_producer(infra) if through == "timed producer" else None
    async with relaying(outbox, db, producer, timed_via):
        due = utcnow() + LEAD
        timed = scheduled(ws, due)
        assert await outbox.add_once([timed], not_before=[due]) == 1
        now = scheduled(ws, utcnow())
        await outbox.add_once([now])  # written after the timed row, due at once
        await asyncio.sleep((due - utcnow()).total_seconds() + 1.0)
    records = await records_of(kafka, ws)
    by_id = {json.loads(r.value)["event_id"]: r for r in records}
    assert sorted(by_id) == sorted([str(timed.event_id), str(now.event_id)])
    assert len(records) == 2
    assert by_id[str(timed.event_id)].timestamp >= ms(due)
    assert by_id[str(now.event_id)].timestamp < ms(due)
    if timed_via is not None:
        # The timed producer's record says what it is and carries its "create" span on.
        headers = dict(by_id[str(timed.event_id)].headers)
        assert headers["content-type"] == b"application/json"
        assert "traceparent" in headers
    assert len(lateness) == 1
    assert lateness[0] >= 0.0
    row = await db[OUTBOX].find_one({"_id": str(timed.event_id)})
    assert row is not None
    assert row["published"]


async def test_a_restarted_process_sends_the_timed_rows_a_dead_one_wrote(
    db: AsyncDatabase[Document], producer: AIOKafkaProducer, kafka: KafkaTools
) -> None:
    await ensure_indexes(db, OUTBOX_INDEXES)
    await kafka.create_topics(PostScheduled.topic)
    ws = unique("ws")
    due = utcnow() + LEAD
    events = [scheduled(ws, due) for _ in range(20)]
    # Written by a process whose relay never ran (it died after the write).
    assert await Outbox(db).add_once(events, not_before=[due] * len(events)) == 20
    async with relaying(Outbox(db), db, producer):
        await asyncio.sleep((due - utcnow()).total_seconds() + 1.5)
    records = await records_of(kafka, ws)
    assert sorted(json.loads(r.value)["event_id"] for r in records) == sorted(
        str(e.event_id) for e in events
    )
    assert min(r.timestamp for r in records) >= ms(due)


async def test_two_relays_send_each_timed_row_once_at_its_time(
    db: AsyncDatabase[Document], producer: AIOKafkaProducer, kafka: KafkaTools, infra: Infra
) -> None:
    await ensure_indexes(db, OUTBOX_INDEXES)
    await kafka.create_topics(PostScheduled.topic)
    ws = unique("ws")
    first, second = Outbox(db), Outbox(db)
    due = utcnow() + LEAD
    async with (
        relaying(first, db, producer, timed_producer(infra)),
        relaying(second, db, producer, timed_producer(infra)),
    ):
        mine = [scheduled(ws, due) for _ in range(50)]
        theirs = [scheduled(ws, due) for _ in range(50)]
        await asyncio.gather(
            first.add_once(mine, not_before=[due] * 50),
            second.add_once(theirs, not_before=[due] * 50),
        )
        # Recording again (a recovery after a crash) is a duplicate, not a second send.
        assert await second.add_once(mine, not_before=[due] * 50) == 0
        await asyncio.sleep((due - utcnow()).total_seconds() + 1.5)
    records = await records_of(kafka, ws)
    ids = [json.loads(r.value)["event_id"] for r in records]
    assert len(ids) == 100
    assert sorted(ids) == sorted(str(e.event_id) for e in mine + theirs)
    assert min(r.timestamp for r in records) >= ms(due)
