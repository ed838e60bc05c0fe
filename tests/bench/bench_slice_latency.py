"""Benchmark: how late is a post published, measured from its due time?

Starts Kafka + MongoDB and the five services exactly as tests/e2e/conftest.py does,
creates a tenant over HTTP, schedules N posts (default 50) to its sandbox account spread
over a few seconds starting ~5 s ahead, and measures for each post:

* due (``scheduled_at``) → Kafka record timestamp of its ``post.published`` event,
* due → ``published_at`` in that event's payload,
* the scheduler's own dispatch lateness (the target's ``lateness_ms``).

Prints figures only, never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_slice_latency.py [--posts 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from siar.devstack import start_infra

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import run_bounded, running, stats  # noqa: E402  (repo root on path)
from tests.e2e.flows import new_tenant  # noqa: E402

NAMES = ("vault", "scheduler", "publisher", "inbox", "analytics")
LOG_DIR = ROOT / "test-artifacts" / "bench" / "slice_latency"


async def schedule_posts(
    http: httpx.AsyncClient, scheduler: str, tenant: Any, n: int, lead_s: float, spread_s: float
) -> dict[str, datetime]:
    """Create ``n`` posts due from ``lead_s`` ahead over ``spread_s``; post id → due time."""
    first = datetime.now(UTC) + timedelta(seconds=lead_s)
    step = spread_s / (n - 1) if n > 1 else 0.0
    gate = asyncio.Semaphore(8)
    url = f"{scheduler}/v1/workspaces/{tenant.workspace_id}/posts"

    async def one(i: int) -> tuple[str, datetime]:
        due = first + timedelta(seconds=i * step)
        body = {
            "text": f"bench post {i} #siar",
            "account_ids": [tenant.account_id],
            "scheduled_at": due.isoformat(),
        }
        async with gate:
            r = await http.post(url, json=body, headers=tenant.auth)
        if r.status_code != 201:
            raise RuntimeError(f"creating post {i} failed: {r.status_code} {r.text}")
        post = r.json()
        return str(post["id"]), datetime.fromisoformat(post["scheduled_at"])

    return dict(await asyncio.gather(*(one(i) for i in range(n))))


async def collect_published(
    bootstrap: str, wanted: set[str], deadline: float
) -> dict[str, dict[str, Any]]:
    """Read ``post.published`` until every wanted post is seen or the deadline passes."""
    consumer = AIOKafkaConsumer(
        "post.published",
        bootstrap_servers=bootstrap,
        group_id=f"bench-slice-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
        session_timeout_ms=6000,
    )
    seen: dict[str, dict[str, Any]] = {}
    try:
        await consumer.start()
        while len(seen) < len(wanted) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for rec in records:
                    payload = json.loads(rec.value)
                    if payload.get("post_id") in wanted and payload["post_id"] not in seen:
                        seen[payload["post_id"]] = {
                            "record_ts_ms": rec.timestamp,
                            "timestamp_type": rec.timestamp_type,
                            "consumed_at": datetime.now(UTC),
                            "payload": payload,
                        }
    finally:
        await consumer.stop()
    return seen


async def measure(urls: dict[str, str], bootstrap: str, args: argparse.Namespace) -> None:
    """Schedule the posts, wait for them to be published, print the figures."""
    async with httpx.AsyncClient(timeout=15.0, trust_env=False) as http:
        tenant = await new_tenant(http, urls["vault"])
        wall_start = datetime.now(UTC)
        wall_t0 = time.monotonic()
        due = await schedule_posts(
            http, urls["scheduler"], tenant, args.posts, args.lead, args.spread
        )
        created_s = time.monotonic() - wall_t0
        print(f"created {len(due)} posts in {created_s:.2f} s", flush=True)
        deadline = time.monotonic() + args.lead + args.spread + args.wait
        seen = await collect_published(bootstrap, set(due), deadline)

        kafka_ms, payload_ms, consumed_ms, lateness_ms = [], [], [], []
        for post_id, event in seen.items():
            due_at = due[post_id]
            emitted = datetime.fromtimestamp(event["record_ts_ms"] / 1000, UTC)
            kafka_ms.append((emitted - due_at).total_seconds() * 1000)
            published_at = datetime.fromisoformat(event["payload"]["published_at"])
            payload_ms.append((published_at - due_at).total_seconds() * 1000)
            consumed_ms.append((event["consumed_at"] - due_at).total_seconds() * 1000)
        for post_id in due:
            r = await http.get(
                f"{urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts/{post_id}",
                headers=tenant.auth,
            )
            for target in r.json().get("targets", []):
                if target.get("lateness_ms") is not None:
                    lateness_ms.append(float(target["lateness_ms"]))

    last_emitted = max(
        (datetime.fromtimestamp(e["record_ts_ms"] / 1000, UTC) for e in seen.values()),
        default=None,
    )
    rows = {
        "due_to_kafka_record_ts": stats(kafka_ms),
        "due_to_payload_published_at": stats(payload_ms),
        "due_to_consumed_by_bench": stats(consumed_ms),
        "scheduler_dispatch_lateness": stats(lateness_ms),
    }
    ts_types = sorted({e["timestamp_type"] for e in seen.values()})
    print(f"\npublished {len(seen)}/{len(due)} posts (Kafka timestamp_type {ts_types}; 0=Create)")
    print(f"{'latency from due time (ms)':32} {'n':>4} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    for name, row in rows.items():
        cells = " ".join(f"{row.get(k, float('nan')):>8}" for k in ("p50", "p95", "p99", "max"))
        print(f"{name:32} {row['n']:>4} {cells}")
    summary: dict[str, Any] = {
        "bench": "slice_latency",
        "posts": len(due),
        "published": len(seen),
        "spread_s": args.spread,
        "create_s": round(created_s, 2),
        **rows,
    }
    if last_emitted is not None:
        wall = (last_emitted - wall_start).total_seconds()
        after_last_due = (last_emitted - max(due.values())).total_seconds()
        print(f"\nwall time from first create to all {len(seen)} published: {wall:.2f} s")
        print(f"last post.published emitted {after_last_due * 1000:.0f} ms after the last due time")
        summary["wall_to_all_published_s"] = round(wall, 2)
        summary["last_due_to_last_published_ms"] = round(after_last_due * 1000, 1)
    print(json.dumps(summary, separators=(",", ":")))


def main() -> int:
    """Start the platform, run the measurement, always stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50, help="posts to schedule")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds until the first is due")
    parser.add_argument("--spread", type=float, default=3.0, help="seconds the due times span")
    parser.add_argument("--wait", type=float, default=60.0, help="grace after the last due time")
    parser.add_argument("--timeout", type=float, default=300.0, help="overall bound, seconds")
    args = parser.parse_args()
    if args.posts < 1:
        parser.error("--posts must be at least 1")

    run = uuid.uuid4().hex[:8]
    extra = {
        **{f"SIAR_{n.upper()}_DATABASE": f"siar_bench_{run}_{n}" for n in NAMES},
        "SIAR_INBOX_POLL_INTERVAL_S": "0.5",
        "SIAR_SANDBOX_COMMENT_DELAY_S": "0.5",
        "SIAR_SCHEDULER_SCAN_INTERVAL_S": "2",
        "SIAR_PUBLISHER_BACKOFF_BASE_S": "0.1",
        "SIAR_LOG_LEVEL": os.environ.get("SIAR_LOG_LEVEL", "INFO"),
    }
    # start_infra, as tests/e2e/conftest.py does: external URLs or Docker when present.
    with running(LOG_DIR, extra, services=NAMES, start_infra=start_infra, ready="5 services") as (
        infra,
        platform,
    ):
        job = measure(dict(platform.urls), infra.kafka_bootstrap, args)
        return run_bounded(job, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
