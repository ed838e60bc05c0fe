"""The unit of work's exactly-once guard against a real MongoDB."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.devstack import Infra
from siar.runtime.mongo import Document, IndexSpec, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED, PROCESSED_INDEXES, UnitOfWork, Work

EFFECTS = "effects"
SLOTS = "slots"


class Boom(Exception):
    """A handler's work failing on purpose."""


@pytest.fixture
async def uow(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> UnitOfWork:
    """A unit of work on a fresh database, with the indexes a service's start creates."""
    # Creating the collections up front also matters on nx-27017, which answers a read
    # of a collection that only an aborted transaction wrote with "no such table".
    ours = [IndexSpec(EFFECTS, [("event_id", 1)]), IndexSpec(SLOTS, [("slot", 1)], unique=True)]
    await ensure_indexes(db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *ours])
    # As devstack configures services: nx-27017 nests overlapping transactions of one
    # database as SQLite savepoints, so the embedded stack serializes them per process.
    return UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded")


def effect_of(db: AsyncDatabase[Document], event_id: str, calls: list[str]) -> Work[str]:
    """Work that records one durable side effect per run, in the transaction."""

    async def work(session: AsyncClientSession) -> str:
        calls.append(event_id)
        await db[EFFECTS].insert_one({"event_id": event_id}, session=session)
        return f"handled {event_id}"

    return work


async def test_repeated_deliveries_run_the_work_once(
    uow: UnitOfWork, db: AsyncDatabase[Document]
) -> None:
    event_id = str(uuid.uuid4())
    calls: list[str] = []
    work = effect_of(db, event_id, calls)

    first = await uow.run_once("probe", event_id, work)
    again = [await uow.run_once("probe", event_id, work) for _ in range(3)]

    assert first == (True, f"handled {event_id}")
    assert again == [(False, None)] * 3
    assert calls == [event_id]
    assert await db[EFFECTS].count_documents({"event_id": event_id}) == 1
    assert await db[PROCESSED].count_documents({"_id": f"probe:{event_id}"}) == 1


async def test_another_consumer_of_the_same_event_runs_its_own_work(
    uow: UnitOfWork, db: AsyncDatabase[Document]
) -> None:
    event_id = str(uuid.uuid4())
    calls: list[str] = []

    assert (await uow.run_once("probe-a", event_id, effect_of(db, event_id, calls)))[0]
    assert (await uow.run_once("probe-b", event_id, effect_of(db, event_id, calls)))[0]

    assert calls == [event_id, event_id]


async def test_concurrent_deliveries_run_the_work_once(
    uow: UnitOfWork, db: AsyncDatabase[Document]
) -> None:
    event_id = str(uuid.uuid4())
    calls: list[str] = []
    work = effect_of(db, event_id, calls)
    # Open five pooled connections first, so that the five deliveries really race
    # (all pass the "already processed?" read) instead of queueing for connections.
    await asyncio.gather(*(db[PROCESSED].find_one({"_id": "warm-up"}) for _ in range(5)))

    results = await asyncio.gather(*(uow.run_once("probe", event_id, work) for _ in range(5)))

    assert sorted(ran for ran, _ in results) == [False, False, False, False, True]
    assert [r for ran, r in results if ran] == [f"handled {event_id}"]
    # Work may start in a transaction that then aborts; only one may ever commit.
    assert await db[EFFECTS].count_documents({"event_id": event_id}) == 1
    assert await db[PROCESSED].count_documents({"_id": f"probe:{event_id}"}) == 1


async def test_failed_work_leaves_no_mark_so_a_retry_runs_it(
    uow: UnitOfWork, db: AsyncDatabase[Document]
) -> None:
    event_id = str(uuid.uuid4())
    calls: list[str] = []

    async def failing(session: AsyncClientSession) -> str:
        await db[EFFECTS].insert_one({"event_id": event_id, "try": 1}, session=session)
        raise Boom

    with pytest.raises(Boom):
        await uow.run_once("probe", event_id, failing)

    assert await db[PROCESSED].count_documents({"_id": f"probe:{event_id}"}) == 0
    assert await db[EFFECTS].count_documents({"event_id": event_id}) == 0

    ran, result = await uow.run_once("probe", event_id, effect_of(db, event_id, calls))

    assert (ran, result) == (True, f"handled {event_id}")
    assert calls == [event_id]
    assert await db[EFFECTS].count_documents({"event_id": event_id}) == 1
    assert await db[PROCESSED].count_documents({"_id": f"probe:{event_id}"}) == 1


async def test_a_conflict_of_the_work_itself_is_the_callers(
    uow: UnitOfWork, db: AsyncDatabase[Document]
) -> None:
    await db[SLOTS].insert_one({"slot": "taken"})
    event_id = str(uuid.uuid4())

    async def clashing(session: AsyncClientSession) -> None:
        await db[SLOTS].insert_one({"slot": "taken"}, session=session)

    with pytest.raises(DuplicateKeyError):
        await uow.run_once("probe", event_id, clashing)

    assert await db[PROCESSED].count_documents({"_id": f"probe:{event_id}"}) == 0
