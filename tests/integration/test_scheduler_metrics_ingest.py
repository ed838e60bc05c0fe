"""The scheduler process learns engagement from metrics.collected on the real topic."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import MetricsCollected, utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_scheduler.domain import PostStatus, TargetStatus
from tests.integration.conftest import ARTIFACTS, KafkaTools, unique
from tests.integration.scheduler_replicas import new_post, replica, seed


def snapshot(ws: str, scope: str, **extra: object) -> MetricsCollected:
    return MetricsCollected.new(
        workspace_id=ws,
        account_id="acc_a",
        network="sandbox",
        scope=scope,
        collected_at=utcnow(),
        **extra,
    )


@pytest.mark.timeout(180)
async def test_post_snapshots_become_engagement_samples(
    infra: Infra, db: AsyncDatabase[Document], kafka: KafkaTools, producer: AIOKafkaProducer
) -> None:
    await kafka.create_topics(MetricsCollected.topic)
    ws = unique("ws")
    published_at = utcnow().replace(microsecond=0)
    post = new_post(ws, published_at, ["acc_a"])
    target = post.targets[0].model_copy(
        update={
            "status": TargetStatus.PUBLISHED,
            "network_post_id": "np_1",
            "published_at": published_at,
        }
    )
    await seed(db, [post.model_copy(update={"targets": [target], "status": PostStatus.PUBLISHED})])
    scheduler = replica(infra, ARTIFACTS / "logs" / "integration", db.name, name=unique("metrics"))
    scheduler.start()
    try:
        scheduler.wait_ready(90)
        events = [
            snapshot(ws, "account", metrics={"followers": 400.0}),
            snapshot(ws, "post", network_post_id="np_1", metrics={"likes": 30.0, "comments": 10.0}),
            snapshot(ws, "post", network_post_id="np_unknown", metrics={"likes": 5.0}),
        ]
        for event in events:
            key = event.partition_key()
            await producer.send_and_wait(event.topic, event.model_dump_json().encode(), key=key)
        deadline = time.monotonic() + 90
        while not await db["post_stats"].find_one({"workspace_id": ws}):
            assert time.monotonic() < deadline, "no engagement sample was recorded"
            await asyncio.sleep(0.5)
    finally:
        scheduler.stop()
    [sample] = await db["post_stats"].find({"workspace_id": ws}).to_list()
    assert sample["account_id"] == "acc_a"
    assert sample["engagement"] == pytest.approx(40 / 400)  # no impressions: per follower
    assert sample["published_ts"] == published_at.timestamp()
