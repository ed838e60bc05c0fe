"""Per-account leases on the real MongoDB: replicas of a background loop share the work.

Two pollers stand for two inbox replicas (one process here, each with its own holder
id); the network is a fake connector that counts reads.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import AccountRef, Capability, Connector, Credential, Page
from siar.runtime.leases import LeaseLost, Leases
from siar.runtime.mongo import Document
from siar.runtime.vault_client import VaultClient
from siar_inbox.polling import Poller
from siar_inbox.service import InboxService
from siar_inbox.store import POLL_LEASES

ACCOUNTS = [f"acct-{i}" for i in range(6)]


class CountingConnector:
    """A network that can be read and counts every read, per account."""

    network = "sandbox"
    capabilities = frozenset({Capability.FETCH_COMMENTS})

    def __init__(self) -> None:
        self.reads: dict[str, int] = {}

    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        self.reads[account.account_id] = self.reads.get(account.account_id, 0) + 1
        await asyncio.sleep(0)  # let the other replica run in between
        return Page(messages=[], cursor=cursor)


class Store:
    def __init__(self) -> None:
        self.pollers = [
            {"_id": a, "workspace_id": "ws", "network": "sandbox", "active": True} for a in ACCOUNTS
        ]

    async def active_pollers(self) -> list[dict[str, Any]]:
        return self.pollers


class Service:
    def __init__(self) -> None:
        self.store = Store()


class Vault:
    async def lease(self, ws: str, account_id: str, purpose: str) -> tuple[AccountRef, Credential]:
        ref = AccountRef(
            workspace_id=ws, account_id=account_id, network="sandbox", handle=account_id
        )
        return ref, Credential(access_token="t")  # type: ignore[arg-type]


def replica(db: AsyncDatabase[Document], network: CountingConnector, holder: str) -> Poller:
    return Poller(
        service=cast(InboxService, Service()),
        vault=cast(VaultClient, Vault()),
        connectors=cast(dict[str, Connector], {"sandbox": network}),
        interval_s=3600.0,
        leases=Leases(db[POLL_LEASES], lease_s=60.0, holder=holder),
    )


async def test_a_lease_is_taken_once_renewed_by_its_holder_and_freed_on_release(
    db: AsyncDatabase[Document],
) -> None:
    # A free lease on another key: taking "k" must never take this one instead.
    await db["leases"].insert_one({"_id": "other", "holder": None, "lease_until": 0.0})
    one = Leases(db["leases"], lease_s=60.0, holder="one")
    two = Leases(db["leases"], lease_s=60.0, holder="two")
    taken = await asyncio.gather(one.take("k"), two.take("k"))
    assert sorted(taken) == [False, True]
    holder = (await db["leases"].find_one({"_id": "k"}) or {})["holder"]
    winner, loser = (one, two) if holder == "one" else (two, one)
    assert await winner.take("k")  # renewal
    assert not await loser.take("k")
    await loser.release("k")  # not its lease: no effect
    assert not await loser.take("k")
    await winner.release("k", free_at=time.time() + 60)
    assert not await loser.take("k")
    assert not await winner.take("k")
    assert await loser.take("k", now=time.time() + 61)
    other = await db["leases"].find_one({"_id": "other"})
    assert other == {"_id": "other", "holder": None, "lease_until": 0.0}


async def test_two_poller_replicas_read_each_account_once_per_interval(
    db: AsyncDatabase[Document],
) -> None:
    network = CountingConnector()
    first, second = replica(db, network, "first"), replica(db, network, "second")
    await asyncio.gather(first.poll_all(), second.poll_all())
    assert network.reads == dict.fromkeys(ACCOUNTS, 1)
    # A third replica starting now still waits for each account's next due time.
    await replica(db, network, "third").poll_all()
    assert network.reads == dict.fromkeys(ACCOUNTS, 1)
    leases = await db[POLL_LEASES].find().to_list()
    assert {d["_id"] for d in leases} == set(ACCOUNTS)
    assert all(d["holder"] is None and d["lease_until"] > time.time() + 3000 for d in leases)


async def test_a_dead_replicas_accounts_are_taken_over_once_its_lease_runs_out(
    db: AsyncDatabase[Document],
) -> None:
    network = CountingConnector()
    dead = Leases(db[POLL_LEASES], lease_s=60.0, holder="dead")
    for account in ACCOUNTS:
        assert await dead.take(account)  # then it dies: never renewed, never released
    alive = replica(db, network, "alive")
    await alive.poll_all()
    assert network.reads == {}
    # Time passes past the dead replica's lease (moved back rather than waited for).
    await db[POLL_LEASES].update_many({}, {"$set": {"lease_until": time.time() - 1}})
    await replica(db, network, "alive").poll_all()
    assert network.reads == dict.fromkeys(ACCOUNTS, 1)


async def test_a_held_lease_is_renewed_while_the_work_runs_and_released_after(
    db: AsyncDatabase[Document],
) -> None:
    worker = Leases(db["leases"], lease_s=0.3, holder="worker")
    other = Leases(db["leases"], lease_s=0.3, holder="other")
    async with worker.holding("k") as lease:
        assert lease.held
        first = (await db["leases"].find_one({"_id": "k"}) or {})["lease_until"]
        for _ in range(200):  # until the keeper renews (every lease_s / 3)
            doc = await db["leases"].find_one({"_id": "k"}) or {}
            if doc["lease_until"] > first:
                break
            await asyncio.sleep(0.05)
        assert doc["lease_until"] > first
        assert doc["holder"] == "worker"
        async with other.holding("k") as refused:
            assert not refused.held
    assert (await db["leases"].find_one({"_id": "k"}) or {})["holder"] is None
    assert await other.take("k")


async def test_a_kept_lease_another_took_is_not_taken_back_after_it_lapsed(
    db: AsyncDatabase[Document],
) -> None:
    stalled = Leases(db["leases"], lease_s=60.0, holder="stalled")
    other = Leases(db["leases"], lease_s=60.0, holder="other")
    assert await stalled.take("k")
    async with stalled.keeping("k") as kept:
        # The stalled holder's term ran out; another took the key and let it lapse too
        # (it may have done the work meanwhile).
        await db["leases"].update_one(
            {"_id": "k"}, {"$set": {"holder": "other", "lease_until": time.time() - 1}}
        )
        with pytest.raises(LeaseLost):
            await kept.confirm()
    assert (await db["leases"].find_one({"_id": "k"}) or {})["holder"] == "other"
    assert await other.take("k")


async def test_any_due_document_is_taken_once_in_order_and_released_with_its_next_time(
    db: AsyncDatabase[Document],
) -> None:
    # Leases kept in the documents they guard, under those documents' own field names.
    targets = db["targets"]
    now = time.time()
    await targets.insert_many(
        [
            {"_id": "late", "next_ts": now - 60, "until": 0.0, "note": "x"},
            {"_id": "later", "next_ts": now - 30, "until": 0.0},
            {"_id": "held", "next_ts": now - 90, "until": now + 600, "by": "dead"},
            {"_id": "future", "next_ts": now + 600, "until": 0.0},
        ]
    )

    def leases(holder: str) -> Leases:
        return Leases(targets, lease_s=60.0, holder=holder, holder_field="by", until_field="until")

    one, two = leases("one"), leases("two")
    due = {"next_ts": {"$lte": now}}
    taken = await asyncio.gather(
        one.take_due(due, sort=[("next_ts", 1)], now=now),
        two.take_due(due, sort=[("next_ts", 1)], now=now),
    )
    assert sorted(d["_id"] for d in taken if d) == ["late", "later"]
    # (nx-27017 keeps about 15 significant digits of a float given to $set: approx.)
    assert all(d and d["by"] in ("one", "two") for d in taken)
    assert [d["until"] for d in taken if d] == pytest.approx([now + 60, now + 60])
    # Nothing else is due and free: not even for a holder that already holds one.
    assert await one.take_due(due, sort=[("next_ts", 1)], now=now) is None

    holder = {str(d["_id"]): leases(str(d["by"])) for d in taken if d}
    assert not await leases("nobody").release("late", also={"next_ts": now + 3600})
    assert await holder["late"].release("late", also={"next_ts": now + 3600})
    assert await targets.find_one({"_id": "late"}) == {
        "_id": "late",
        "next_ts": pytest.approx(now + 3600),
        "until": 0.0,
        "note": "x",
        "by": None,
    }
    # A whole-document release keeps a datetime a datetime (a $set would not on nx-27017).
    stamped = {"_id": "later", "next_ts": now + 60, "polled_at": datetime(2026, 1, 2, tzinfo=UTC)}
    assert await holder["later"].release_replacing("later", stamped, free_at=now + 5)
    later = await targets.find_one({"_id": "later"}) or {}
    assert isinstance(later["polled_at"], datetime)
    assert (later["by"], later["until"]) == (None, pytest.approx(now + 5))
    assert await one.take_due(due, sort=[("next_ts", 1)], now=now + 601) == {
        "_id": "held",
        "next_ts": now - 90,
        "until": pytest.approx(now + 661),
        "by": "one",
    }


async def test_a_claim_takes_only_its_own_document_and_only_where_it_matches(
    db: AsyncDatabase[Document],
) -> None:
    jobs = db["jobs"]
    await jobs.insert_many(
        [
            {"_id": "mine", "state": "open", "holder": "other", "lease_until": time.time() + 60},
            {"_id": "lapsed", "state": "open", "holder": "dead", "lease_until": 0.0},
            {"_id": "closed", "state": "done", "holder": "dead", "lease_until": 0.0},
        ]
    )
    me = Leases(jobs, lease_s=60.0, holder="me")
    open_only = {"state": "open"}
    assert await me.claim("mine", where=open_only) is None
    assert await me.claim("closed", where=open_only) is None
    assert (await jobs.find_one({"_id": "lapsed"}) or {})["holder"] == "dead"
    taken = await me.claim("lapsed", where=open_only)
    assert taken is not None
    assert (taken["_id"], taken["holder"]) == ("lapsed", "me")
    assert await me.claim("absent") is None  # claim never creates (take does)
    assert await jobs.count_documents({}) == 3
