"""The metrics collector against a real MongoDB and the real sandbox network."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import (
    AccountRef,
    Credential,
    MetricsSnapshot,
    OutgoingPost,
    RateLimitedError,
)
from siar.connectors.sandbox import SandboxConnector
from siar.contracts import AccountConnected, AccountDisconnected, MetricsCollected, PostPublished
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX, OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_analytics.collector_schedule import SCHEDULE_INDEXES, CollectorSchedule, Pacing
from siar_analytics.collectors import Collector
from siar_analytics.metrics_ingest import MetricsIngest
from siar_analytics.series import Series
from siar_analytics.series_store import SERIES_INDEXES, SeriesStore

WS = "ws_collect"


class LeasingVault:
    """Stands in for the vault's lease endpoint: hands out sandbox sign-in credentials."""

    def __init__(self) -> None:
        self.leases: dict[str, tuple[AccountRef, Credential]] = {}
        self.calls = 0

    async def lease(
        self, workspace_id: str, account_id: str, purpose: str
    ) -> tuple[AccountRef, Credential] | None:
        self.calls += 1
        return self.leases.get(account_id)

    def forget_lease(self, workspace_id: str, account_id: str) -> None:
        return None


@pytest.fixture
async def parts(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Parts:
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *SERIES_INDEXES, *SCHEDULE_INDEXES]
    )
    uow = UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded")
    schedule = CollectorSchedule(db, Pacing(interval_s=3600, post_window_days=30))
    return schedule, uow, SandboxConnector(mongo), LeasingVault()


Parts = tuple[CollectorSchedule, UnitOfWork, SandboxConnector, LeasingVault]


def collector(
    parts: Parts, network: SandboxConnector | None = None, *, backfill_days: int = 60
) -> Collector:
    """A replica's collector, on the sandbox or a variant of it standing for the network."""
    schedule, uow, sandbox, vault = parts
    return Collector(
        schedule=schedule,
        uow=uow,
        vault=vault,  # type: ignore[arg-type]
        connectors={"sandbox": network or sandbox},
        backfill_days=backfill_days,
    )


async def connect_sandbox(parts: Parts, mongo: AsyncMongoClient[Document], account_id: str) -> None:
    """Sign a new sandbox account in, let the vault lease it, and start collecting it."""
    schedule, _, _, vault = parts
    signed = await SandboxConnector(mongo).sign_in(f"{account_id[4:]}_{uuid.uuid4().hex[:8]}")
    ref = AccountRef(
        workspace_id=WS, account_id=account_id, network="sandbox", handle=signed.handle
    )
    vault.leases[account_id] = (ref, signed.credential)
    await schedule.connected(
        AccountConnected.new(
            workspace_id=WS, account_id=account_id, network="sandbox", handle=signed.handle
        )
    )


def published(account_id: str, post_id: str, network_post_id: str, at: datetime) -> PostPublished:
    """post.published of one of the workspace's sandbox accounts."""
    return PostPublished.new(
        workspace_id=WS,
        post_id=post_id,
        account_id=account_id,
        network="sandbox",
        occurrence="0",
        network_post_id=network_post_id,
        published_at=at,
    )


async def outbox_events(db: AsyncDatabase[Document]) -> list[MetricsCollected]:
    docs = await db[OUTBOX].find({"topic": "metrics.collected"}).to_list()
    return [MetricsCollected.model_validate_json(bytes(d["payload"])) for d in docs]


async def test_an_account_is_backfilled_then_collected_with_its_posts_by_one_replica(
    parts: Parts,
    db: AsyncDatabase[Document],
) -> None:
    schedule, uow, sandbox, vault = parts
    handle = f"brand_{uuid.uuid4().hex[:8]}"
    signed = await sandbox.sign_in(handle)
    account = AccountRef(
        workspace_id=WS,
        account_id="acc_c1",
        network="sandbox",
        handle=handle,
        network_account_id=signed.network_account_id,
    )
    vault.leases["acc_c1"] = (account, signed.credential)
    post = await sandbox.publish(
        account, signed.credential, OutgoingPost(text="hello", marker=uuid.uuid4().hex)
    )
    ingest = MetricsIngest(series=SeriesStore(db), schedule=schedule, uow=uow)
    await ingest.account_changed(
        AccountConnected.new(workspace_id=WS, account_id="acc_c1", network="sandbox", handle=handle)
    )
    await ingest.post_published(
        published("acc_c1", "pst_c1", post.network_post_id, post.published_at)
    )

    # A post published before the window is neither collected nor kept.
    await ingest.post_published(
        published("acc_c1", "pst_old", "sbxpost_old", post.published_at - timedelta(days=40))
    )

    # Two replicas race for the one due account: only one collects it.
    rounds = await asyncio.gather(collector(parts).run_round(), collector(parts).run_round())
    assert sorted(rounds) == [0, 1]
    assert vault.calls == 1
    events = await outbox_events(db)
    accounts = [e for e in events if e.scope == "account"]
    posts = [e for e in events if e.scope == "post"]
    assert len(accounts) == 61  # 60 days of history and the snapshot of now
    assert [(p.network_post_id, p.post_id) for p in posts] == [(post.network_post_id, "pst_c1")]
    assert await db["collect_posts"].count_documents({"post_id": "pst_old"}) == 0
    assert {"likes", "comments", "shares", "saves", "impressions"} <= set(posts[0].metrics)
    assert posts[0].published_at == post.published_at
    assert accounts[-1].dimensions is not None

    # Not due again before the interval; nothing is collected twice.
    assert await collector(parts).run_round() == 0

    for event in events:
        await ingest.record(event)
    now = accounts[-1].collected_at
    daily = await Series(db).account_series(
        WS, ["acc_c1"], "followers", now.date() - timedelta(days=70), now.date()
    )
    assert len(daily) == 61
    assert daily[-1].value >= daily[0].value
    # History is rolled up by day only: no hourly values for past days.
    assert all(e.history for e in accounts[:-1])
    yesterday = now.date() - timedelta(days=1)
    hourly = await Series(db).account_series(
        WS, ["acc_c1"], "followers", yesterday, yesterday, grain="hour"
    )
    assert hourly == []

    # A newly published post makes its account due soon after, whatever the pace.
    await ingest.post_published(published("acc_c1", "pst_c2", "sbxpost_other", now))
    target = await db["collect_targets"].find_one({"account_id": "acc_c1"})
    assert target is not None
    assert target["next_ts"] == pytest.approx(now.timestamp() + Pacing().after_publish_s)


async def test_a_disconnected_account_is_not_collected(
    parts: Parts,
) -> None:
    schedule, _, _, vault = parts
    connected = AccountConnected.new(
        workspace_id=WS, account_id="acc_c2", network="sandbox", handle="gone"
    )
    await schedule.connected(connected)
    gone = AccountDisconnected.new(workspace_id=WS, account_id="acc_c2", network="sandbox")
    await schedule.disconnected(gone)
    # A late redelivery of the older connect does not revive it.
    await schedule.connected(connected)
    assert await collector(parts).run_round() == 0
    assert vault.calls == 0


class Throttled(SandboxConnector):
    """The sandbox answering every metrics call with "rate limited"."""

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        raise RateLimitedError("slow down", retry_after_s=42.0)


async def test_a_rate_limited_or_failed_round_is_retried_at_its_own_time(
    parts: Parts,
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
) -> None:
    schedule = parts[0]
    await connect_sandbox(parts, mongo, "acc_slow")
    # Not signed in: the vault says None.
    await schedule.connected(
        AccountConnected.new(
            workspace_id=WS, account_id="acc_novault", network="sandbox", handle="novault"
        )
    )
    before = time.time()
    assert await collector(parts, Throttled(mongo), backfill_days=0).run_round() == 2
    targets = {d["account_id"]: d async for d in db["collect_targets"].find({})}
    slow, unknown = targets["acc_slow"], targets["acc_novault"]
    assert slow["last_error"] == "slow down"
    assert before + 42 <= slow["next_ts"] <= time.time() + 42
    assert unknown["last_error"] == "the vault does not know this account"
    assert unknown["next_ts"] >= before + 3600  # nothing passing about it: the usual pace
    assert await outbox_events(db) == []


async def test_a_post_published_during_its_accounts_round_keeps_its_first_look(
    parts: Parts,
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
) -> None:
    schedule = parts[0]
    await connect_sandbox(parts, mongo, "acc_busy")
    published_at = datetime.now(UTC)

    class PublishedMeanwhile(SandboxConnector):
        """post.published arrives while the account's round is running."""

        async def account_metrics(self, account: AccountRef, cred: Credential) -> MetricsSnapshot:
            await schedule.published(
                published("acc_busy", "pst_busy", "sbxpost_busy", published_at)
            )
            return await super().account_metrics(account, cred)

    assert await collector(parts, PublishedMeanwhile(mongo), backfill_days=0).run_round() == 1
    target = await db["collect_targets"].find_one({"account_id": "acc_busy"})
    assert target is not None
    first_look = published_at.timestamp() + Pacing().after_publish_s
    assert target["next_ts"] == pytest.approx(first_look)


class PostsThrottled(SandboxConnector):
    """The sandbox running out of calls once the account's own figures are read."""

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        raise RateLimitedError("no more calls this window", retry_after_s=30.0)


async def test_a_round_cut_short_by_a_rate_limit_keeps_what_it_collected(
    parts: Parts,
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
) -> None:
    schedule = parts[0]
    await connect_sandbox(parts, mongo, "acc_cut")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    await schedule.published(published("acc_cut", "pst_cut", "sbxpost_cut", two_hours_ago))
    before = time.time()
    assert await collector(parts, PostsThrottled(mongo), backfill_days=0).run_round() == 1
    events = await outbox_events(db)
    assert [(e.account_id, e.scope) for e in events] == [("acc_cut", "account")]
    target = await db["collect_targets"].find_one({"account_id": "acc_cut"})
    assert target is not None
    assert target["last_error"] == "no more calls this window"
    assert before + 30 <= target["next_ts"] <= time.time() + 30
