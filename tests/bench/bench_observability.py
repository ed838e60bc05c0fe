"""Benchmark: what the observability code costs on the hot path and on a scrape.

In one run, against the embedded stack (Tansu + nx-27017) started here:

* **outbox relay throughput** (events/s) through the real FastStream broker, three ways:
  tracing off (a never-sampling provider: the relay still extracts and attaches each
  event's stored context), tracing on with spans recorded but not exported, and tracing
  on with every span handed to an exporter (the in-memory one, so no network is timed);
  each run relays the same number of fresh events written with ``Outbox.add_once``;
* **one scrape of /metrics** (ms and bytes) of a process whose every ``siar_*`` series
  exists (all services' ``start_at_zero`` for every network), as ``metrics_response``
  renders it;
* **one sampling round** of the operational gauges (``OpsSampler.sample_once``: readiness
  ping of MongoDB and Kafka, the outbox backlog count, consumer lag) with the outbox
  holding N pending events.

Prints figures only, never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_observability.py [--events 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import CollectorRegistry

from siar.contracts import AccountDisconnected
from siar.devstack import start_embedded
from siar.runtime.kafka import create_kafka_broker, kafka_publisher
from siar.runtime.lag import OpsSampler
from siar.runtime.metrics import metrics_response
from siar.runtime.mongo import create_mongo_client
from siar.runtime.outbox import Outbox
from siar.runtime.outbox_relay import OutboxRelay
from siar.runtime.settings import PlatformSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "test-artifacts" / "bench" / "observability"
NETWORKS = (
    "sandbox", "x", "bluesky", "mastodon", "linkedin", "facebook", "instagram",
    "threads", "tiktok", "youtube", "pinterest",
)  # fmt: skip


def events(n: int) -> list[AccountDisconnected]:
    """``n`` fresh events over 50 accounts of one workspace."""
    return [
        AccountDisconnected.new(
            workspace_id="ws_bench", account_id=f"acc_{i % 50}", network="sandbox", reason="x"
        )
        for i in range(n)
    ]


def providers() -> dict[str, TracerProvider]:
    """The three tracing set-ups compared."""
    exported = TracerProvider()
    exported.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    return {
        "tracing off (never sampled)": TracerProvider(sampler=ALWAYS_OFF),
        "spans recorded, not exported": TracerProvider(),
        "spans recorded and exported": exported,
    }


async def relay_rate(
    settings: ServiceSettings, db_url: str, provider: TracerProvider, n: int
) -> float:
    """Events per second relayed by ``OutboxRelay`` through a broker traced by ``provider``."""
    broker = create_kafka_broker(
        settings, service="bench", tracer_provider=provider, registry=CollectorRegistry()
    )
    mongo = create_mongo_client(db_url, app_name="siar-bench")
    db = mongo[f"bench_obs_{uuid.uuid4().hex[:8]}"]
    outbox = Outbox(db)
    relay = OutboxRelay(outbox, db, kafka_publisher(lambda: broker), batch=500, service="bench")
    await broker.start()
    try:
        await outbox.add_once(events(n))
        t0 = time.perf_counter()
        done = 0
        while done < n:
            done += await relay.relay_once()
        return n / (time.perf_counter() - t0)
    finally:
        await broker.stop()
        await mongo.drop_database(db.name)
        await mongo.close()


def scrape_cost(rounds: int) -> tuple[float, int, int]:
    """(median ms, bytes, series) of one /metrics rendering with every series present."""
    from siar_analytics.metrics import start_at_zero as analytics_zero
    from siar_inbox.metrics import start_at_zero as inbox_zero
    from siar_publisher.metrics import start_at_zero as publisher_zero
    from siar_scheduler.metrics import start_at_zero as scheduler_zero
    from siar_vault.metrics import start_at_zero as vault_zero

    for zero in (analytics_zero, inbox_zero, publisher_zero, scheduler_zero, vault_zero):
        zero(NETWORKS)
    times, body = [], b""
    for _ in range(max(rounds, 5)):
        t0 = time.perf_counter()
        body = bytes(metrics_response(CollectorRegistry()).body)
        times.append((time.perf_counter() - t0) * 1000)
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return statistics.median(times), len(body), series


async def sampling_cost(settings: ServiceSettings, db_url: str, pending: int, rounds: int) -> float:
    """Median ms of one ``OpsSampler.sample_once`` with ``pending`` events in the outbox."""
    mongo = create_mongo_client(db_url, app_name="siar-bench")
    db = mongo[f"bench_obs_{uuid.uuid4().hex[:8]}"]
    outbox = Outbox(db)
    broker = create_kafka_broker(
        settings, service="bench", tracer_provider=TracerProvider(), registry=CollectorRegistry()
    )
    await broker.start()
    try:
        await outbox.add_once(events(pending))

        async def ready() -> bool:
            await db.command("ping")
            return await broker.ping(timeout=2.0)

        sampler = OpsSampler(
            service="bench", group="bench", consumers=lambda: [], outbox=outbox.collection,
            ready=ready,
        )  # fmt: skip
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            await sampler.sample_once()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)
    finally:
        await broker.stop()
        await mongo.drop_database(db.name)
        await mongo.close()


async def main(n: int, rounds: int) -> None:
    """Start the embedded stack, run every measurement, print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        infra = start_embedded(Path(tmp), log_dir=LOG_DIR)
        try:
            settings = ServiceSettings(
                consumer_group="bench",
                platform=PlatformSettings(
                    kafka_bootstrap=infra.kafka_bootstrap,
                    mongodb_url=infra.mongodb_url,
                    kafka_idempotent_producer=False,
                ),
            )
            print(f"outbox relay, {n} events per run, median of {rounds} interleaved runs:")
            setups = providers()
            await relay_rate(settings, infra.mongodb_url, TracerProvider(), n)  # warm-up
            rates: dict[str, list[float]] = {label: [] for label in setups}
            # Interleaved, so a load spike on the machine hits every set-up alike.
            for _ in range(rounds):
                for label, provider in setups.items():
                    rates[label].append(await relay_rate(settings, infra.mongodb_url, provider, n))
            base = statistics.median(rates[next(iter(setups))])
            for label, got in rates.items():
                rate = statistics.median(got)
                spread = f"{min(got):.0f}-{max(got):.0f}"
                print(f"  {label:30s} {rate:6.0f} events/s ({spread}), {rate / base:.2f}x of off")
            ms, size, series = scrape_cost(rounds)
            print(f"/metrics with every series: {ms:.2f} ms, {size} bytes, {series} samples")
            for pending in (0, n):
                cost = await sampling_cost(settings, infra.mongodb_url, pending, rounds)
                print(f"ops gauges, one round, {pending} pending: {cost:.1f} ms")
        finally:
            infra.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
