"""Benchmark: the unified inbox's main query over 100,000 conversations.

Starts MongoDB as the tests do (external URL, testcontainers or the embedded nx-27017),
creates the inbox's indexes, seeds one workspace with N conversations (default 100,000;
plus a neighbour workspace with a tenth as many) with insert_many in big batches, and
times, through the inbox's own query code (``ConversationQueries``):

* a bare ``find`` of the same page (open, newest first, 50) — the baseline,
* the inbox page (open, newest first, 50),
* the page with a typical filter (open + one network + priority high/urgent),
* the page with a full-text search term,
* the next page through the cursor,
* the sidebar counts (one small aggregation per dimension) for open conversations,
* page + counts, as the web app asks for them on first load.

Prints p50/p95 in ms and each p95 as a ratio to the bare find's; never asserts timings.
Run from the repo root:

    uv run python tests/bench/bench_inbox_query.py [--conversations 100000] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from siar.devstack import start_infra
from siar.runtime.mongo import Document, create_mongo_client, ensure_indexes
from siar_inbox.listing import INDEXES as LISTING_INDEXES
from siar_inbox.listing import ConversationQueries
from siar_inbox.queries import SORT, InboxFilter
from siar_inbox.search import terms
from siar_inbox.snooze import INDEXES as SNOOZE_INDEXES
from siar_inbox.store import INDEXES, InboxStore

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import percentile  # noqa: E402  (repo root on sys.path)

LOG_DIR = ROOT / "test-artifacts" / "bench" / "inbox_query"
WS = "ws_bench"
ME = "usr_0"
NETWORKS = ("instagram", "facebook", "x", "tiktok", "linkedin", "youtube", "threads", "bluesky")
WORDS = [
    "terima",
    "kasih",
    "produknya",
    "bagus",
    "sekali",
    "pengiriman",
    "cepat",
    "harga",
    "mahal",
    "kapan",
    "promo",
    "thanks",
    "love",
    "this",
    "where",
    "is",
    "my",
    "order",
    "refund",
    "please",
    "broken",
    "late",
    "great",
    "service",
    "kualitas",
    "mantap",
    "kecewa",
    "sudah",
    "dua",
    "minggu",
    "belum",
    "sampai",
    "tolong",
    "dibantu",
    "admin",
]


def conversation(i: int, workspace_id: str, now: datetime, rng: random.Random) -> Document:
    """One realistic conversation document, as the inbox stores it."""
    text = " ".join(rng.choices(WORDS, k=rng.randint(4, 14))) + rng.choice(
        ["", " 👍", " 😡", " 🙏"]
    )
    last = now - timedelta(seconds=rng.randint(0, 90 * 24 * 3600))
    status = rng.choices(["open", "pending", "closed", "snoozed"], [60, 10, 25, 5])[0]
    sentiment = rng.choices(["positive", "neutral", "negative"], [30, 50, 20])[0]
    return {
        "_id": f"cnv_{workspace_id}_{i:08d}",
        "workspace_id": workspace_id,
        "account_id": f"acc_{i % 6}",
        "network": NETWORKS[i % len(NETWORKS)],
        "kind": rng.choices(["comment", "dm", "mention", "reply", "review"], [55, 25, 10, 8, 2])[0],
        "network_post_id": f"p{i // 20}",
        "post_id": None,
        "status": status,
        "message_count": rng.randint(1, 12),
        "last_message_at": last,
        "last_ts": last.timestamp(),
        "first_message_at": last - timedelta(minutes=rng.randint(0, 600)),
        "last_message_text": text[:280],
        "assignee": rng.choice([None, None, ME, "usr_1", "usr_2"]),
        "tags": rng.sample(["vip", "refund", "shipping", "praise", "spam"], rng.randint(0, 2)),
        "sentiment": sentiment,
        "language": rng.choice(["id", "en"]),
        "priority": "high" if sentiment == "negative" else rng.choice(["normal", "normal", "low"]),
        "influencer": rng.random() < 0.02,
        "search_terms": terms(f"{text} fan{i} Fan {i}"),
    }


async def seed(queries: ConversationQueries, count: int, batch: int) -> float:
    """Insert ``count`` conversations (and a tenth for a neighbour); seconds taken."""
    raw = queries.store.conversations.raw
    rng = random.Random(7)
    now = datetime.now(UTC)
    started = time.monotonic()
    for workspace_id, n in ((WS, count), ("ws_neighbour", count // 10)):
        for first in range(0, n, batch):
            docs = [
                conversation(i, workspace_id, now, rng) for i in range(first, min(n, first + batch))
            ]
            await raw.insert_many(docs, ordered=False)
    return time.monotonic() - started


async def timed(op: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    """Milliseconds per run of ``op`` (after one warm-up run)."""
    await op()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await op()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def measure(url: str, args: argparse.Namespace) -> None:
    """Seed, then time each query shape and print the table."""
    client = create_mongo_client(url, app_name="siar-bench-inbox-query")
    db = client[f"siar_bench_inbox_{int(time.time())}"]
    try:
        await ensure_indexes(db, [*INDEXES, *LISTING_INDEXES, *SNOOZE_INDEXES])
        queries = ConversationQueries(InboxStore(db))
        took = await seed(queries, args.conversations, args.batch)
        total = args.conversations + args.conversations // 10
        print(f"seeded {total:,} conversations in {took:.1f} s ({total / took:,.0f}/s)")
        raw = queries.store.conversations.raw
        open_ = InboxFilter(statuses=["open"])
        typical = InboxFilter(
            statuses=["open"], networks=["instagram"], priorities=["high", "urgent"]
        )
        searched = InboxFilter(statuses=["open"], text="refund")
        first = await queries.page(WS, open_, me=ME, cursor=None, limit=50)

        async def bare() -> list[Document]:
            cursor = raw.find({"workspace_id": WS, "status": "open"}, sort=SORT, limit=50)
            return await cursor.to_list()

        async def page_and_counts() -> None:
            await queries.page(WS, open_, me=ME, cursor=None, limit=50)
            await queries.counts(WS, open_, me=ME)

        shapes: dict[str, Callable[[], Awaitable[Any]]] = {
            "bare find (baseline)": bare,
            "page: open": lambda: queries.page(WS, open_, me=ME, cursor=None, limit=50),
            "page: open+network+priority": lambda: queries.page(
                WS, typical, me=ME, cursor=None, limit=50
            ),
            "page: open+search 'refund'": lambda: queries.page(
                WS, searched, me=ME, cursor=None, limit=50
            ),
            "page 2 via cursor": lambda: queries.page(
                WS, open_, me=ME, cursor=first.next_cursor, limit=50
            ),
            "sidebar counts (open)": lambda: queries.counts(WS, open_, me=ME),
            "page + counts": page_and_counts,
        }
        results = {name: await timed(op, args.runs) for name, op in shapes.items()}
        base = percentile(results["bare find (baseline)"], 95)
        print(f"\n{'query':32} {'runs':>5} {'p50 ms':>9} {'p95 ms':>9} {'p95 / bare':>11}")
        for name, values in results.items():
            p50, p95 = percentile(values, 50), percentile(values, 95)
            print(f"{name:32} {len(values):>5} {p50:>9.1f} {p95:>9.1f} {p95 / base:>11.2f}")
    finally:
        await client.drop_database(db.name)
        await client.close()


def main() -> int:
    """Start MongoDB, run the measurement, stop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="siar-bench-inbox-") as tmp:
        infra = start_infra(Path(tmp), log_dir=LOG_DIR)
        try:
            print(f"{infra.kind} MongoDB at {infra.mongodb_url}", flush=True)
            asyncio.run(measure(infra.mongodb_url, args))
        finally:
            infra.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
