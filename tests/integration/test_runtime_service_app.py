"""A minimal service built with ``create_service_app``, run for real: HTTP ops, Kafka, DLQ.

One app (one consumer-group join, ~3 s on Tansu) serves every test but the last,
which starts its own to watch it shut down. ``subscribe_events`` consumes the real
``post.scheduled`` topic, so handlers look only at this run's workspace, and
dead letters are told apart by their key and consumer group.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import DeadLetter, PostScheduled, dlq_topic, utcnow
from siar.devstack import Infra
from siar.runtime.app import Runtime, create_service_app
from siar.runtime.kafka import subscribe_events
from siar.runtime.mongo import Document
from siar.runtime.settings import PlatformSettings, ServiceSettings, service_config

from .conftest import KafkaTools, unique

TOPIC = PostScheduled.topic
DLQ = dlq_topic(TOPIC)
WAIT_S = 30.0
"""Upper bound for a message to arrive; the first one waits for the group join."""


class ProbeSettings(ServiceSettings):
    """Settings of the probe service."""

    model_config = service_config("SIAR_PROBE_")


def probe_settings(infra: Infra, **overrides: float) -> ProbeSettings:
    """Settings on the session's stack, with a database and group of the caller's own."""
    return ProbeSettings(
        database=unique("siar_it_probe"),
        consumer_group=unique("siar-it-probe"),
        platform=PlatformSettings(
            env="test",
            kafka_bootstrap=infra.kafka_bootstrap,
            mongodb_url=infra.mongodb_url,
            kafka_idempotent_producer=infra.idempotent_producer,
        ),
        **overrides,
    )


def scheduled(workspace_id: str, post_id: str, account_id: str = "acct-1") -> PostScheduled:
    """A valid event for the probe's handler."""
    return PostScheduled.new(
        workspace_id=workspace_id,
        post_id=post_id,
        account_id=account_id,
        network="sandbox",
        occurrence="2030-01-01T09:00:00+00:00",
        due_at=utcnow(),
        text=f"probe {post_id}",
    )


async def send(producer: AIOKafkaProducer, event: PostScheduled) -> RecordMetadata:
    """Produce an event as the outbox relay does: JSON, keyed, with its content type."""
    return await producer.send_and_wait(
        TOPIC,
        event.model_dump_json().encode(),
        key=event.partition_key(),
        headers=[("content-type", b"application/json")],
    )


@dataclass
class Probe:
    """The running probe service and what its handler saw."""

    runtime: Runtime
    settings: ProbeSettings
    http: httpx.AsyncClient
    workspace: str
    attempts: Counter[str] = field(default_factory=Counter)
    handled: dict[str, PostScheduled] = field(default_factory=dict)
    done: defaultdict[str, asyncio.Event] = field(
        default_factory=lambda: defaultdict(asyncio.Event)
    )

    async def handle(self, event: PostScheduled) -> None:
        """The handler: fails on purpose for posts named ``flaky-*`` and ``broken-*``."""
        if event.workspace_id != self.workspace:
            return  # someone else's event on the shared topic
        self.attempts[event.post_id] += 1
        if event.post_id.startswith("flaky-") and self.attempts[event.post_id] <= 2:
            raise RuntimeError(f"transient failure {self.attempts[event.post_id]}")
        if event.post_id.startswith("broken-"):
            raise RuntimeError("this handler never succeeds")
        self.handled[event.post_id] = event
        self.done[event.post_id].set()

    async def wait_handled(self, post_id: str) -> PostScheduled:
        """The event once the handler finished it."""
        await asyncio.wait_for(self.done[post_id].wait(), WAIT_S)
        return self.handled[post_id]


@pytest.fixture(scope="module")
async def probe(
    infra: Infra,
    kafka: KafkaTools,
    mongo: AsyncMongoClient[Document],
    producer: AIOKafkaProducer,
) -> AsyncIterator[Probe]:
    """The probe service, running, with its consumer already assigned its partitions."""
    await kafka.create_topics(TOPIC, DLQ)
    settings = probe_settings(infra)
    app, runtime = create_service_app(
        name="probe", settings=settings, description="A probe of the shared runtime."
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        probe = Probe(runtime=runtime, settings=settings, http=client, workspace=unique("ws"))
        subscribe_events(
            runtime.broker, settings, {PostScheduled: probe.handle}, name="probe_events"
        )
        try:
            async with app.router.lifespan_context(app):
                await send(producer, scheduled(probe.workspace, "warm-up"))
                await probe.wait_handled("warm-up")
                yield probe
        finally:
            await mongo.drop_database(settings.database)


async def dead_letters(kafka: KafkaTools, *, key: bytes, group: str) -> list[DeadLetter]:
    """Dead letters of one key written by one consumer group."""
    records = await kafka.read_topic(DLQ, settle_s=0.5)
    letters = [DeadLetter.model_validate_json(r.value) for r in records if r.key == key]
    return [letter for letter in letters if letter.consumer_group == group]


async def test_healthz_answers(probe: Probe) -> None:
    response = await probe.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "probe"}


async def test_readyz_checks_mongodb_and_kafka(probe: Probe) -> None:
    response = await probe.http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "service": "probe",
        "checks": {"mongodb": "ok", "kafka": "ok"},
    }


async def test_metrics_cover_http_and_kafka(probe: Probe) -> None:
    await probe.http.get("/healthz")
    response = await probe.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert any(
        line.startswith("siar_http_requests_total{")
        and 'service="probe"' in line
        and 'route="/healthz"' in line
        for line in lines
    )
    # FastStream's own metrics, under the platform's prefix, for the consumed warm-up.
    received = [
        line
        for line in lines
        if line.startswith("siar_received_messages_total{") and 'app_name="probe"' in line
    ]
    assert received, "no FastStream consumer metrics with the siar_ prefix"
    assert float(received[0].rsplit(" ", 1)[1]) >= 1
    assert not any(line.startswith("faststream_") for line in lines)


async def test_asyncapi_lists_the_consumed_channel(probe: Probe) -> None:
    response = await probe.http.get("/asyncapi.json")
    assert response.status_code == 200
    spec = response.json()
    channels = spec["channels"]
    addresses = {name: ch.get("address", name) for name, ch in channels.items()}
    assert TOPIC in addresses.values(), addresses
    assert "PostScheduled" in json.dumps(spec["components"])


async def test_a_valid_event_reaches_its_handler(probe: Probe, producer: AIOKafkaProducer) -> None:
    event = scheduled(probe.workspace, f"valid-{uuid.uuid4().hex[:8]}")
    await send(producer, event)
    assert await probe.wait_handled(event.post_id) == event
    assert probe.attempts[event.post_id] == 1


async def test_an_event_written_through_the_outbox_is_relayed_to_the_handler(
    probe: Probe,
) -> None:
    event = scheduled(probe.workspace, f"outbox-{uuid.uuid4().hex[:8]}")

    async def write(session: AsyncClientSession) -> None:
        await probe.runtime.outbox.add(event, session=session)

    await probe.runtime.uow.run(write)

    assert await probe.wait_handled(event.post_id) == event
    # The relay marks the batch after Kafka acknowledged it, which may be a moment
    # after the handler already ran.
    outbox = probe.runtime.db["outbox"]
    for _ in range(100):
        if await outbox.count_documents({"_id": str(event.event_id), "published": True}):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the relay did not mark the outbox document published")


async def test_a_malformed_message_is_dead_lettered_and_the_next_one_processed(
    probe: Probe, producer: AIOKafkaProducer, kafka: KafkaTools
) -> None:
    account = unique("acct-dlq")
    key = f"{probe.workspace}:{account}".encode()
    bad = await producer.send_and_wait(
        TOPIC, b"{broken", key=key, headers=[("content-type", b"application/json")]
    )
    after = scheduled(probe.workspace, f"after-{account}", account_id=account)
    await send(producer, after)

    assert await probe.wait_handled(after.post_id) == after

    letters = await dead_letters(kafka, key=key, group=probe.settings.consumer_group)
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter.payload == "{broken"
    assert (letter.source_topic, letter.partition, letter.offset) == (
        TOPIC,
        bad.partition,
        bad.offset,
    )
    assert letter.attempts == 1, "a malformed message cannot succeed: no retries"
    assert letter.error_type == "JSONDecodeError"
    assert letter.error


async def test_a_failing_handler_is_retried_without_dead_lettering(
    probe: Probe, producer: AIOKafkaProducer, kafka: KafkaTools
) -> None:
    account = unique("acct-flaky")
    event = scheduled(probe.workspace, f"flaky-{account}", account_id=account)
    await send(producer, event)

    assert await probe.wait_handled(event.post_id) == event
    assert probe.attempts[event.post_id] == 3

    key = event.partition_key()
    assert await dead_letters(kafka, key=key, group=probe.settings.consumer_group) == []


async def test_a_handler_failing_every_attempt_is_dead_lettered_and_consuming_goes_on(
    probe: Probe, producer: AIOKafkaProducer, kafka: KafkaTools
) -> None:
    account = unique("acct-broken")
    event = scheduled(probe.workspace, f"broken-{account}", account_id=account)
    bad = await send(producer, event)
    after = scheduled(probe.workspace, f"after-{account}", account_id=account)
    await send(producer, after)

    await probe.wait_handled(after.post_id)
    assert probe.attempts[event.post_id] == 3

    letters = await dead_letters(
        kafka, key=event.partition_key(), group=probe.settings.consumer_group
    )
    assert len(letters) == 1, letters
    assert (letters[0].error_type, letters[0].attempts, letters[0].offset) == (
        "RuntimeError",
        3,
        bad.offset,
    )
    assert PostScheduled.model_validate_json(letters[0].payload) == event


async def test_shutdown_waits_for_the_handler_in_flight_and_commits_it(
    infra: Infra,
    kafka: KafkaTools,
    mongo: AsyncMongoClient[Document],
    producer: AIOKafkaProducer,
) -> None:
    await kafka.create_topics(TOPIC, DLQ)
    settings = probe_settings(infra, graceful_timeout_s=10.0)
    workspace = unique("ws")
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(event: PostScheduled) -> None:
        if event.workspace_id != workspace:
            return
        started.set()
        await asyncio.sleep(1.5)
        finished.append(event.post_id)

    app, runtime = create_service_app(name="probe", settings=settings, description="Slow probe.")
    subscribe_events(runtime.broker, settings, {PostScheduled: slow}, name="probe_events")
    event = scheduled(workspace, "slow")
    try:
        async with app.router.lifespan_context(app):
            sent = await send(producer, event)
            await asyncio.wait_for(started.wait(), WAIT_S)
            assert finished == []  # still in flight as the lifespan begins to exit
        assert finished == ["slow"], "shutdown returned before the handler finished"
    finally:
        await mongo.drop_database(settings.database)

    committed = await committed_offset(
        infra, settings.consumer_group, TopicPartition(TOPIC, sent.partition)
    )
    assert committed is not None
    assert committed > sent.offset, "the finished message's offset was not committed"


async def committed_offset(infra: Infra, group: str, tp: TopicPartition) -> int | None:
    """The offset ``group`` committed for ``tp``, read without joining the group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        offset: int | None = await consumer.committed(tp)
        return offset
    finally:
        await consumer.stop()
