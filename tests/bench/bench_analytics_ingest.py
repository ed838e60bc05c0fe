"""Benchmark: ``metrics.collected`` stored with roll-ups by a running analytics, vs raw consumption.

Starts the embedded stack (Tansu + nx-27017) and the analytics service alone (its
collector off, so only the produced events arrive), produces N snapshots straight to
Kafka (a fifth account scope, the rest post scope, over A accounts and a spread of
hours, some partial), and waits until analytics has stored all N (counting its
``metric_snapshots``). Then a plain aiokafka consumer in this process reads the same N
records and parses each with ``MetricsCollected.model_validate_json``. Prints both
rates and their ratio, and analytics' CPU per event. Figures only, never asserts.

    uv run python tests/bench/bench_analytics_ingest.py [--events 2000] [--accounts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from siar.contracts import MetricsCollected, utcnow
from siar.runtime.mongo import create_mongo_client

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import (  # noqa: E402  (repo root on sys.path)
    FROM_START,
    cpu_s,
    drain,
    produce,
    run_bounded,
    running,
    stack_pids,
)

NAMES = ("analytics",)
LOG_DIR = ROOT / "test-artifacts" / "bench" / "analytics_ingest"


def make_records(ws: str, n: int, accounts: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``n`` snapshots as (key, value): 1 in 5 account scope, spread over 3 days of hours."""
    rnd = random.Random(seed)
    start = utcnow() - timedelta(days=3)
    records = []
    for i in range(n):
        account = f"acc_bench_{i % accounts}"
        post = i % 5 != 0
        event = MetricsCollected.new(
            workspace_id=ws,
            account_id=account,
            network="sandbox",
            scope="post" if post else "account",
            network_post_id=f"sbxpost_{account}_{rnd.randrange(10)}" if post else None,
            collected_at=start + timedelta(minutes=rnd.randrange(3 * 24 * 60)),
            metrics=(
                {"likes": rnd.randrange(500), "comments": rnd.randrange(40), "impressions": 900}
                if post
                else {"followers": 1000 + i, "reach": rnd.randrange(5000)}
            ),
            partial=rnd.random() < 0.05,
        )
        records.append((event.partition_key(), event.model_dump_json().encode()))
    return records


async def raw_rate(bootstrap: str, topic: str, n: int) -> float:
    """Records per second a plain consumer reads and validates ``n`` records of ``topic``,
    from its start (no group join: it reads the partition from the beginning)."""
    source, seen = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, **FROM_START), [0]

    def handle(rec: ConsumerRecord[bytes, bytes]) -> None:
        MetricsCollected.model_validate_json(rec.value or b"")
        seen[0] += 1

    t0 = time.monotonic()
    await source.start()
    try:
        await drain(source, handle, lambda: seen[0] >= n, 120)
        elapsed = time.monotonic() - t0
    finally:
        await source.stop()
    if seen[0] < n:
        raise RuntimeError(f"the raw consumer saw only {seen[0]}/{n} records")
    return n / elapsed


async def stored(mongo_url: str, database: str, ws: str) -> int:
    """How many snapshots of ``ws`` analytics has stored."""
    client = create_mongo_client(mongo_url, app_name="siar-bench")
    try:
        return await client[database]["metric_snapshots"].count_documents({"workspace_id": ws})
    finally:
        await client.close()


async def measure(
    bootstrap: str, mongo_url: str, database: str, pids: dict[str, int], args: argparse.Namespace
) -> None:
    """Warm up, ingest N through analytics, read N raw, print figures."""
    warm_ws, ws = f"ws_warm_{uuid.uuid4().hex[:6]}", f"ws_bench_{uuid.uuid4().hex[:6]}"
    await produce(bootstrap, MetricsCollected.topic, make_records(warm_ws, args.warmup, 5, 1))
    warmed = 0
    while warmed < args.warmup:
        await asyncio.sleep(0.5)
        warmed = await stored(mongo_url, database, warm_ws)
    print(f"warm-up: {warmed} stored", flush=True)

    records = make_records(ws, args.events, args.accounts, 2)
    cpu0, t0 = cpu_s(pids), time.monotonic()
    await produce(bootstrap, MetricsCollected.topic, records)
    deadline = t0 + args.wait
    count = 0
    while count < len(records) and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        count = await stored(mongo_url, database, ws)
    elapsed, cpu1 = time.monotonic() - t0, cpu_s(pids)
    ingest = count / elapsed

    raw_topic = f"bench.raw.{uuid.uuid4().hex[:6]}"
    await produce(bootstrap, raw_topic, records)
    raw = await raw_rate(bootstrap, raw_topic, len(records))
    cpu_ms = {n: (cpu1[n] - cpu0[n]) * 1000 / max(count, 1) for n in pids}
    figures: dict[str, Any] = {
        "events": len(records),
        "stored": count,
        "ingest_events_per_s": round(ingest, 1),
        "raw_consume_events_per_s": round(raw, 1),
        "ingest_to_raw_ratio": round(ingest / raw, 4),
        **{f"{n}_ms_cpu_per_event": round(v, 2) for n, v in cpu_ms.items()},
    }
    for label, value in figures.items():
        print(f"{label:32} {value!s:>12}")
    print(json.dumps({"bench": "analytics_ingest", **figures}, separators=(",", ":")))


def main() -> int:
    """Start infra and analytics; measure; always stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="metrics.collected events")
    parser.add_argument("--accounts", type=int, default=20, help="accounts they belong to")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up events, not measured")
    parser.add_argument("--wait", type=float, default=600.0, help="max wait for storage, s")
    args = parser.parse_args()
    database = f"siar_bench_{uuid.uuid4().hex[:8]}_analytics"
    extra = {
        "SIAR_ANALYTICS_DATABASE": database,
        "SIAR_ANALYTICS_COLLECTOR_ENABLED": "false",
        "SIAR_ANALYTICS_REPORT_LOOPS_ENABLED": "false",
        "SIAR_LOG_LEVEL": "WARNING",
    }
    with running(LOG_DIR, extra, services=NAMES) as (infra, platform):
        pids = stack_pids(infra, platform, NAMES)
        job = measure(infra.kafka_bootstrap, infra.mongodb_url, database, pids, args)
        return run_bounded(job, args.wait + 300)


if __name__ == "__main__":
    sys.exit(main())
