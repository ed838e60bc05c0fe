"""Scheduler outcomes without transactions: recording rate, redelivery rate, retry index cost.

On the embedded nx-27017 (or ``SIAR_MONGODB_URL``/``SIAR_KAFKA_BOOTSTRAP``), prints:

1. ``post.published``/``post.failed`` recorded per second by one scheduler service with
   ``--concurrency`` handlers at once (each: processed-mark check, post read,
   version-conditional replace, notice for a failure, processed mark), with per-outcome
   latency percentiles; then the same events again (redeliveries: stopped by the mark).
2. What the ``retry_pending`` index costs the firing gate: a bulk replace of
   ``--batch`` posts, in alternating rounds on collections with and without the index.

    uv run python tests/bench/bench_scheduler_outcomes.py --posts 1000 --rounds 6
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostFailed, PostPublished, utcnow
from siar.devstack import start_infra
from siar.runtime.mongo import Document, create_mongo_client, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_scheduler.domain import Post, PostStatus, Target, TargetStatus
from siar_scheduler.service import SchedulerService
from siar_scheduler.store import INDEXES, SchedulerStore
from siar_scheduler.workflow import Workflow
from siar_scheduler.workflow_store import WORKFLOW_INDEXES, WorkflowStore

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import stats  # noqa: E402


def dispatched(ws: str) -> Post:
    """A post fired to two accounts, awaiting both outcomes."""
    now = utcnow()
    return Post(
        id=f"pst_{uuid.uuid4().hex[:20]}",
        workspace_id=ws,
        text="bench " * 30,
        scheduled_at=now - timedelta(minutes=1),
        status=PostStatus.DISPATCHED,
        targets=[
            Target(account_id=a, network="sandbox", status=TargetStatus.DISPATCHED)
            for a in ("acc_a", "acc_b")
        ],
        created_by="usr_bench",
        created_at=now,
        updated_at=now,
    )


def outcomes(post: Post) -> list[PostPublished | PostFailed]:
    """One success and one failure for the post."""
    common = {"workspace_id": post.workspace_id, "post_id": post.id, "network": "sandbox"}
    return [
        PostPublished.new(
            **common,
            account_id="acc_a",
            occurrence=post.occurrence,
            network_post_id=f"net_{post.id}",
            published_at=utcnow(),
        ),
        PostFailed.new(
            **common,
            account_id="acc_b",
            occurrence=post.occurrence,
            error_class="permanent",
            reason="refused",
            retryable=False,
            attempts=1,
        ),
    ]


async def record_all(
    service: SchedulerService, events: list[PostPublished | PostFailed], concurrency: int
) -> tuple[float, list[float]]:
    """Record ``events`` with ``concurrency`` handlers; wall seconds and each one's ms."""
    queue = list(reversed(events))
    latencies: list[float] = []

    async def handler() -> None:
        while queue:
            event = queue.pop()
            t0 = time.perf_counter()
            await service.record_outcome(event, "bench")
            latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(handler() for _ in range(concurrency)))
    return time.perf_counter() - t0, latencies


async def measure_outcomes(db: AsyncDatabase[Document], posts: int, concurrency: int) -> None:
    await ensure_indexes(db, [*INDEXES, *WORKFLOW_INDEXES, *OUTBOX_INDEXES, *PROCESSED_INDEXES])
    seeded = [dispatched("ws_bench") for _ in range(posts)]
    await db["posts"].insert_many([{**p.model_dump(mode="python"), "_id": p.id} for p in seeded])
    events = [e for p in seeded for e in outcomes(p)]

    async def no_vault(workspace_id: str, account_id: str) -> dict[str, str] | None:
        return None

    service = SchedulerService(
        store=SchedulerStore(db),
        uow=UnitOfWork(db.client, db, Outbox(db)),
        lookup_account=no_vault,
        min_lead_s=1.0,
    )
    async with httpx.AsyncClient() as http:
        Workflow.wire(service, WorkflowStore(db), http, service_secret="bench-service-secret")
        for label in ("first delivery", "redelivery"):
            wall, latencies = await record_all(service, events, concurrency)
            print(
                f"outcomes, {label}: {len(events)} in {wall:.2f} s = "
                f"{len(events) / wall:.0f}/s (concurrency {concurrency}); ms {stats(latencies)}"
            )
    assert await db["failure_notices"].count_documents({}) == posts


async def bulk_replace_ms(db: AsyncDatabase[Document], name: str, batch: int, round_: int) -> float:
    docs = await db[name].find({}).to_list()
    ops = [
        ReplaceOne(
            {"_id": d["_id"], "version": d["version"]},
            {**{k: v for k, v in d.items() if k != "_id"}, "version": d["version"] + 1},
        )
        for d in docs
    ]
    t0 = time.perf_counter()
    result = await db[name].bulk_write(ops, ordered=False)
    assert result.matched_count == batch, (name, round_)
    return (time.perf_counter() - t0) * 1000


async def measure_index(db: AsyncDatabase[Document], batch: int, rounds: int) -> None:
    posts = [i for i in INDEXES if i.collection == "posts"]
    plain = [i for i in posts if i.name != "retry_pending"]
    assert len(plain) == len(posts) - 1, "the store no longer has a retry_pending index"
    for name, indexes in (("with_index", posts), ("without_index", plain)):
        await ensure_indexes(db, [replace(i, collection=name) for i in indexes])
        await db[name].insert_many(
            [{**dispatched("ws_bench").model_dump(mode="python")} for _ in range(batch)]
        )
    times: dict[str, list[float]] = {"with_index": [], "without_index": []}
    for round_ in range(rounds):
        order = list(times) if round_ % 2 == 0 else list(reversed(times))  # no order bias
        for name in order:
            times[name].append(await bulk_replace_ms(db, name, batch, round_))
    for name, values in times.items():
        print(
            f"bulk replace of {batch} posts, {name.replace('_', ' ')}: median "
            f"{statistics.median(values):.0f} ms over {rounds} rounds "
            f"({' '.join(f'{v:.0f}' for v in values)})"
        )


async def main(posts: int, concurrency: int, batch: int, rounds: int) -> None:
    infra = start_infra(Path(tempfile.mkdtemp(prefix="siar-bench-outcomes-")))
    try:
        client = create_mongo_client(infra.mongodb_url, app_name="siar-bench-outcomes")
        db = client[f"siar_bench_outcomes_{uuid.uuid4().hex[:8]}"]
        try:
            print(f"MongoDB: {infra.kind}")
            await measure_outcomes(db, posts, concurrency)
            await measure_index(db, batch, rounds)
        finally:
            await client.drop_database(db.name)
            await client.close()
    finally:
        infra.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000, help="posts, two outcomes each")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.concurrency, args.batch, args.rounds))
