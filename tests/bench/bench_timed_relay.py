"""Benchmark: the outbox relay alone sending N timed rows that fall due at one instant.

Starts the embedded stack (Tansu + nx-27017), writes N ``post.scheduled`` rows with
``Outbox.add_once(..., not_before=due)`` a few seconds ahead, and lets an ``OutboxRelay``
send them two ways: prepared through its own producer (``TimedProducer``, what services
run) and through the service broker's publish path (FastStream with its tracing and
metrics middlewares). Prints, per way, the lateness of each hand-off to Kafka (p50 / p99
/ max, as the relay reports it to ``Outbox.on_timed_sent``) and the rate; and a raw
aiokafka producer's rate for as many records. Figures only, never asserts. From the
repo root:

    uv run python tests/bench/bench_timed_relay.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from siar.contracts import PostScheduled, utcnow
from siar.devstack import Infra, start_embedded
from siar.runtime.kafka import create_kafka_broker, kafka_publisher
from siar.runtime.mongo import create_mongo_client, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.outbox_relay import OutboxRelay
from siar.runtime.settings import ServiceSettings, service_config
from siar.runtime.timed_send import TimedProducer

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.bench.benchkit import percentile  # noqa: E402  (repo root on sys.path)

LEAD = timedelta(seconds=8)


class BenchSettings(ServiceSettings):
    model_config = service_config("SIAR_BENCH_")


def events(n: int, due: object) -> list[PostScheduled]:
    return [
        PostScheduled.new(
            workspace_id="ws_bench",
            post_id=f"pst_{i}",
            account_id=f"acc_{i % 50}",
            network="sandbox",
            occurrence="o",
            due_at=due,
            text="spike " * 20,
        )
        for i in range(n)
    ]


async def one_way(infra: Infra, way: str, rows: int) -> None:
    settings = BenchSettings()
    provider = TracerProvider()
    broker = create_kafka_broker(
        settings, service="bench", tracer_provider=provider, registry=CollectorRegistry()
    )
    await broker.start()
    mongo = create_mongo_client(infra.mongodb_url, app_name="bench-timed")
    db = mongo[f"bench_timed_{way.replace(' ', '_')}"]
    await ensure_indexes(db, OUTBOX_INDEXES)
    outbox = Outbox(db)
    lateness: list[float] = []
    all_sent = asyncio.Event()

    def sent(_topic: str, _payload: bytes, late_s: float) -> None:
        lateness.append(late_s * 1000)
        if len(lateness) >= rows:
            all_sent.set()

    outbox.on_timed_sent = sent
    timed = None
    if way == "prepared":
        timed = TimedProducer(
            infra.kafka_bootstrap,
            idempotent=infra.idempotent_producer,
            client_id="bench",
            tracer_provider=provider,
        )
    relay = OutboxRelay(outbox, db, kafka_publisher(lambda: broker), timed=timed)
    task = asyncio.create_task(relay.run())
    try:
        due = utcnow() + LEAD
        batch = events(rows, due)
        for start in range(0, rows, 1000):
            part = batch[start : start + 1000]
            await outbox.add_once(part, not_before=[due] * len(part))
        await asyncio.wait_for(all_sent.wait(), LEAD.total_seconds() + 120)
        took_s = max(lateness) / 1000
        print(
            f"{way:<16} handed p50 {percentile(lateness, 50):7.0f} ms   "
            f"p99 {percentile(lateness, 99):7.0f} ms   max {max(lateness):7.0f} ms   "
            f"{rows / took_s:9,.0f} rows/s"
        )
    finally:
        relay.stop()
        await task
        await broker.stop()
        await mongo.drop_database(db.name)
        await mongo.close()


async def raw(infra: Infra, rows: int) -> None:
    payload = events(1, utcnow())[0].model_dump_json().encode()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        started = time.perf_counter()
        pending = [await producer.send("bench.raw", payload, key=b"ws:acc") for _ in range(rows)]
        await asyncio.gather(*pending)
        print(f"{'raw aiokafka':<16} {rows / (time.perf_counter() - started):,.0f} rows/s")
    finally:
        await producer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    infra = start_embedded(Path(tempfile.mkdtemp(prefix="siar-bench-")), log_dir=None)
    os.environ["SIAR_KAFKA_BOOTSTRAP"] = infra.kafka_bootstrap
    os.environ["SIAR_MONGODB_URL"] = infra.mongodb_url
    os.environ["SIAR_KAFKA_IDEMPOTENT_PRODUCER"] = str(infra.idempotent_producer).lower()
    try:
        for way in ("prepared", "broker publish"):
            asyncio.run(one_way(infra, way, args.rows))
        asyncio.run(raw(infra, args.rows))
    finally:
        infra.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
