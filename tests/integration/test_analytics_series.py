"""Metric snapshots and their roll-ups against a real MongoDB (nx-27017 or external)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import MetricsCollected
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_analytics.collector_schedule import SCHEDULE_INDEXES, CollectorSchedule, Pacing
from siar_analytics.metrics_ingest import MetricsIngest
from siar_analytics.series import Series
from siar_analytics.series_store import SERIES_INDEXES, RollupConflict, SeriesStore

WS = "ws_series"
DAY = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
async def ingest(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> MetricsIngest:
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *SERIES_INDEXES, *SCHEDULE_INDEXES]
    )
    uow = UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded")
    return MetricsIngest(series=SeriesStore(db), schedule=CollectorSchedule(db, Pacing()), uow=uow)


def snapshot(at: datetime, metrics: dict[str, float], **extra: object) -> MetricsCollected:
    return MetricsCollected.new(
        workspace_id=WS,
        account_id=str(extra.pop("account_id", "acc_1")),
        network="sandbox",
        scope=extra.pop("scope", "account"),
        collected_at=at,
        metrics=metrics,
        **extra,
    )


async def test_late_duplicate_and_out_of_order_snapshots_keep_the_newest_values(
    ingest: MetricsIngest, db: AsyncDatabase[Document]
) -> None:
    events = [
        snapshot(DAY + timedelta(hours=h, minutes=m), {"followers": 1000 + 10 * h + m})
        for h in range(3)
        for m in (5, 35)
    ]
    partial = snapshot(DAY + timedelta(hours=2, minutes=50), {"reach": 7.0}, partial=True)
    arrivals = [*events, partial, *events[:3]]
    random.Random(7).shuffle(arrivals)
    for event in arrivals:
        await ingest.record(event)
    # A redelivered event is skipped; a repeated snapshot under a new id changes nothing.
    assert not await ingest.record(events[0])
    again = events[-1].model_copy(update={"event_id": partial.event_id.__class__(int=1)})
    await ingest.record(again)

    series = Series(db)
    hourly = await series.account_series(
        WS, ["acc_1"], "followers", DAY.date(), DAY.date(), grain="hour"
    )
    assert [(p.at.hour, p.value) for p in hourly] == [(0, 1035), (1, 1045), (2, 1055)]
    daily = await series.account_series(WS, None, "followers", DAY.date(), DAY.date())
    assert [(p.at, p.value, p.partial) for p in daily] == [(DAY, 1055.0, True)]
    reach = await series.account_series(WS, None, "reach", DAY, DAY + timedelta(days=1))
    assert [p.value for p in reach] == [7.0]
    # Metrics a partial snapshot lacked are absent, never zero.
    assert await series.account_series(WS, None, "views", DAY.date(), DAY.date()) == []
    stored = await db["metric_snapshots"].count_documents({"workspace_id": WS})
    assert stored == len(events) + 2


async def test_post_latest_and_audience_reads(
    ingest: MetricsIngest, db: AsyncDatabase[Document]
) -> None:
    published = DAY - timedelta(days=1)
    for hours, likes in ((5, 10.0), (30, 25.0), (20, 21.0)):
        await ingest.record(
            snapshot(
                published + timedelta(hours=hours),
                {"likes": likes, "impressions": likes * 20},
                scope="post",
                network_post_id="sbxpost_1",
                post_id="pst_1",
                published_at=published,
            )
        )
    audience = {"age": {"18-24": 0.3, "25-34": 0.7}, "country": {"ID": 1.0}}
    await ingest.record(snapshot(DAY, {"followers": 5.0}, dimensions=audience))
    later = {"age": {"18-24": 0.4, "25-34": 0.6}}
    await ingest.record(snapshot(DAY + timedelta(days=40), {"followers": 6.0}, dimensions=later))

    series = Series(db)
    posts = await series.post_metrics_latest(WS, ["acc_1"], since=DAY - timedelta(days=2))
    assert [(p.network_post_id, p.post_id, p.metrics["likes"]) for p in posts] == [
        ("sbxpost_1", "pst_1", 25.0)
    ]
    assert posts[0].published_at == published
    assert await series.post_metrics_latest(WS, since=DAY + timedelta(days=3)) == []

    now = await series.audience(WS, "acc_1")
    assert now is not None
    assert now.dimensions == later
    then = await series.audience(WS, "acc_1", DAY + timedelta(days=3))
    assert then is not None
    assert then.dimensions == audience
    assert await series.audience(WS, "acc_1", DAY - timedelta(days=1)) is None


async def test_a_rollup_changed_by_another_consumer_meanwhile_is_a_conflict_not_a_lost_update(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> None:
    await ensure_indexes(db, [*SERIES_INDEXES])

    class Raced(SeriesStore):
        """Another consumer writes the same roll-ups between our read and our write."""

        async def _write(self, writes: list[ReplaceOne[Document]], s: AsyncClientSession) -> None:
            await self.buckets.raw.update_many({}, {"$inc": {"rev": 1}})
            await super()._write(writes, s)

    first = snapshot(DAY, {"followers": 1.0})
    async with mongo.start_session() as session:
        assert await SeriesStore(db).record(first, session) == 1
    later = snapshot(DAY + timedelta(minutes=5), {"followers": 2.0})
    with pytest.raises(RollupConflict):
        async with mongo.start_session() as session:
            await Raced(db).record(later, session)
    # A document that did not exist yet collides too: someone created it meanwhile.
    other_day = snapshot(DAY + timedelta(days=3), {"followers": 3.0})

    class Created(SeriesStore):
        async def _write(self, writes: list[ReplaceOne[Document]], s: AsyncClientSession) -> None:
            new_hour = next(w._filter["_id"] for w in writes if "|hour|" in w._filter["_id"])
            await self.buckets.raw.insert_one({"_id": new_hour, "rev": 1})
            await super()._write(writes, s)

    with pytest.raises(RollupConflict):
        async with mongo.start_session() as session:
            await Created(db).record(other_day, session)
