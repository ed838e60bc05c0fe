"""Reports against a real MongoDB: events in, roll-ups, the overview and monthly PDFs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import (
    ConversationUpdated,
    MessageReceived,
    MetricsCollected,
    PostPublished,
    PostScheduled,
)
from siar.devstack import Infra
from siar.runtime import webhooks
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.sealing import sealing_key
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_analytics.errors import (
    InvalidRange,
    InvalidReportRequest,
    NotFound,
)
from siar_analytics.monthly import SEALING_PURPOSE, MonthlyReports, MonthlySettings
from siar_analytics.report_service import ReportService, Scope
from siar_analytics.report_wiring import REPORT_INDEXES
from siar_analytics.series_store import SERIES_INDEXES, SeriesStore

WS = "ws_reports"
KEY = sealing_key("the-analytics-service-secret", SEALING_PURPOSE)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


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


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


async def store_metrics(db: AsyncDatabase[Document], uow: UnitOfWork, **fields: Any) -> None:
    event = MetricsCollected.new(workspace_id=WS, **fields)
    series = SeriesStore(db)
    await uow.run(lambda s: series.record(event, s))


async def seed(db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService) -> None:
    """Two accounts (X, Bluesky) over February and March, three posts, an inbox."""
    for offset in range(59):  # 2026-02-01 .. 2026-03-31
        day = date(2026, 2, 1) + timedelta(days=offset)
        for account, network, base in (("acc_x", "x", 1000), ("acc_b", "bluesky", 200)):
            await store_metrics(
                db,
                uow,
                account_id=account,
                network=network,
                scope="account",
                collected_at=noon(day),
                metrics={"followers": base + offset, "impressions": 100.0},
                dimensions={"country": {"ID": 0.5, "SG": 0.5}} if network == "x" else None,
            )
    posts = [
        ("pst_1", "acc_x", "x", "n1", "Spring #sale #launch", 2, 40.0),
        ("pst_2", "acc_x", "x", "n2", "Plain text", 0, 5.0),
        ("pst_3", "acc_b", "bluesky", "n3", "A #launch on Bluesky", 1, 12.0),
    ]
    for i, (post_id, account, network, nid, text, media, likes) in enumerate(posts):
        published = datetime(2026, 3, 2 + i, 9, tzinfo=UTC)
        common = {"workspace_id": WS, "post_id": post_id, "account_id": account, "network": network}
        scheduled = PostScheduled.new(
            **common,
            occurrence="now",
            due_at=published,
            text=text,
            media_ids=[f"med_{k}" for k in range(media)],
        )
        done = PostPublished.new(
            **common, occurrence="now", network_post_id=nid, published_at=published
        )
        for event in (done, scheduled, scheduled):  # out of order, and twice
            await reports.ingest(event, "it")
        await store_metrics(
            db,
            uow,
            account_id=account,
            network=network,
            scope="post",
            network_post_id=nid,
            collected_at=published + timedelta(days=1),
            metrics={"likes": likes, "reposts": 1.0, "impressions": 1000.0},
        )
    await seed_inbox(reports)


async def seed_inbox(reports: ReportService) -> None:
    first = datetime(2026, 3, 5, 10, tzinfo=UTC)
    for n, sentiment in enumerate(("positive", "negative", None)):
        message = MessageReceived.new(
            workspace_id=WS,
            message_id=f"msg_{n}",
            conversation_id="cnv_1",
            account_id="acc_x",
            network="x",
            network_message_id=f"m{n}",
            kind="comment",
            author_handle="fan",
            text="hi",
            sent_at=first + timedelta(minutes=n),
            sentiment=sentiment,
        )
        await reports.ingest(message, "it")
        await reports.ingest(message, "it")  # redelivered: counted once
    for change, response, resolution in (
        ("responded", 600.0, None),
        ("responded", 600.0, None),  # a second answer: the first response counts once
        ("closed", 600.0, 7200.0),
    ):
        update = ConversationUpdated.new(
            workspace_id=WS,
            conversation_id="cnv_1",
            account_id="acc_x",
            network="x",
            kind="comment",
            change=change,
            status="closed" if change == "closed" else "open",
            first_message_at=first,
            first_response_s=response,
            resolution_s=resolution,
        )
        await reports.ingest(update, "it")


async def test_overview_of_a_workspace_an_account_and_a_network(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    await seed(db, uow, reports)
    report = await reports.overview(WS, *MARCH, Scope(), "Asia/Jakarta")

    # Followers at the end of March (1000+58, 200+58) and of February (…+27).
    assert report.followers.current == 1058 + 258
    assert report.followers.previous == 1027 + 227
    assert report.follower_growth.current == 2 * 30  # each account grew 30 within March
    assert report.impressions.current == 2 * 31 * 100
    assert report.impressions.previous == 2 * 28 * 100
    assert report.posts_published.current == 3
    assert report.posts_published.previous == 0
    assert report.engagement.current == 41 + 6 + 13
    assert [p.post_id for p in report.top_posts] == ["pst_1", "pst_3", "pst_2"]
    assert {b.key: b.posts for b in report.by_hashtag} == {"launch": 2, "sale": 1}
    assert {b.key: b.posts for b in report.by_content_type} == {"image": 2, "text": 1}
    assert {b.key for b in report.by_format} == {"carousel", "feed"}
    assert {b.key: b.posts for b in report.by_hour} == {"16": 3}  # 09:00 UTC in Jakarta
    assert report.heatmap.timezone == "Asia/Jakarta"
    assert sum(map(sum, report.heatmap.posts)) == 3
    assert report.demographics == {"country": {"ID": 0.5, "SG": 0.5}}
    assert report.followers_daily[-1] == (date(2026, 3, 31), 1058 + 258)
    # Bluesky's rate is per follower; X's per impression.
    rates = {p.post_id: p.engagement_rate for p in report.top_posts}
    assert rates["pst_1"] == pytest.approx(41 / 1000 * 100)
    assert rates["pst_3"] == pytest.approx(13 / 258 * 100, rel=1e-3)
    inbox = report.inbox
    assert (inbox.received, inbox.responded, inbox.resolved) == (3, 1, 1)
    assert inbox.sentiment == {"positive": 1, "neutral": 0, "negative": 1, "unscored": 1}
    assert inbox.avg_first_response_s == 600
    assert inbox.avg_resolution_s == 7200

    one = await reports.overview(WS, *MARCH, Scope(account_id="acc_b"))
    assert [p.post_id for p in one.top_posts] == ["pst_3"]
    assert one.followers.current == 258
    assert one.inbox.received == 0
    network = await reports.overview(WS, *MARCH, Scope(network="x"))
    assert network.posts_published.current == 2
    assert network.accounts == 1

    # A newer snapshot of a post changes its figures in the next report.
    await store_metrics(
        db,
        uow,
        account_id="acc_x",
        network="x",
        scope="post",
        network_post_id="n2",
        collected_at=datetime.now(UTC),
        metrics={"likes": 500.0, "reposts": 1.0, "impressions": 1000.0},
    )
    again = await reports.overview(WS, *MARCH, Scope())
    assert [p.post_id for p in again.top_posts] == ["pst_2", "pst_1", "pst_3"]
    assert again.engagement.current == 41 + 501 + 13


async def test_bad_report_requests(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    await seed_inbox(reports)
    with pytest.raises(InvalidRange, match="before"):
        await reports.overview(WS, date(2026, 3, 31), date(2026, 3, 1), Scope())
    with pytest.raises(InvalidRange, match="400 days"):
        await reports.overview(WS, date(2025, 1, 1), date(2026, 3, 1), Scope())
    with pytest.raises(InvalidReportRequest, match="time zone"):
        await reports.overview(WS, *MARCH, Scope(), "Mars/Olympus")
    with pytest.raises(NotFound, match="acc_nope"):
        await reports.overview(WS, *MARCH, Scope(account_id="acc_nope"))
    with pytest.raises(NotFound, match="tiktok"):
        await reports.overview(WS, *MARCH, Scope(network="tiktok"))
    # Another workspace sees none of this one's figures.
    other = await reports.overview("ws_other", *MARCH, Scope())
    assert (other.inbox.received, other.posts_published.current) == (0, 0)
    reopened = ConversationUpdated.new(
        workspace_id=WS,
        conversation_id="cnv_1",
        account_id="acc_x",
        network="x",
        kind="comment",
        change="reopened",
        status="open",
        first_message_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
    )
    await reports.ingest(reopened, "it")
    today = datetime.now(UTC).date()
    lately = await reports.overview(WS, today - timedelta(days=1), today, Scope())
    assert lately.inbox.reopened == 1
    agency = await reports.agency([WS, "ws_other"], *MARCH)
    assert [r.workspace_id for r in agency.workspaces] == sorted([WS, "ws_other"])
    assert agency.totals["posts_published"].current == 0


async def test_monthly_report_is_stored_once_and_announced_signed(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    await seed_inbox(reports)
    calls: list[httpx.Request] = []
    answers = iter([500, 200])

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(next(answers, 200))

    secret = "a-long-enough-webhook-secret"
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        monthly = MonthlyReports(db, reports, http, KEY)
        await monthly.configure(
            WS,
            MonthlySettings.model_validate(
                {"webhook_url": "https://hooks.example/siar", "secret": secret, "commentary": "Hi"}
            ),
        )
        assert await monthly.run_due(date(2026, 4, 2)) == 1
        assert await monthly.run_due(date(2026, 4, 3)) == 0  # rendered once
        files = await monthly.stored(WS)
        assert [f.month for f in files] == ["2026-03"]
        pdf = b"".join([chunk async for chunk in await monthly.open_file(WS, "2026-03")])
        assert pdf.startswith(b"%PDF")
        assert files[0].size_bytes == len(pdf)
        # The first webhook call failed (500); the next round delivered it, then no more.
        assert len(calls) == 2
        assert files[0].delivered is True
        last = calls[-1]
        assert webhooks.verify(
            secret,
            last.headers["x-siar-timestamp"],
            last.content,
            last.headers["x-siar-signature"],
        )
        body = json.loads(last.content)
        assert body["kind"] == "report.monthly"
        assert body["data"]["path"] == f"/v1/workspaces/{WS}/reports/monthly/files/2026-03.pdf"
        with pytest.raises(NotFound):
            await monthly.open_file("ws_other", "2026-03")
        public = await monthly.configured(WS)
        assert "secret" not in public.model_dump()
        # The secret is stored sealed: no plain text in the database.
        stored = await db["report_settings"].find_one({"workspace_id": WS})
        assert stored is not None
        assert secret not in json.dumps(stored["monthly"], default=str)
        assert set(stored["monthly"]["secret"]) == {"nonce", "sealed"}


async def test_a_plaintext_or_foreign_monthly_secret_is_treated_as_unset(
    db: AsyncDatabase[Document], uow: UnitOfWork, reports: ReportService
) -> None:
    await seed_inbox(reports)
    calls: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        rotated = MonthlyReports(db, reports, http, sealing_key("rotated", SEALING_PURPOSE))
        settings = {"webhook_url": "https://hooks.example/siar", "secret": "x" * 20}
        await rotated.configure(WS, MonthlySettings.model_validate(settings))
        monthly = MonthlyReports(db, reports, http, KEY)
        assert await monthly.run_due(date(2026, 4, 2)) == 1
        # Stored before sealing existed: a plain string.
        await db["report_settings"].update_one(
            {"workspace_id": WS}, {"$set": {"monthly.secret": "a-plaintext-legacy-secret"}}
        )
        await monthly.run_due(date(2026, 4, 3))
        assert calls == []  # never signed with a secret that does not unseal
        files = await monthly.stored(WS)
        assert files[0].delivered is False
