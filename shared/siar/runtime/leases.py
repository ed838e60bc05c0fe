"""Per-key leases in MongoDB, so one replica at a time works on a key.

Background loops that run in every replica (the inbox poller, the vault's token
refresher) claim each account before touching it: a conditional findAndModify on a
lease document takes it only when it is free, expired or already ours. A replica that
dies simply stops renewing and its leases run out, so another takes over.

Times are epoch seconds (floats), not datetimes: nx-27017 stores a ``$set`` datetime
on an existing document as a string (docs/embedded-stack.md), and floats compare the
same on every server. The same rule (take when ``until < now``) is what the outbox
relay and analytics' collector already use on their own documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from siar.runtime.mongo import Document


def process_holder() -> str:
    """A holder id unique to this process (and call): host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """Leases on keys (e.g. account ids) kept in one collection, held by one holder.

    A lease document is ``{_id: key, holder, lease_until}``. ``take`` claims it when
    ``lease_until`` has passed or the holder is us; ``release`` frees it, optionally
    not before a given time (so a paced task is not redone by another replica early).
    """

    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        lease_s: float,
        holder: str | None = None,
    ) -> None:
        self.collection = collection
        self.lease_s = lease_s
        self.holder = holder or process_holder()

    async def take(self, key: str, now: float | None = None) -> bool:
        """Claim (or renew) ``key`` for ``lease_s``; False while another holds it."""
        now = time.time() if now is None else now
        # ``$and`` around the ``$or``: nx-27017's findAndModify ignores a top-level
        # ``_id`` next to ``$or`` and would take another key's lease.
        free_or_ours = {"$or": [{"holder": self.holder}, {"lease_until": {"$lt": now}}]}
        taken = await self.collection.find_one_and_update(
            {"$and": [{"_id": key}, free_or_ours]},
            {"$set": {"holder": self.holder, "lease_until": now + self.lease_s}},
        )
        if taken is not None:
            return True
        # One round trip in the usual case; the document is created on first use.
        # No upsert: its conflict handling differs between servers. A duplicate means
        # another replica created (and holds) it in between.
        try:
            await self.collection.insert_one(
                {"_id": key, "holder": self.holder, "lease_until": now + self.lease_s}
            )
        except DuplicateKeyError:
            return False
        return True

    async def release(self, key: str, free_at: float = 0.0) -> None:
        """Give ``key`` up if we hold it; nobody (us included) takes it before ``free_at``."""
        await self.collection.update_one(
            {"_id": key, "holder": self.holder},
            {"$set": {"holder": None, "lease_until": free_at}},
        )

    async def _keep(self, key: str) -> None:
        # Renew well before expiry so a slow task never loses its lease midway.
        while True:
            await asyncio.sleep(self.lease_s / 3)
            await self.take(key)

    @contextlib.asynccontextmanager
    async def holding(self, key: str) -> AsyncIterator[Lease]:
        """Take ``key``, renew it while the block runs, release it after.

        Yields a :class:`Lease` whose ``held`` says whether the block may do the work;
        set its ``free_at`` to keep others from taking the key again before then.
        """
        lease = Lease(held=await self.take(key))
        if not lease.held:
            yield lease
            return
        keeper = asyncio.create_task(self._keep(key))
        try:
            yield lease
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await keeper
            await self.release(key, lease.free_at)


class Lease:
    """One use of :meth:`Leases.holding`: whether it is held, and when to free it."""

    def __init__(self, *, held: bool) -> None:
        self.held = held
        self.free_at = 0.0
