"""Benchmark: the top-of-the-hour spike — dispatch lateness with 200,000 pending posts stored.

Starts the embedded stack (Tansu + nx-27017) and one scheduler process, seeds the posts
collection straight into MongoDB with ``insert_many`` in big batches (timed), of which
``--due`` posts fall due together and the rest weeks later. Two shapes of spike:

- ``minute``: the due posts spread evenly over one minute;
- ``second``: all of them at the same instant (HH:MM:00.000).

Reports, per spike, p50/p99/max of: lateness at the gate (the write that locks a post and
records its events, from ``dispatches[0]``; 0 when it ran ahead of the due time, as it
should), **dispatch lateness** (due time → the record's CreateTime, stamped by the
relay's producer when the event is handed to Kafka) and lateness on the topic (due time
→ the record reaching a plain consumer here); the dispatch rate
(events on the topic per second, from the due time to the last record) and, in the same
run on the same broker, a raw aiokafka producer's rate for as many events of the same
size, with their ratio. Prints figures only, never asserts them. From the repo root:

    uv run python tests/bench/bench_scheduler_spike.py [--pending 200000] [--due 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostScheduled, utcnow
from siar.devstack import DevSecrets, Infra, Platform, free_port, start_embedded
from siar.runtime.mongo import Document, create_mongo_client
from siar_scheduler.domain import Post, PostStatus, Target

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "test-artifacts" / "bench" / "scheduler_spike"
TOPIC = PostScheduled.topic
BATCH = 10_000
LEAD_S = 100.0  # from seeding the spike to its due time: inside the 120 s read-ahead


def post_doc(ws: str, due: datetime, text: str) -> Document:
    now = utcnow()
    post = Post(
        id=f"pst_{uuid.uuid4().hex[:20]}",
        workspace_id=ws,
        text=text,
        scheduled_at=due,
        status=PostStatus.SCHEDULED,
        targets=[Target(account_id="acc_spike", network="sandbox")],
        created_by="usr_bench",
        created_at=now,
        updated_at=now,
    )
    return {**post.model_dump(mode="python"), "_id": post.id}


async def seed(db: AsyncDatabase[Document], docs: list[Document]) -> float:
    started = time.perf_counter()
    for start in range(0, len(docs), BATCH):
        await db["posts"].insert_many(docs[start : start + BATCH], ordered=False)
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<28} p50 {pct(values, 0.5):8.1f} ms   p99 {pct(values, 0.99):8.1f} ms   "
        f"max {max(values):8.1f} ms   mean {statistics.fmean(values):8.1f} ms"
    )


async def watch_topic(
    bootstrap: str, ws: str, n: int, within_s: float
) -> dict[str, tuple[float, float]]:
    """Per event id: (CreateTime, arrival here), each in seconds after its due time."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=50)
    await consumer.start()
    arrivals: dict[str, tuple[float, float]] = {}
    try:
        tp = TopicPartition(TOPIC, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + within_s
        while len(arrivals) < n and time.monotonic() < deadline:
            batches = await consumer.getmany(tp, timeout_ms=200)
            now = time.time()
            for record in batches.get(tp, []):
                event = PostScheduled.model_validate_json(record.value)
                if event.workspace_id == ws:
                    due = event.due_at.timestamp()
                    late = (record.timestamp / 1000 - due, now - due)
                    arrivals.setdefault(str(event.event_id), late)
    finally:
        await consumer.stop()
    return arrivals


async def raw_producer_s(bootstrap: str, payloads: list[bytes]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        started = time.perf_counter()
        pending = [await producer.send(TOPIC + ".raw", p, key=b"ws:acc") for p in payloads]
        await asyncio.gather(*pending)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def spike(infra: Infra, db: AsyncDatabase[Document], shape: str, args: Any) -> None:
    ws = f"ws_{shape}_{uuid.uuid4().hex[:8]}"
    text = "spike " * 20
    start = (utcnow() + timedelta(seconds=LEAD_S)).replace(microsecond=0)
    spread = 60.0 if shape == "minute" else 0.0
    dues = [start + timedelta(seconds=spread * i / args.due) for i in range(args.due)]
    took = await seed(db, [post_doc(ws, d, text) for d in dues])
    print(f"[{shape}] seeded the {args.due} due posts in {took:.1f} s; due from {start:%H:%M:%S}")
    arrivals = await watch_topic(
        infra.kafka_bootstrap, ws, args.due, LEAD_S + spread + args.timeout
    )
    docs = await db["posts"].find({"workspace_id": ws}, projection={"dispatches": 1}).to_list()
    gate = [d["dispatches"][0]["lateness_ms"] for d in docs if d.get("dispatches")]
    handed = [created * 1000 for created, _ in arrivals.values()]
    topic = [arrived * 1000 for _, arrived in arrivals.values()]
    print(f"[{shape}] fired {len(gate)}/{args.due}, on the topic {len(arrivals)}/{args.due}")
    if not gate or not topic:
        return
    print(f"[{shape}] " + line("lateness at the gate", gate))
    print(f"[{shape}] " + line("dispatch lateness (handed)", handed))
    print(f"[{shape}] " + line("lateness on the topic", topic))
    early = sum(1 for h in handed if h < 0)
    print(f"[{shape}] handed to Kafka before the due time: {early}")
    if shape == "second":
        rate = len(arrivals) / (max(handed) / 1000)
        sample = (
            PostScheduled.new(
                workspace_id=ws,
                post_id="pst_x" * 4,
                account_id="acc_spike",
                network="sandbox",
                occurrence=start.isoformat(),
                due_at=start,
                text=text,
            )
            .model_dump_json()
            .encode()
        )
        raw_s = await raw_producer_s(infra.kafka_bootstrap, [sample] * len(arrivals))
        raw_rate = len(arrivals) / raw_s
        print(
            f"[{shape}] dispatch rate {rate:,.0f} events/s; raw aiokafka producer "
            f"{raw_rate:,.0f} events/s on the same broker; ratio {rate / raw_rate:.3f}"
        )


async def run(infra: Infra, args: Any) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(TOPIC, 1, 1), NewTopic(TOPIC + ".raw", 1, 1)])
    await admin.close()
    platform = Platform(
        infra,
        DevSecrets.generate(),
        LOG_DIR,
        ports={"scheduler": free_port()},
        services=("scheduler",),
        extra_env={"SIAR_LOG_LEVEL": "WARNING"},
    )
    platform.start()
    mongo = create_mongo_client(infra.mongodb_url, app_name="bench-spike")
    try:
        platform.wait_ready(120)  # indexes exist before seeding, as in production
        db = mongo["siar_scheduler"]
        later = utcnow() + timedelta(days=30)
        background = [
            post_doc(f"ws_bg_{i % 500}", later + timedelta(seconds=i), "later")
            for i in range(args.pending - args.due)
        ]
        took = await seed(db, background)
        print(
            f"seeded {len(background):,} pending posts in {took:.1f} s "
            f"({len(background) / took:,.0f} docs/s, insert_many of {BATCH:,})"
        )
        for shape in args.shapes:
            await spike(infra, db, shape, args)
    finally:
        await mongo.close()
        platform.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--shapes", nargs="+", default=["minute", "second"])
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    infra = start_embedded(Path(tempfile.mkdtemp(prefix="siar-bench-")), log_dir=LOG_DIR)
    try:
        asyncio.run(run(infra, args))
    finally:
        infra.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
