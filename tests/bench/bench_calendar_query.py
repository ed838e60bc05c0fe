"""Benchmark: one month's calendar of a 50-account workspace (~6,000 posts), against a bare find.

In one run, on one MongoDB (``SIAR_MONGODB_URL`` + ``SIAR_KAFKA_BOOTSTRAP`` if both
are set, else testcontainers or the embedded nx-27017):

* seed a workspace with 50 accounts and about 6,000 posts in one month, plus posts in
  the months around it and in another workspace (so the filter has work to do), with
  the scheduler's own indexes;
* time one CSV import of 5,000 rows (after the calendar rounds);
* time, alternately, R rounds (default 20) of
  - the baseline: a bare PyMongo ``find`` of the same filter and sort, ``to_list()``;
  - the calendar query: ``CalendarService.find`` (same documents, parsed into posts);
  - the calendar over HTTP: ``GET /v1/workspaces/{ws}/posts?from=&to=&limit=10000``
    through the real routes (ASGI, no network), JSON included;
  - the same three with a filter (one network and one campaign label).

Prints p50 and p95 per query and the p95 ratio to the bare find. Never asserts timings.
Run from the repo root:

    uv run python tests/bench/bench_calendar_query.py [--rounds 20] [--posts 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from siar.devstack import start_infra  # noqa: E402
from siar.runtime.mongo import Document, create_mongo_client  # noqa: E402
from siar_scheduler.calendar_ops import CalendarFilter  # noqa: E402
from siar_scheduler.domain import PostStatus  # noqa: E402
from tests.integration.scheduler_workflow_app import (  # noqa: E402  (needs the repo root)
    Harness,
    auth,
    scheduler_harness,
)

NETWORKS = ("bluesky", "sandbox", "x", "linkedin", "facebook")
MONTH_START = datetime(2030, 3, 1, tzinfo=UTC)
MONTH_END = datetime(2030, 4, 1, tzinfo=UTC)


def post_doc(
    ws: str, i: int, at: datetime, accounts: list[tuple[str, str]], label: str
) -> Document:
    """A stored post as the scheduler writes it."""
    chosen = random.sample(accounts, k=random.choice((1, 1, 2, 3)))
    post_id = f"pst_{uuid.uuid4().hex[:20]}"
    return {
        "_id": post_id,
        "id": post_id,
        "workspace_id": ws,
        "text": f"Post {i}: " + "lorem ipsum dolor sit amet " * random.randint(1, 8),
        "link": None,
        "media_ids": [],
        "scheduled_at": at,
        "status": random.choice(
            (PostStatus.SCHEDULED, PostStatus.DRAFT, PostStatus.PUBLISHED)
        ).value,
        "targets": [{"account_id": a, "network": n, "status": "scheduled"} for a, n in chosen],
        "created_by": f"usr_{i % 7}",
        "created_at": MONTH_START - timedelta(days=10),
        "updated_at": MONTH_START - timedelta(days=10),
        "version": 1,
        "label_ids": [label] if i % 4 == 0 else [],
        "review": [],
        "retries": 0,
    }


async def seed(app: Harness, posts: int, label: str) -> None:
    """``posts`` in the month, a third as many around it and in another workspace."""
    ws = app.workspace_id
    accounts = [(f"acc_{n}", NETWORKS[n % len(NETWORKS)]) for n in range(50)]
    span = (MONTH_END - MONTH_START).total_seconds()
    docs = [
        post_doc(ws, i, MONTH_START + timedelta(seconds=random.uniform(0, span)), accounts, label)
        for i in range(posts)
    ]
    docs += [
        post_doc(ws, i, MONTH_END + timedelta(days=random.uniform(0, 60)), accounts, label)
        for i in range(posts // 3)
    ]
    docs += [
        post_doc(
            "ws_other", i, MONTH_START + timedelta(seconds=random.uniform(0, span)), accounts, label
        )
        for i in range(posts // 3)
    ]
    for start in range(0, len(docs), 1000):
        await app.db["posts"].insert_many(docs[start : start + 1000])


async def timed(fn: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = await fn()
    return (time.perf_counter() - t0) * 1000, n


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]


async def measure(app: Harness, rounds: int, label: str) -> None:
    ws = app.workspace_id
    params: dict[str, Any] = {
        "from": MONTH_START.isoformat(),
        "to": MONTH_END.isoformat(),
        "limit": 10000,
    }
    cases: dict[str, tuple[CalendarFilter, dict[str, Any]]] = {
        "whole month": (CalendarFilter(), {}),
        "network + label": (
            CalendarFilter(networks=("bluesky",), label_ids=(label,)),
            {"network": "bluesky", "label_id": label},
        ),
    }
    for name, (where, extra) in cases.items():
        query = {**where.query(MONTH_START, MONTH_END), "workspace_id": ws}

        async def bare(query: dict[str, Any] = query) -> int:
            return len(await app.db["posts"].find(query, sort=[("scheduled_at", 1)]).to_list())

        async def service(where: CalendarFilter = where) -> int:
            found = await app.workflow.calendar.find(
                ws, start=MONTH_START, end=MONTH_END, where=where, limit=10000
            )
            return len(found)

        async def http(extra: dict[str, Any] = extra) -> int:
            r = await app.http.get(
                app.url("/posts"), params={**params, **extra}, headers=auth("viewer")
            )
            assert r.status_code == 200, r.text
            return len(r.json()["items"])

        runs: dict[str, list[float]] = {
            "bare find": [],
            "calendar (service)": [],
            "calendar (HTTP)": [],
        }
        queries: list[Callable[[], Awaitable[int]]] = [bare, service, http]
        counts: dict[str, int] = {}
        for query_fn in queries:  # warm-up, and the counts must agree
            _, counts[query_fn.__name__] = await timed(query_fn)
        assert len(set(counts.values())) == 1, counts
        for _ in range(rounds):
            for key, query_fn in zip(runs, queries, strict=True):
                ms, _ = await timed(query_fn)
                runs[key].append(ms)
        base = p95(runs["bare find"])
        print(f"\n{name}: {counts['bare']} posts returned, {rounds} rounds")
        print(f"  {'query':<22}{'p50 ms':>10}{'p95 ms':>10}{'p95 / bare':>12}")
        for key, values in runs.items():
            print(
                f"  {key:<22}{statistics.median(values):>10.1f}{p95(values):>10.1f}"
                f"{p95(values) / base:>12.2f}"
            )


async def time_import(app: Harness, rows: int) -> None:
    """One CSV import of ``rows`` valid rows on two accounts (all written in one bulk insert)."""
    base = datetime.now(UTC) + timedelta(days=2)
    lines = ["scheduled_at,timezone,account_ids,text"]
    lines += [
        f"{(base + timedelta(minutes=i)).isoformat()},,acc_box;acc_sky,Imported post {i}"
        for i in range(rows)
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    t0 = time.perf_counter()
    r = await app.http.post(app.url("/posts:import"), content=data, headers=auth("editor"))
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    print(f"\nCSV import: {r.json()['imported']} rows ({len(data)} bytes) in {elapsed:.2f}s")


async def main(rounds: int, posts: int) -> None:
    random.seed(7)
    infra = start_infra(Path(tempfile.mkdtemp(prefix="siar-bench-cal-")))
    try:
        client = create_mongo_client(infra.mongodb_url, app_name="siar-bench-calendar")
        db = client[f"siar_bench_calendar_{uuid.uuid4().hex[:8]}"]
        try:
            async with scheduler_harness(
                client, db, "ws_bench", serialize=infra.kind == "embedded"
            ) as app:
                r = await app.http.post(
                    app.url("/labels"),
                    json={"name": "Spring", "colour": "#00aa00"},
                    headers=auth("editor"),
                )
                label = str(r.json()["id"])
                t0 = time.perf_counter()
                await seed(app, posts, label)
                print(
                    f"MongoDB: {infra.kind}; seeded {posts} + {2 * (posts // 3)} posts in "
                    f"{time.perf_counter() - t0:.1f}s"
                )
                await measure(app, rounds, label)
                await time_import(app, 5000)
        finally:
            await client.drop_database(db.name)
            await client.close()
    finally:
        infra.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--posts", type=int, default=6000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.posts))
