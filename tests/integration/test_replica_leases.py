"""Per-account leases on the real MongoDB: replicas of a background loop share the work.

Two pollers stand for two inbox replicas (one process here, each with its own holder
id); the network is a fake connector that counts reads.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import AccountRef, Capability, Connector, Credential, Page
from siar.runtime.leases import Leases
from siar.runtime.mongo import Document
from siar.runtime.vault_client import VaultClient
from siar_inbox.polling import POLL_LEASES, Poller
from siar_inbox.service import InboxService

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
