"""The batch consumer of metrics.collected on a real broker and database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import DeadLetter, MetricsCollected, dlq_topic
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.settings import PlatformSettings
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_analytics.collector_schedule import SCHEDULE_INDEXES, CollectorSchedule, Pacing
from siar_analytics.metrics_consumer import subscribe_metrics
from siar_analytics.metrics_ingest import MetricsIngest
from siar_analytics.series import Series
from siar_analytics.series_store import SERIES_INDEXES, SeriesStore
from siar_analytics.settings import Settings

from .conftest import KafkaTools, unique

TOPIC = MetricsCollected.topic
AT = datetime(2026, 4, 6, 9, tzinfo=UTC)


def snapshot(ws: str, minutes: int, followers: float) -> MetricsCollected:
    return MetricsCollected.new(
        workspace_id=ws,
        account_id="acc_b",
        network="sandbox",
        scope="account",
        collected_at=AT + timedelta(minutes=minutes),
        metrics={"followers": followers},
    )


async def test_batches_store_each_snapshot_once_and_dead_letter_only_the_malformed(
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    infra: Infra,
    producer: AIOKafkaProducer,
    kafka: KafkaTools,
) -> None:
    await kafka.create_topics(TOPIC, dlq_topic(TOPIC))
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *SERIES_INDEXES, *SCHEDULE_INDEXES]
    )
    uow = UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded")
    ingest = MetricsIngest(
        series=SeriesStore(db), schedule=CollectorSchedule(db, Pacing()), uow=uow
    )
    settings = Settings(
        consumer_group=unique("siar-it-metrics"),
        metrics_batch=50,
        platform=PlatformSettings(env="test", kafka_bootstrap=infra.kafka_bootstrap),
    )
    ws = unique("ws_batch")
    key = f"{ws}:acc_b".encode()
    events = [snapshot(ws, m, 100.0 + m) for m in range(0, 50, 5)]
    # Out of order, each sent twice, and one record that is not JSON among them.
    order = [*reversed(events), *events]
    headers = [("content-type", b"application/json")]
    for n, event in enumerate(order):
        if n == 7:
            await producer.send(TOPIC, b"{broken", key=key, headers=headers)
        await producer.send(TOPIC, event.model_dump_json().encode(), key=key, headers=headers)
    await producer.flush()

    broker = KafkaBroker(infra.kafka_bootstrap)
    subscribe_metrics(broker, settings, lambda: ingest)
    await broker.start()
    try:
        stored = 0
        async with asyncio.timeout(60):
            while stored < len(events):
                await asyncio.sleep(0.3)
                stored = await db["metric_snapshots"].count_documents({"workspace_id": ws})
    finally:
        await broker.stop()

    assert await db["metric_snapshots"].count_documents({"workspace_id": ws}) == len(events)
    hourly = await Series(db).account_series(
        ws, None, "followers", AT.date(), AT.date(), grain="hour"
    )
    assert [(p.at, p.value) for p in hourly] == [(AT, 145.0)]
    records = await kafka.read_topic(dlq_topic(TOPIC), settle_s=0.5)
    letters = [DeadLetter.model_validate_json(r.value) for r in records if r.key == key]
    assert [(d.payload, d.consumer_group) for d in letters] == [
        ("{broken", f"{settings.consumer_group}-metrics")
    ]
