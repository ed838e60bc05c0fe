"""Post scores (real MongoDB): kept from snapshots and catalog events in any order, and
the overview's post sections from them equal the former in-memory computation."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import MetricsCollected, PostPublished, PostScheduled
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_analytics.post_scores import SCORES
from siar_analytics.report_service import Overview, ReportService, Scope, join_posts
from siar_analytics.report_wiring import REPORT_INDEXES
from siar_analytics.reports import breakdown, heatmap, rank
from siar_analytics.score_backfill import backfill
from siar_analytics.series_store import SERIES_INDEXES, SeriesStore

PUBLISHED = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
Step = Callable[[str], Awaitable[None]]


@pytest.fixture
async def uow(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> UnitOfWork:
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *SERIES_INDEXES, *REPORT_INDEXES]
    )
    return UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded")


@pytest.fixture
def reports(db: AsyncDatabase[Document], uow: UnitOfWork) -> ReportService:
    return ReportService(db=db, uow=uow, max_range_days=400)


async def store(db: AsyncDatabase[Document], uow: UnitOfWork, *events: MetricsCollected) -> None:
    """As the metrics consumer stores a batch: one transaction for all of them."""
    series = SeriesStore(db)

    async def work(session: AsyncClientSession) -> None:
        await series.record_many(events, session)

    await uow.run(work)


def snapshot(ws: str, at: datetime, metrics: dict[str, float], **fields: Any) -> MetricsCollected:
    base = {"workspace_id": ws, "account_id": "acc_b", "network": "bluesky"}
    return MetricsCollected.new(**(base | fields), collected_at=at, metrics=metrics)


def steps(db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService) -> list[Step]:
    """A Bluesky post's events: its account's followers, two snapshots (the newer one
    partial: it lacks reposts), and the catalog's two events."""
    post = {"scope": "post", "network_post_id": "at://p1", "post_id": "pst_1"}
    older = {"likes": 3.0, "reposts": 2.0, "replies": 1.0}
    newer = {"likes": 9.0, "replies": 4.0}

    def common(ws: str) -> dict[str, Any]:
        return {"workspace_id": ws, "post_id": "pst_1", "account_id": "acc_b", "network": "bluesky"}

    async def followers(ws: str) -> None:
        await store(db, uow, snapshot(ws, PUBLISHED, {"followers": 500.0}, scope="account"))

    async def first(ws: str) -> None:
        await store(db, uow, snapshot(ws, PUBLISHED + timedelta(hours=2), older, **post))

    async def second(ws: str) -> None:
        later = snapshot(ws, PUBLISHED + timedelta(hours=5), newer, partial=True, **post)
        await store(db, uow, later, later)  # the same snapshot twice in one batch

    async def scheduled(ws: str) -> None:
        text = "Hello #Spring and #sale"
        event = PostScheduled.new(
            **common(ws), occurrence="now", due_at=PUBLISHED, text=text, media_ids=["m1", "m2"]
        )
        await reports.ingest(event, "it")

    async def published(ws: str) -> None:
        event = PostPublished.new(
            **common(ws), occurrence="now", network_post_id="at://p1", published_at=PUBLISHED
        )
        await reports.ingest(event, "it")

    return [followers, first, second, scheduled, published]


async def score_of(db: AsyncDatabase[Document], ws: str) -> Document:
    doc = await db[SCORES].find_one({"workspace_id": ws})
    assert doc is not None
    return {k: v for k, v in doc.items() if k not in ("_id", "workspace_id", "rev")}


async def test_a_post_score_is_the_same_whatever_the_order_of_its_events(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    events = steps(db, uow, reports)
    followers, rest = events[0], events[1:]
    orders = list(itertools.permutations(rest))[::3]  # 8 of the 24 orders
    scores = []
    for n, order in enumerate(orders):
        ws = f"ws_order_{n}"
        await followers(ws)
        for step in order:
            await step(ws)
        scores.append(await score_of(db, ws))
    assert all(score == scores[0] for score in scores[1:])
    score = scores[0]
    # Newest value per metric: likes and replies from the newer snapshot, reposts kept.
    assert score["seen"]["metrics"] == {"likes": 9.0, "reposts": 2.0, "replies": 4.0}
    assert score["engagement"] == 15.0
    assert score["rate"] == pytest.approx(15 / 500 * 100)  # Bluesky: per follower
    assert (score["content_type"], score["format"]) == ("image", "carousel")
    assert score["hashtags"] == ["spring", "sale"]
    assert score["published_ts"] == PUBLISHED.timestamp()
    assert score["slot"] == "2026-03-04T09"
    assert score["scored"] is True
    # Replaying everything (redeliveries) changes nothing.
    for step in rest:
        await step("ws_order_0")
    assert await score_of(db, "ws_order_0") == score


async def test_a_post_without_metrics_or_without_publication_is_not_scored(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    _, first, _, scheduled, published = steps(db, uow, reports)
    await scheduled("ws_half")  # no network post id yet: nothing to join
    assert await db[SCORES].count_documents({"workspace_id": "ws_half"}) == 0
    await published("ws_half")
    assert (await score_of(db, "ws_half"))["scored"] is False  # no metrics yet
    await first("ws_half")
    assert (await score_of(db, "ws_half"))["scored"] is True


# -- the overview against the former computation ------------------------------------------

WS = "ws_oracle"
ACCOUNTS = {"acc_x": "x", "acc_b": "bluesky", "acc_i": "instagram"}
TAGS = ("#launch", "#sale", "#tips", "#news")


async def seed(db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService) -> None:
    """Three accounts; 40 posts over February and March, some without catalog events,
    some published without metrics, some with two snapshots stored in one batch."""
    rnd = random.Random(11)
    accounts = [
        snapshot(WS, datetime(2026, 2, 1, tzinfo=UTC), {"followers": 300.0 + n * 100}, **k)
        for n, (acc, network) in enumerate(ACCOUNTS.items())
        for k in [{"account_id": acc, "network": network, "scope": "account"}]
    ]
    await store(db, uow, *accounts)
    snapshots: list[MetricsCollected] = []
    for p in range(40):
        acc = list(ACCOUNTS)[p % 3]
        network = ACCOUNTS[acc]
        published = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(minutes=rnd.randint(0, 84_000))
        common = {"workspace_id": WS, "post_id": f"pst_{p}", "account_id": acc, "network": network}
        text = f"Post {p} " + " ".join(rnd.sample(TAGS, rnd.randint(0, 2)))
        if p % 7 != 0:  # every seventh post has metrics only
            media = [f"m{k}" for k in range(rnd.randint(0, 2))]
            await reports.ingest(
                PostScheduled.new(
                    **common, occurrence="now", due_at=published, text=text, media_ids=media
                ),
                "it",
            )
            await reports.ingest(
                PostPublished.new(
                    **common, occurrence="now", network_post_id=f"n{p}", published_at=published
                ),
                "it",
            )
        if p % 9 == 4:
            continue  # published, never measured
        for hours in (3, 30)[: rnd.randint(1, 2)]:
            metrics = {
                "likes": float(rnd.randint(0, 60)),
                "comments": float(rnd.randint(0, 9)),
                "impressions": float(rnd.randint(0, 3) * 500),  # sometimes no basis
                "reach": float(rnd.randint(100, 900)),
            }
            snapshots.append(
                snapshot(
                    WS,
                    published + timedelta(hours=hours),
                    metrics,
                    account_id=acc,
                    network=network,
                    scope="post",
                    network_post_id=f"n{p}",
                    post_id=f"pst_{p}",
                    published_at=published if p % 7 == 0 else None,
                )
            )
    rnd.shuffle(snapshots)
    for i in range(0, len(snapshots), 15):
        await store(db, uow, *snapshots[i : i + 15])


async def former_sections(
    reports: ReportService, start: date, end: date, prev: date, scope: Scope, tz: str
) -> dict[str, Any]:
    """The post sections as the overview computed them before post scores (in Python
    over every post's roll-up and catalog entry): the oracle."""
    ids = [scope.account_id] if scope.account_id else None
    metrics, catalog, latest = await asyncio.gather(
        reports.series.post_metrics_published(WS, ids, prev, end),
        reports.catalog.published_between(WS, prev, end, ids, texts=False),
        reports.series.account_latest(WS),
    )
    seen = {(m.account_id, m.network_post_id) for m in metrics}
    missing = [
        str(d["network_post_id"])
        for d in catalog
        if d.get("network_post_id") and (d["account_id"], d["network_post_id"]) not in seen
    ]
    if missing:
        metrics += await reports.series.post_metrics_published(
            WS, ids, prev, end, network_post_ids=missing
        )
    followers = {a.account_id: a.metrics.get("followers") for a in latest}
    posts = join_posts(metrics, catalog, followers, prev, end, network=scope.network)
    now = [p for p in posts if p.published_at.date() >= start]
    before = [p for p in posts if p.published_at.date() < start]
    rates = [p.engagement_rate for p in now if p.engagement_rate is not None]
    top, bottom = rank(now)
    return {
        "engagement": sum(p.engagement for p in now),
        "previous_engagement": sum(p.engagement for p in before),
        "engagement_rate": round(sum(rates) / len(rates), 4) if rates else 0.0,
        "posts_published": len(now),
        "previous_posts": len(before),
        "top_posts": [(p.post_id, p.engagement) for p in top],
        "bottom_posts": [(p.post_id, p.engagement) for p in bottom],
        **{f"by_{k}": breakdown(now, k) for k in ("network", "content_type", "format")},
        "by_hashtag": breakdown(now, "hashtag")[:25],
        "by_hour": breakdown(now, "hour", tz=tz),
        "heatmap": heatmap(now, tz=tz),
    }


def sections_of(report: Overview) -> dict[str, Any]:
    return {
        "engagement": report.engagement.current,
        "previous_engagement": report.engagement.previous,
        "engagement_rate": report.engagement_rate.current,
        "posts_published": report.posts_published.current,
        "previous_posts": report.posts_published.previous,
        "top_posts": [(p.post_id, p.engagement) for p in report.top_posts],
        "bottom_posts": [(p.post_id, p.engagement) for p in report.bottom_posts],
        "by_network": report.by_network,
        "by_content_type": report.by_content_type,
        "by_format": report.by_format,
        "by_hashtag": report.by_hashtag,
        "by_hour": report.by_hour,
        "heatmap": report.heatmap,
    }


def plain(value: Any) -> Any:
    """Models as dicts and floats rounded: the database adds rates in another order."""
    if hasattr(value, "model_dump"):
        return plain(value.model_dump())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return round(value, 3) if isinstance(value, float) else value


@pytest.mark.parametrize(
    ("scope", "tz"),
    [
        (Scope(), "UTC"),
        (Scope(), "America/New_York"),
        (Scope(network="bluesky"), "Asia/Jakarta"),
        (Scope(account_id="acc_x"), "UTC"),
    ],
    ids=["workspace", "new-york", "network", "account"],
)
async def test_the_overview_equals_the_former_computation(
    db: AsyncDatabase[Document],
    uow: UnitOfWork,
    reports: ReportService,
    scope: Scope,
    tz: str,
) -> None:
    await seed(db, uow, reports)
    start, end, prev = date(2026, 3, 1), date(2026, 3, 31), date(2026, 1, 29)
    report = await reports.overview(WS, start, end, scope, tz)
    expected = await former_sections(reports, start, end, prev, scope, tz)
    assert expected["posts_published"] > (5 if scope == Scope() else 1)  # bottom posts too
    assert expected["previous_posts"] > 0
    assert plain(sections_of(report)) == plain(expected)


async def test_the_backfill_scores_posts_stored_before_scores_existed(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    await seed(db, uow, reports)
    # Posts with metrics (published ones without any are scored when measured).
    kept = {d["_id"]: d async for d in db[SCORES].find({"seen": {"$ne": None}})}
    assert len(kept) > 30
    await db[SCORES].delete_many({})  # as a database from before post scores
    one = next(iter(kept))
    await db[SCORES].insert_one({**kept[one], "engagement": -1.0})  # written meanwhile
    assert await backfill(db) == len(kept) - 1
    rebuilt = {d["_id"]: d async for d in db[SCORES].find({})}
    assert rebuilt[one]["engagement"] == -1.0  # never overwritten
    assert {_id: _plain(d) for _id, d in rebuilt.items() if _id != one} == {
        _id: _plain(d) for _id, d in kept.items() if _id != one
    }
    assert await backfill(db) == 0  # once


def _plain(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k != "rev"}
