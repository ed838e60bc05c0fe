"""Benchmark: what re-queueing evergreen posts costs a firing batch, on and off the gate's path.

On the embedded nx-27017 (or ``SIAR_MONGODB_URL``), with ``--pending`` scheduled posts
stored (a quarter of them on the queued accounts, a week or more ahead), fires batches
of ``--batch`` posts of three kinds, in alternating rounds:

- ``one-off``: ordinary posts;
- ``evergreen, no queue``: evergreen posts whose account has no queue (one read of
  the queues finds none; they stay at the same wall-clock time);
- ``evergreen, queued``: evergreen posts spread over ``--accounts`` queued accounts
  (one read each of queues, held slots and claims, one ``insert_many`` of claims, one
  ``bulk_write`` of conditional replaces).

Prints per kind, median and max over ``--rounds``: ``Firing.fire_many`` (the gate and
the outbox rows: what a spike waits for) and the background work after it (the move
into queue slots, then clearing ``emit_pending``), awaited with ``Firing.settled``.
Figures only, never asserted. From the repo root:

    uv run python tests/bench/bench_evergreen_requeue.py [--pending 20000] [--batch 250]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.devstack import start_infra
from siar.runtime.mongo import Document, create_mongo_client, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar_scheduler.domain import Post, PostStatus, Target
from siar_scheduler.firing import FIRING_INDEXES, Firing
from siar_scheduler.queues import Slot, make_schedule
from siar_scheduler.recurrence import check_evergreen
from siar_scheduler.store import INDEXES
from siar_scheduler.timing_store import TIMING_INDEXES

WS = "ws_bench"
HOURS = [f"{h:02d}:00" for h in range(8, 20)]
QUEUE = make_schedule(
    "Europe/Berlin",
    [Slot(day=d, time=t) for d in ("mon", "tue", "wed", "thu", "fri") for t in HOURS],
)


def post(account: str, due: datetime, *, evergreen: bool) -> Document:
    now = utcnow()
    doc = Post(
        id=f"pst_{uuid.uuid4().hex[:20]}",
        workspace_id=WS,
        text="bench",
        scheduled_at=due,
        status=PostStatus.SCHEDULED,
        targets=[Target(account_id=account, network="sandbox")],
        evergreen=check_evergreen(7, 3, "Europe/Berlin") if evergreen else None,
        created_by="usr_bench",
        created_at=now,
        updated_at=now,
    ).model_dump(mode="python")
    return {**doc, "_id": doc["id"]}


async def setup(db: AsyncDatabase[Document], pending: int, accounts: int) -> None:
    await ensure_indexes(db, [*INDEXES, *TIMING_INDEXES, *FIRING_INDEXES, *OUTBOX_INDEXES])
    queues = [
        {**QUEUE.model_dump(), "workspace_id": WS, "account_id": f"acc_q{i}"}
        for i in range(accounts)
    ]
    await db["queues"].insert_many(queues)
    start = utcnow() + timedelta(days=7)
    docs = [
        # A quarter sit on the queued accounts a week or more ahead: slots to skip.
        post(
            f"acc_q{i % accounts}" if i % 4 == 0 else f"acc_bg{i % 300}",
            start + timedelta(hours=i % 2000),
            evergreen=False,
        )
        for i in range(pending)
    ]
    for at in range(0, len(docs), 10_000):
        await db["posts"].insert_many(docs[at : at + 10_000], ordered=False)


async def one_round(
    db: AsyncDatabase[Document], firing: Firing, kind: str, batch: int, accounts: int
) -> tuple[float, float]:
    due = utcnow()
    docs = [
        post(
            f"acc_q{i % accounts}" if kind == "evergreen, queued" else f"acc_x{i % accounts}",
            due,
            evergreen=kind != "one-off",
        )
        for i in range(batch)
    ]
    await db["posts"].insert_many(docs)
    started = time.perf_counter()
    won = await firing.fire_many([(WS, d["_id"], d["version"], due) for d in docs])
    gated = time.perf_counter()
    await firing.settled()
    assert len(won) == batch  # a bench of a broken firing would mislead
    return (gated - started) * 1000, (time.perf_counter() - gated) * 1000


async def main(args: argparse.Namespace) -> None:
    infra = start_infra(Path(tempfile.mkdtemp(prefix="siar-bench-evergreen-")))
    client = create_mongo_client(infra.mongodb_url, app_name="siar-bench-evergreen")
    db = client[f"siar_bench_evergreen_{uuid.uuid4().hex[:8]}"]
    try:
        print(f"MongoDB: {infra.kind}")
        await setup(db, args.pending, args.accounts)
        firing = Firing(db["posts"], Outbox(db))
        kinds = ("one-off", "evergreen, no queue", "evergreen, queued")
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
        for _ in range(args.rounds):
            for kind in kinds:  # alternating, so drift over the run hits all kinds alike
                times[kind].append(await one_round(db, firing, kind, args.batch, args.accounts))
        for kind in kinds:
            gate = [t for t, _ in times[kind]]
            after = [s for _, s in times[kind]]
            print(
                f"{kind:<20} {args.batch} posts/batch: fire_many median "
                f"{statistics.median(gate):7.1f} ms (max {max(gate):7.1f}); "
                f"after it, in the background: median {statistics.median(after):7.1f} ms "
                f"(max {max(after):7.1f})"
            )
    finally:
        await client.drop_database(db.name)
        await client.close()
        infra.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=25)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
