"""Benchmark: the workspace overview report over a year of data, vs a bare aggregation.

Starts the embedded stack's MongoDB (nx-27017; Tansu starts beside it but is unused)
and fills one workspace with what a year of collection leaves behind: for A accounts a
daily (and hourly) roll-up of followers, impressions and reach every day, each
account's latest values with audience dimensions, P posts spread over the year with
their latest/day/hour metric roll-ups, their catalog entries and their score documents
(``post_scores``), and a daily inbox roll-up per account. The documents are built with
the service's own functions (``rollups.merge``, ``series_store.bucket_id``,
``post_scores.score_doc``), so they are the documents a running service writes, and
inserted in bulk.

Then it times N runs of ``ReportService.overview`` over that year, and N runs of a
bare aggregation (a ``$group`` count over the account roll-ups, the post catalog
and the inbox roll-ups, in MongoDB, with nothing shipped back but the counts: the same
baseline as before post scores, to compare figures across versions). Prints p50/p95
of both and the ratio of the p95s. Figures only, never asserts.

    uv run python tests/bench/bench_analytics_reports.py [--accounts 100] [--posts 50000] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pymongo.asynchronous.database import AsyncDatabase  # noqa: E402

from siar.devstack import start_infra  # noqa: E402
from siar.runtime.mongo import Document, create_mongo_client, ensure_indexes  # noqa: E402
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox  # noqa: E402
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork  # noqa: E402
from siar_analytics.post_scores import SCORES, about_of, score_doc, seen_of  # noqa: E402
from siar_analytics.report_service import ReportService, Scope  # noqa: E402
from siar_analytics.report_wiring import REPORT_INDEXES  # noqa: E402
from siar_analytics.reports import hashtags_of  # noqa: E402
from siar_analytics.rollups import Reading, bucket_of, merge, series_key  # noqa: E402
from siar_analytics.series_store import BUCKETS, SERIES_INDEXES, bucket_id  # noqa: E402

WS = "ws_bench"
END = date(2026, 6, 30)
START = END - timedelta(days=364)
NETWORKS = ("x", "bluesky", "instagram", "linkedin", "sandbox")
TAGS = ("#launch", "#sale", "#tips", "#team", "#news", "#howto", "#event", "#promo")
BATCH = 2000
LOG_DIR = ROOT / "test-artifacts" / "bench" / "analytics_reports"


class Buckets:
    """Roll-up documents built in memory as ``SeriesStore.record`` would write them."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    def add(
        self, account: str, network: str, reading: Reading, post: dict[str, Any] | None
    ) -> None:
        scope = "post" if post else "account"
        nid = post["network_post_id"] if post else None
        series = series_key(account, scope, nid)
        targets = {"latest": ("-", "last")}
        at = datetime.fromtimestamp(reading.ts, UTC)
        targets.update({g: bucket_of(g, at) for g in ("hour", "day")})  # type: ignore[arg-type]
        for grain, (period, slot) in targets.items():
            _id = bucket_id(WS, grain, series, period)
            doc = self.docs.setdefault(
                _id,
                {
                    "_id": _id,
                    "workspace_id": WS,
                    "account_id": account,
                    "network": network,
                    "scope": scope,
                    "series": series,
                    "network_post_id": nid,
                    "post_id": post["post_id"] if post else None,
                    "published_ts": post["published_ts"] if post else None,
                    "grain": grain,
                    "period": period,
                    "slots": {},
                    "rev": 0,
                },
            )
            merged = merge(doc["slots"].get(slot), reading)
            if merged is not None:
                doc["slots"][slot] = merged
                doc["collected_ts"] = max(float(s["ts"]) for s in doc["slots"].values())
                doc["rev"] += 1


def build(accounts: int, posts: int, seed: int) -> dict[str, list[Document]]:
    """Every document of the workspace, by collection."""
    rnd = random.Random(seed)
    buckets = Buckets()
    inbox: list[Document] = []
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    account_network = {f"acc_{a}": NETWORKS[a % len(NETWORKS)] for a in range(accounts)}
    for account, network in account_network.items():
        followers = rnd.uniform(500, 50_000)
        for n, day in enumerate(days):
            followers *= 1 + rnd.uniform(-0.001, 0.004)
            last = n == len(days) - 1
            reading = Reading(
                ts=datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp(),
                metrics={
                    "followers": round(followers),
                    "impressions": round(followers * rnd.uniform(0.05, 0.4)),
                    "reach": round(followers * rnd.uniform(0.03, 0.2)),
                },
                dimensions={"country": {"ID": 0.6, "SG": 0.25, "MY": 0.15}} if last else None,
            )
            buckets.add(account, network, reading, None)
            received = rnd.randint(0, 12)
            inbox.append(
                {
                    "workspace_id": WS,
                    "account_id": account,
                    "day": day.isoformat(),
                    "network": network,
                    "received": received,
                    "kinds": {"comment": received},
                    "sentiment": {"positive": received // 2, "neutral": received - received // 2},
                    "responded": received // 3,
                    "response_s": 900.0 * (received // 3),
                    "response_h": {"le_15m": received // 3},
                    "resolution_h": {},
                }
            )
    catalog: list[Document] = []
    span = (END - START).days * 86400 + 86399
    first = datetime(START.year, START.month, START.day, tzinfo=UTC).timestamp()
    ids = list(account_network)
    for p in range(posts):
        account = ids[p % len(ids)]
        published = first + rnd.uniform(0, span)
        text = f"Post {p} " + " ".join(rnd.sample(TAGS, rnd.randint(0, 3)))
        post = {
            "workspace_id": WS,
            "post_id": f"pst_{p}",
            "account_id": account,
            "network": account_network[account],
            "network_post_id": f"n{p}",
            "permalink": f"https://example.invalid/p/{p}",
            "published_ts": published,
            "text": text,
            "hashtags": hashtags_of(text),
            "content_type": rnd.choice(("text", "image", "video", "link")),
            "format": rnd.choice(("feed", "feed", "carousel", "reel")),
        }
        catalog.append(post)
        impressions = rnd.uniform(100, 20_000)
        reading = Reading(
            ts=published + 86400,
            metrics={
                "likes": round(impressions * rnd.uniform(0.005, 0.05)),
                "comments": round(impressions * rnd.uniform(0.0, 0.005)),
                "shares": round(impressions * rnd.uniform(0.0, 0.004)),
                "impressions": round(impressions),
            },
        )
        buckets.add(account, account_network[account], reading, post)
    return {
        BUCKETS: list(buckets.docs.values()),
        "post_catalog": catalog,
        SCORES: scores_of(buckets, catalog),
        "inbox_daily": inbox,
    }


def scores_of(buckets: Buckets, catalog: list[Document]) -> list[Document]:
    """Each post's score document as the metrics consumer and the catalog handlers leave
    it (the same pure function builds both): the consumer pays ~3 updates/s for 100
    accounts' posts collected hourly, but 50,000 one by one would take minutes here."""
    latest = {d["series"]: d for d in buckets.docs.values() if d["grain"] == "latest"}
    docs = []
    for post in catalog:
        account, nid = post["account_id"], post["network_post_id"]
        followers = latest[series_key(account, "account", None)]["slots"]["last"]["m"]
        seen = seen_of(latest[series_key(account, "post", nid)], followers.get("followers"))
        docs.append({**score_doc(WS, account, nid, about=about_of(post), seen=seen), "rev": 2})
    return docs


async def load(db: AsyncDatabase[Document], docs: dict[str, list[Document]]) -> float:
    began = time.perf_counter()
    for name, rows in docs.items():
        for i in range(0, len(rows), BATCH):
            await db[name].insert_many(rows[i : i + BATCH], ordered=False)
    return time.perf_counter() - began


async def bare(db: AsyncDatabase[Document]) -> int:
    """The same documents the overview reads, counted by MongoDB itself."""
    touched = 0
    pipelines = {
        BUCKETS: [
            {"$match": {"workspace_id": WS, "grain": {"$in": ["day", "latest"]}}},
            {"$group": {"_id": "$grain", "n": {"$sum": 1}}},
        ],
        "post_catalog": [
            {"$match": {"workspace_id": WS}},
            {"$group": {"_id": None, "n": {"$sum": 1}}},
        ],
        "inbox_daily": [
            {"$match": {"workspace_id": WS}},
            {"$group": {"_id": None, "n": {"$sum": 1}}},
        ],
    }
    for name, pipeline in pipelines.items():
        cursor = await db[name].aggregate(pipeline)
        touched += sum(int(row["n"]) for row in await cursor.to_list())
    return touched


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, mongodb_url: str) -> None:
    client = create_mongo_client(mongodb_url, app_name="siar-bench-reports")
    db = client["siar_bench_reports"]
    await client.drop_database(db.name)
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *SERIES_INDEXES, *REPORT_INDEXES]
    )
    built = time.perf_counter()
    docs = build(args.accounts, args.posts, args.seed)
    counts = {k: len(v) for k, v in docs.items()}
    print(f"built {counts} in {time.perf_counter() - built:.1f} s", flush=True)
    print(f"loaded in {await load(db, docs):.1f} s", flush=True)
    reports = ReportService(db=db, uow=UnitOfWork(client, db, Outbox(db)), max_range_days=400)
    report_s: list[float] = []
    bare_s: list[float] = []
    for i in range(args.runs):
        began = time.perf_counter()
        report = await reports.overview(WS, START, END, Scope())
        report_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        touched = await bare(db)
        bare_s.append(time.perf_counter() - began)
        print(
            f"run {i + 1}: overview {report_s[-1]:.2f} s "
            f"({report.posts_published.current:.0f} posts, {report.accounts} accounts); "
            f"bare aggregation {bare_s[-1]:.2f} s ({touched} docs)",
            flush=True,
        )
    p95_report, p95_bare = pct(report_s, 0.95), pct(bare_s, 0.95)
    print(
        f"\noverview of {args.accounts} accounts, {args.posts} posts, {START}..{END}: "
        f"p50 {statistics.median(report_s):.2f} s, p95 {p95_report:.2f} s over {args.runs} runs"
    )
    print(
        "bare aggregation of the same documents: "
        f"p50 {statistics.median(bare_s):.2f} s, p95 {p95_bare:.2f} s"
    )
    print(f"ratio of p95s (overview / bare): {p95_report / p95_bare:.1f}x")
    await client.drop_database(db.name)
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="siar-bench-reports-") as tmp:
        infra = start_infra(Path(tmp), log_dir=LOG_DIR)
        try:
            asyncio.run(run(args, infra.mongodb_url))
        finally:
            infra.stop()


if __name__ == "__main__":
    main()
