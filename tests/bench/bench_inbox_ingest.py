"""Benchmark: messages ingested per second through signed webhook calls to a running inbox.

Starts the embedded stack (Tansu + nx-27017) and the inbox alone, registers A Facebook
Pages as connected accounts of one workspace, then POSTs N signed Meta webhook calls
(one new comment each, or ``--per-call`` comments) with C calls in flight. Each 200
means the messages are stored, threaded, triaged and their ``message.received`` is in
the outbox. The baseline is a raw ``insert_many`` of the very documents the inbox
stored, into a fresh collection of the same MongoDB, in the same run. Prints figures
only, never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_inbox_ingest.py [--messages 500] [--concurrency 8]
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
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from siar.contracts import utcnow

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import cpu_s, print_figures, run_bounded, running, stack_pids  # noqa: E402
from tests.unit.connectors.webhook_fakes import meta_call, meta_signed, page_comment  # noqa: E402

LOG_DIR = ROOT / "test-artifacts" / "bench" / "inbox_ingest"
SECRET = "bench-meta-app-secret"
TEXTS = (
    "Pelayanan sangat lambat, kecewa 😡",
    "Love this, thank you so much!",
    "Kapan restock kak? 🙏",
    "The parcel arrived on Tuesday",
    "mantap banget, terima kasih min",
)


def calls(pages: list[str], n: int, per_call: int, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """Signed webhook calls carrying ``n`` new comments, ``per_call`` at a time."""
    now = utcnow()
    entries = [
        page_comment(
            pages[i % len(pages)],
            f"{tag}_{i}",
            TEXTS[i % len(TEXTS)],
            now + timedelta(milliseconds=i),
            post_id=f"{pages[i % len(pages)]}_{i % 50}",
        )
        for i in range(n)
    ]
    return [
        meta_signed(meta_call("page", *entries[i : i + per_call]), SECRET)
        for i in range(0, n, per_call)
    ]


async def send_all(
    url: str, signed: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> tuple[float, list[float], int]:
    """Wall seconds for every call, each call's latency, and how many were not 200."""
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in signed:
        queue.put_nowait(item)
    latencies: list[float] = []
    failures = [0]

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            t0 = time.perf_counter()
            response = await http.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                failures[0] += 1
                if failures[0] == 1:
                    print(f"first failure: {response.status_code} {response.text[:300]}")

    async with httpx.AsyncClient(timeout=60.0, trust_env=False) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        return time.perf_counter() - t0, latencies, failures[0]


async def raw_insert_s(client: AsyncMongoClient[Any], docs: list[dict[str, Any]]) -> float:
    """Seconds for one bulk insert of ``docs`` into a fresh collection."""
    target = client[f"siar_bench_raw_{uuid.uuid4().hex[:8]}"]["messages"]
    await target.insert_one({"_id": "warm"})
    t0 = time.perf_counter()
    await target.insert_many(docs, ordered=False)
    elapsed = time.perf_counter() - t0
    await client.drop_database(target.database.name)
    return elapsed


async def measure(
    url: str, mongo_url: str, database: str, pids: dict[str, int], args: argparse.Namespace
) -> None:
    """Register accounts, warm up, send the measured calls, run the raw baseline, print."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url)
    db = client[database]
    pages = [str(9_000_000 + i) for i in range(args.accounts)]
    await db["pollers"].insert_many(
        [
            {
                "_id": f"acc_bench_{i}",
                "workspace_id": "ws_bench",
                "network": "facebook",
                "network_account_id": page,
                "handle": f"page{i}",
                "active": True,
            }
            for i, page in enumerate(pages)
        ]
    )
    run = uuid.uuid4().hex[:6]
    _, _, warm_failed = await send_all(url, calls(pages, args.warmup, 1, f"w{run}"), 2)
    print(f"warm-up: {args.warmup} calls, {warm_failed} failed", flush=True)

    signed = calls(pages, args.messages, args.per_call, run)
    cpu0 = cpu_s(pids)
    wall_s, latencies, failed = await send_all(url, signed, args.concurrency)
    cpu1 = cpu_s(pids)
    stored = await db["messages"].find({"network_message_id": {"$regex": f"^{run}_"}}).to_list()
    if len(stored) != args.messages:
        print(f"note: {len(stored)}/{args.messages} messages stored")
    raw = [await raw_insert_s(client, [dict(d) for d in stored]) for _ in range(args.raw_passes)]
    await client.close()

    raw_s = statistics.median(raw)
    ingest_per_s = len(stored) / wall_s
    raw_per_s = len(stored) / raw_s if raw_s else float("nan")
    latencies.sort()
    figures = {
        "messages_per_s_webhook": ingest_per_s,
        "messages_per_s_raw_insert": raw_per_s,
        "ratio_webhook_to_raw": ingest_per_s / raw_per_s,
        "call_latency_p50_ms": latencies[len(latencies) // 2] * 1000,
        "call_latency_p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        **{
            f"{name}_ms_cpu_per_message": (cpu1[name] - cpu0[name]) * 1000 / max(len(stored), 1)
            for name in pids
        },
    }
    print(
        f"\n{args.messages} messages in {len(signed)} calls ({args.per_call}/call), "
        f"{args.concurrency} in flight: {len(stored)} stored, {failed} calls failed"
    )
    print_figures(figures, 28)
    summary = {
        "bench": "inbox_ingest",
        "messages": args.messages,
        "per_call": args.per_call,
        "concurrency": args.concurrency,
        "stored": len(stored),
        "wall_s": round(wall_s, 3),
        "raw_passes_s": [round(r, 4) for r in raw],
        **{k: float(f"{v:.4g}") for k, v in figures.items()},
    }
    print(json.dumps(summary, separators=(",", ":")))


def main() -> int:
    """Start infra and the inbox; measure; always stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="measured messages")
    parser.add_argument("--per-call", type=int, default=1, help="comments per webhook call")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight")
    parser.add_argument("--accounts", type=int, default=10, help="connected Facebook Pages")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up calls, not measured")
    parser.add_argument("--raw-passes", type=int, default=3, help="raw insert passes")
    parser.add_argument("--timeout", type=float, default=900.0, help="overall bound, seconds")
    args = parser.parse_args()

    database = f"siar_bench_{uuid.uuid4().hex[:8]}_inbox"
    extra = {
        "SIAR_INBOX_DATABASE": database,
        "SIAR_INBOX_WEBHOOK_SECRETS__FACEBOOK": SECRET,
        # The bench's Pages have no credentials: keep the poller away from them.
        "SIAR_INBOX_POLL_MIN_INTERVAL_S__FACEBOOK": "1000000",
        "SIAR_LOG_LEVEL": os.environ.get("SIAR_LOG_LEVEL", "WARNING"),
    }
    with running(LOG_DIR, extra, services=("inbox",), ready="inbox") as (infra, platform):
        url = f"{platform.urls['inbox']}/webhooks/facebook"
        pids = stack_pids(infra, platform, ("inbox",))
        return run_bounded(measure(url, infra.mongodb_url, database, pids, args), args.timeout)


if __name__ == "__main__":
    sys.exit(main())
