"""One Kafka + MongoDB for the whole session, and helpers that keep tests apart."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.devstack import Infra, start_infra
from siar.runtime.mongo import Document, create_mongo_client

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def unique(prefix: str) -> str:
    """A name no other test (or earlier run against an external stack) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """External URLs, testcontainers or the embedded pair: one for the session."""
    log_dir = ARTIFACTS / "logs" / "integration"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = start_infra(tmp_path_factory.mktemp("integration"), log_dir=log_dir)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
async def mongo(infra: Infra) -> AsyncIterator[AsyncMongoClient[Document]]:
    """The runtime's own MongoDB client factory, pointed at the session's server."""
    client = create_mongo_client(infra.mongodb_url, app_name="siar-integration-tests")
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def db(mongo: AsyncMongoClient[Document]) -> AsyncIterator[AsyncDatabase[Document]]:
    """A database of this test's own, dropped afterwards."""
    database = mongo[unique("siar_it")]
    try:
        yield database
    finally:
        await mongo.drop_database(database.name)


@pytest.fixture(scope="session")
async def producer(infra: Infra) -> AsyncIterator[AIOKafkaProducer]:
    """A plain aiokafka producer, configured as the platform's producers are."""
    client = AIOKafkaProducer(
        bootstrap_servers=infra.kafka_bootstrap,
        acks="all",
        enable_idempotence=infra.idempotent_producer,
    )
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


class KafkaTools:
    """Admin and read-back helpers bound to the session's Kafka."""

    def __init__(self, infra: Infra) -> None:
        self.bootstrap = infra.kafka_bootstrap

    async def create_topics(self, *names: str, partitions: int = 1) -> None:
        """Create topics up front (an existing one is fine), so no test races auto-creation."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            for name in names:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()

    async def read_topic(
        self, topic: str, *, settle_s: float = 1.0, within_s: float = 20.0
    ) -> list[ConsumerRecord]:
        """Every record on ``topic``, read without a consumer group until ``settle_s`` of quiet.

        Quiet, not the end offsets: Tansu's memory storage moves a partition's high
        watermark by one per record batch, not per record, so end offsets undercount.
        """
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            await consumer.topics()  # refresh metadata: the topic may be new
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            records: list[ConsumerRecord] = []
            async with asyncio.timeout(within_s):
                while batches := await consumer.getmany(*tps, timeout_ms=int(settle_s * 1000)):
                    for batch in batches.values():
                        records.extend(batch)
            return records
        finally:
            await consumer.stop()


@pytest.fixture(scope="session")
def kafka(infra: Infra) -> KafkaTools:
    """Topic creation and read-back against the session's Kafka."""
    return KafkaTools(infra)


@contextlib.asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[str]:
    """Serve an ASGI app on a real loopback socket (streams are not buffered, unlike
    httpx's ASGITransport) for the block; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn offers no event for "listening"
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
