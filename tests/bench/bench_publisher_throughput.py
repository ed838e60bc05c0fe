"""Benchmark: sustained deliveries per second through the publisher, and its CPU per delivery.

Starts the embedded stack (Tansu + nx-27017) with only the vault and the publisher, a
tenant with N sandbox accounts, warms up, then produces M ``post.scheduled`` events
straight to Kafka and waits for their ``post.published``. Reports deliveries/s (first
produce → M-th record timestamp), ms of CPU per delivery of the publisher, the vault, nx
and Tansu (/proc utime+stime), and the raw cost of consuming the same M events with a plain
aiokafka consumer in this process, each parsed by ``PostScheduled.model_validate_json``.
Prints figures only, never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_publisher_throughput.py [--events 1000] [--accounts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from siar.connectors.sandbox import SandboxConnector
from siar.contracts import PostScheduled, utcnow

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import (  # noqa: E402  (needs the repo root on sys.path)
    FROM_START,
    cpu_s,
    drain,
    print_figures,
    produce,
    run_bounded,
    running,
    stack_pids,
)
from tests.e2e.flows import new_tenant  # noqa: E402

NAMES = ("vault", "publisher")
LOG_DIR = ROOT / "test-artifacts" / "bench" / "publisher_throughput"
Records = tuple[set[str], list[tuple[bytes, bytes]]]


def make_records(ws: str, accounts: list[str], n: int, tag: str) -> Records:
    """``n`` due-now events round-robin over ``accounts``: post ids and (key, value)s."""
    now = utcnow()
    common = {"workspace_id": ws, "network": "sandbox", "occurrence": now.isoformat()}
    events = [
        PostScheduled.new(
            post_id=f"bench_{tag}_{i}",
            account_id=accounts[i % len(accounts)],
            due_at=now,
            text=f"throughput bench {tag} {i} #siar",
            **common,
        )
        for i in range(n)
    ]
    return {e.post_id for e in events}, [
        (e.partition_key(), e.model_dump_json().encode()) for e in events
    ]


async def raw_cpu_s(bootstrap: str, topic: str, n: int) -> float:
    """CPU seconds this process spends consuming + validating ``n`` records of ``topic``."""
    source, seen = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, **FROM_START), [0]

    def handle(rec: ConsumerRecord[bytes, bytes]) -> None:
        PostScheduled.model_validate_json(rec.value or b"")
        seen[0] += 1

    await source.start()
    try:
        cpu0 = time.process_time()
        await drain(source, handle, lambda: seen[0] >= n, 60)
        cpu = time.process_time() - cpu0
    finally:
        await source.stop()
    if seen[0] < n:
        raise RuntimeError(f"the raw consumer saw only {seen[0]}/{n} records")
    return cpu


async def connect_accounts(vault: str, n: int) -> tuple[str, list[str]]:
    """A tenant with ``n`` sandbox accounts: its workspace id and account ids."""
    async with httpx.AsyncClient(timeout=15.0, trust_env=False) as http:
        tenant = await new_tenant(http, vault)
        accounts = [tenant.account_id]
        for _ in range(n - 1):
            r = await http.post(
                f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts",
                json={"network": "sandbox", "handle": f"bench_{uuid.uuid4().hex[:10]}"},
                headers=tenant.auth,
            )
            assert r.status_code == 201, r.text  # setup, not a timing
            accounts.append(str(r.json()["id"]))
    return tenant.workspace_id, accounts


async def measure(
    urls: dict[str, str], bootstrap: str, pids: dict[str, int], args: argparse.Namespace
) -> None:
    """Set up the tenant, warm up, run M deliveries, run the raw baseline, print figures."""
    ws, accounts = await connect_accounts(urls["vault"], args.accounts)
    if (args.events + args.warmup) / len(accounts) > SandboxConnector.rate_limit.calls:
        print("note: over the sandbox's per-account rate limit; it may throttle")
    run = uuid.uuid4().hex[:6]
    published: dict[str, int] = {}  # post id → record timestamp (ms)
    failed: dict[str, str] = {}
    wanted: set[str] = set()

    def outcome(rec: ConsumerRecord[bytes, bytes]) -> None:
        payload = json.loads(rec.value or b"{}")
        post_id = payload.get("post_id")
        if post_id in wanted and post_id not in published and post_id not in failed:
            if rec.topic == "post.published":
                published[post_id] = rec.timestamp
            else:
                failed[post_id] = str(payload.get("reason"))

    def settled() -> bool:
        return sum(p in published or p in failed for p in wanted) == len(wanted)

    outcomes = AIOKafkaConsumer(
        "post.published", "post.failed", bootstrap_servers=bootstrap, **FROM_START
    )
    await outcomes.start()
    try:
        wanted, warm = make_records(ws, accounts, args.warmup, f"{run}w")
        await produce(bootstrap, PostScheduled.topic, warm)
        await drain(outcomes, outcome, settled, args.wait)
        print(f"warm-up: {len(published)}/{len(warm)} published", flush=True)

        idle0, t_idle = cpu_s(pids), time.monotonic()
        await asyncio.sleep(args.idle)
        idle1, idle_s = cpu_s(pids), time.monotonic() - t_idle
        idle = {n: round((idle1[n] - idle0[n]) * 1000 / idle_s, 1) for n in pids}

        wanted, records = make_records(ws, accounts, args.events, run)
        cpu0, t0 = cpu_s(pids), time.monotonic()
        first_wall = await produce(bootstrap, PostScheduled.topic, records)
        await drain(outcomes, outcome, settled, args.wait)
        cpu1, seen_s = cpu_s(pids), time.monotonic() - t0
    finally:
        await outcomes.stop()

    stamps = [published[p] for p in wanted if p in published]
    delivered, n_failed = len(stamps), len(wanted & failed.keys())
    span_s = (max(stamps) / 1000 - first_wall) if stamps else float("nan")
    cpu_ms = {n: (cpu1[n] - cpu0[n]) * 1000 / max(delivered, 1) for n in pids}

    raw_topic = f"bench.raw.{run}"
    await produce(bootstrap, raw_topic, records)
    raw = [await raw_cpu_s(bootstrap, raw_topic, len(records)) for _ in range(args.raw_passes)]
    raw_ms = statistics.median(raw) * 1000 / len(records)

    print(f"\n{len(wanted)} events: {delivered} published, {n_failed} failed")
    if failed:
        print(f"a failure reason: {next(iter(failed.values()))}")
    print(f"span {span_s:.2f} s; all seen by the bench after {seen_s:.2f} s; idle ms CPU/s {idle}")
    figures = {
        "deliveries_per_s": delivered / span_s if stamps else 0.0,
        **{f"{n}_ms_cpu_per_delivery": v for n, v in cpu_ms.items()},
        "raw_consume_ms_cpu_per_event": raw_ms,
        "publisher_to_raw_ratio": cpu_ms["publisher"] / raw_ms if raw_ms else float("nan"),
    }
    print_figures(figures, 32)
    summary: dict[str, Any] = {
        "bench": "publisher_throughput",
        "events": len(wanted),
        "accounts": len(accounts),
        "published": delivered,
        "failed": n_failed,
        "span_s": round(span_s, 3),
        **{k: float(f"{v:.4g}") for k, v in figures.items()},
        "raw_passes_ms": [round(c * 1000, 2) for c in raw],
        "idle_ms_cpu_per_s": idle,
        "log_level": args.log_level,
    }
    print(json.dumps(summary, separators=(",", ":")))


def main() -> int:
    """Start infra, the vault and the publisher; measure; always stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="post.scheduled events")
    parser.add_argument("--accounts", type=int, default=20, help="sandbox accounts")
    parser.add_argument("--warmup", type=int, default=40, help="warm-up events, not measured")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle CPU sampling")
    parser.add_argument("--raw-passes", type=int, default=3, help="raw consumer passes")
    parser.add_argument("--wait", type=float, default=300.0, help="max wait for outcomes, s")
    parser.add_argument("--timeout", type=float, default=900.0, help="overall bound, seconds")
    parser.add_argument("--log-level", default=os.environ.get("SIAR_LOG_LEVEL", "INFO"))
    args = parser.parse_args()
    if args.events < 1 or args.accounts < 1 or args.warmup < 1:
        parser.error("--events, --accounts and --warmup must be at least 1")

    run = uuid.uuid4().hex[:8]
    extra = {
        **{f"SIAR_{n.upper()}_DATABASE": f"siar_bench_{run}_{n}" for n in NAMES},
        "SIAR_PUBLISHER_BACKOFF_BASE_S": "0.1",
        "SIAR_LOG_LEVEL": args.log_level,
    }
    with running(LOG_DIR, extra, services=NAMES, ready="vault + publisher") as (infra, platform):
        pids = stack_pids(infra, platform, NAMES)
        job = measure(dict(platform.urls), infra.kafka_bootstrap, pids, args)
        return run_bounded(job, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
