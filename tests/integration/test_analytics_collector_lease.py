"""The collector's claim on an account outlives a long round, and a lost claim stops it.

Real MongoDB and the real sandbox; the "network" is the sandbox with slow post metrics,
so a round runs past the lease's (short) term.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import AccountRef, Credential, MetricsSnapshot
from siar.connectors.sandbox import SandboxConnector
from siar.runtime.mongo import Document
from siar_analytics.collector_schedule import CollectorSchedule, Pacing
from siar_analytics.collectors import Collector
from tests.integration.test_analytics_collector import (
    WS,
    Parts,
    connect_sandbox,
    outbox_events,
    parts,
    published,
)

__all__ = ["parts"]  # the fixture, shared with the collector's other tests

LEASE_S = 2.0  # renewed every 1 s
POSTS = 8
POST_CALL_S = 0.5  # so a round takes ~4 s, twice the term


class SlowPosts(SandboxConnector):
    """The sandbox, but each post's metrics take ``POST_CALL_S``; ``during`` runs after
    the first post's (while the round is still going)."""

    def __init__(
        self, mongo: AsyncMongoClient[Document], during: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(mongo)
        self.during = during
        self.calls = 0

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        self.calls += 1
        if self.calls == 1:
            await self.during()
        await asyncio.sleep(POST_CALL_S)
        return MetricsSnapshot(collected_at=datetime.now(UTC), metrics={"likes": 1.0})


async def slow_account(
    parts: Parts, db: AsyncDatabase[Document], mongo: AsyncMongoClient[Document], account: str
) -> CollectorSchedule:
    """A sandbox account with ``POSTS`` recent posts, on a schedule with a short term."""
    await connect_sandbox(parts, mongo, account)
    schedule = CollectorSchedule(db, Pacing(interval_s=3600, lease_s=LEASE_S))
    now = datetime.now(UTC)
    for n in range(POSTS):
        await schedule.published(published(account, f"pst_{n}", f"sbxpost_{account}_{n}", now))
    return schedule


def replica(parts: Parts, schedule: CollectorSchedule, network: SandboxConnector) -> Collector:
    _, uow, _, vault = parts
    return Collector(
        schedule=schedule,
        uow=uow,
        vault=vault,  # type: ignore[arg-type]
        connectors={"sandbox": network},
        backfill_days=0,
    )


async def test_a_round_longer_than_the_lease_term_keeps_its_account(
    parts: Parts, db: AsyncDatabase[Document], mongo: AsyncMongoClient[Document]
) -> None:
    schedule = await slow_account(parts, db, mongo, "acc_l1")
    attempts: list[int] = []

    async def other_replica_tries_after_the_term() -> None:
        await asyncio.sleep(LEASE_S * 1.5)  # past the term the round was leased for
        attempts.append(await replica(parts, schedule, SandboxConnector(mongo)).run_round())

    slow = SlowPosts(mongo, lambda: asyncio.sleep(0))
    first = replica(parts, schedule, slow)
    started = time.time()
    rounds = await asyncio.gather(first.run_round(), other_replica_tries_after_the_term())

    assert rounds[0] == 1
    assert time.time() - started > LEASE_S  # the round did outlive the term
    assert attempts == [0]  # the other replica found the account still held
    assert slow.calls == POSTS
    events = await outbox_events(db)
    assert len([e for e in events if e.scope == "post"]) == POSTS  # once, by one replica
    assert len([e for e in events if e.scope == "account"]) == 1
    target = await db["collect_targets"].find_one({"_id": f"{WS}|acc_l1"})
    assert target is not None
    assert (target["lease_owner"], target["last_error"]) == (None, None)


async def test_a_lost_lease_stops_the_round_and_emits_nothing(
    parts: Parts, db: AsyncDatabase[Document], mongo: AsyncMongoClient[Document]
) -> None:
    schedule = await slow_account(parts, db, mongo, "acc_l2")
    key = f"{WS}|acc_l2"

    async def another_replica_takes_it() -> None:
        # As a replica does that found the lease run out (this one stalled past it).
        await db["collect_targets"].update_one(
            {"_id": key},
            {"$set": {"lease_owner": "other-replica", "lease_until_ts": time.time() + 3600}},
        )

    slow = SlowPosts(mongo, another_replica_takes_it)
    assert await replica(parts, schedule, slow).run_round() == 1

    assert slow.calls < POSTS  # stopped at the first check after the failed renewal
    assert await outbox_events(db) == []
    target = await db["collect_targets"].find_one({"_id": key})
    assert target is not None
    # Left to its new holder: not released, no outcome written over its round.
    assert target["lease_owner"] == "other-replica"
    assert "last_ts" not in target
