"""Unit of work: one MongoDB transaction for a state change, its events and its dedupe mark."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.contracts import utcnow
from siar.runtime.consumption import mark_duplicate
from siar.runtime.mongo import Document, IndexSpec
from siar.runtime.outbox import Outbox

T = TypeVar("T")

PROCESSED = "processed_events"
PROCESSED_INDEXES = (
    IndexSpec(
        PROCESSED,
        [("processed_at", 1)],
        name="processed_ttl",
        options={"expireAfterSeconds": 14 * 24 * 3600},
    ),
)

Work = Callable[[AsyncClientSession], Awaitable[T]]


class UnitOfWork:
    """Runs work in a transaction and wakes the outbox relay once it commits."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        outbox: Outbox,
        *,
        serialize: bool = False,
    ) -> None:
        self.client = client
        self.db = db
        self.outbox = outbox
        # The embedded nx-27017 nests concurrent transactions of one database as
        # SQLite savepoints, so they must not overlap there; MongoDB isolates them.
        self._serial: asyncio.Lock | None = asyncio.Lock() if serialize else None

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction (retried on transient errors), then notify."""
        async with contextlib.AsyncExitStack() as stack:
            if self._serial is not None:
                await stack.enter_async_context(self._serial)
            session = await stack.enter_async_context(self.client.start_session())
            result: T = await session.with_transaction(work)
        self.outbox.notify()
        return result

    async def run_once(self, consumer: str, event_id: str, work: Work[T]) -> tuple[bool, T | None]:
        """Run ``work`` unless this consumer already processed ``event_id``.

        The processed mark is written in the same transaction as the work, so a
        crash either keeps both or neither. Returns (ran, result).
        """
        marker = f"{consumer}:{event_id}"
        if await self.db[PROCESSED].find_one({"_id": marker}, projection={"_id": 1}):
            mark_duplicate()
            return False, None

        async def guarded(session: AsyncClientSession) -> T:
            await self.db[PROCESSED].insert_one(
                {"_id": marker, "processed_at": utcnow()}, session=session
            )
            return await work(session)

        try:
            return True, await self.run(guarded)
        except DuplicateKeyError:
            # A concurrent delivery of the same event won the race; anything else is
            # a real conflict of the work itself and is the caller's to handle.
            if await self.db[PROCESSED].find_one({"_id": marker}, projection={"_id": 1}):
                mark_duplicate()
                return False, None
            raise
