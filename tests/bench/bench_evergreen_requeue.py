"""Benchmark: what re-queueing evergreen posts adds to a firing batch (``Firing.fire_many``).

On the embedded nx-27017 (or ``SIAR_MONGODB_URL``), with ``--pending`` scheduled posts
stored (a quarter of them holding slots of the queued accounts in the search window),
fires batches of ``--batch`` posts of three kinds, in alternating rounds:

- ``one-off``: ordinary posts (the spike's path: no reads beyond the gate's own);
- ``evergreen, no queue``: evergreen posts whose account has no queue (one read of
  the queues finds none; they come back at the same wall-clock time);
- ``evergreen, queued``: evergreen posts spread over ``--accounts`` queued accounts
  (one batch read of queues, held slots and claims, one ``insert_many`` of claims).

Prints the milliseconds per batch (median and max over ``--rounds``) and per post, and
the share of the queued batch spent choosing and claiming slots. Figures only, never
asserted. From the repo root:

    uv run python tests/bench/bench_evergreen_requeue.py [--pending 20000] [--batch 250]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
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


class TimedFiring(Firing):
    """Firing that also adds up the time spent choosing and claiming slots."""

    requeue_s = 0.0

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        super().__init__(db["posts"], Outbox(db))
        inner = self.requeue.slots

        async def timed(batch: Sequence[Post]) -> dict[str, datetime]:
            started = time.perf_counter()
            try:
                return await inner(batch)
            finally:
                self.requeue_s += time.perf_counter() - started

        self.requeue.slots = timed  # type: ignore[method-assign]


async def one_round(
    db: AsyncDatabase[Document], firing: TimedFiring, kind: str, batch: int, accounts: int
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
    slots_before = firing.requeue_s
    won = await firing.fire_many([(WS, d["_id"], d["version"], due) for d in docs])
    took = (time.perf_counter() - started) * 1000
    assert len(won) == batch  # a bench of a broken firing would mislead
    return took, (firing.requeue_s - slots_before) * 1000


async def main(args: argparse.Namespace) -> None:
    infra = start_infra(Path(tempfile.mkdtemp(prefix="siar-bench-evergreen-")))
    client = create_mongo_client(infra.mongodb_url, app_name="siar-bench-evergreen")
    db = client[f"siar_bench_evergreen_{uuid.uuid4().hex[:8]}"]
    try:
        print(f"MongoDB: {infra.kind}")
        await setup(db, args.pending, args.accounts)
        firing = TimedFiring(db)
        kinds = ("one-off", "evergreen, no queue", "evergreen, queued")
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
        for _ in range(args.rounds):
            for kind in kinds:  # alternating, so drift over the run hits all kinds alike
                times[kind].append(await one_round(db, firing, kind, args.batch, args.accounts))
        for kind in kinds:
            total = [t for t, _ in times[kind]]
            slots = [s for _, s in times[kind]]
            print(
                f"{kind:<20} {args.batch} posts/batch: median {statistics.median(total):7.1f} ms "
                f"(max {max(total):7.1f}), {statistics.median(total) / args.batch:.2f} ms/post; "
                f"choosing+claiming slots median {statistics.median(slots):6.1f} ms"
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
