"""Per-key leases in MongoDB, so one replica at a time works on a key.

Background loops that run in every replica (the outbox relay, the inbox poller, the
vault's token refresher, analytics' collectors, the publisher's delivery attempts)
claim what they work on before touching it: a conditional findAndModify on a lease
document takes it only when it is free, expired or already ours. A replica that dies simply stops
renewing and its leases run out, so another takes over.

The lease may live in a document of its own (``{_id: key, holder, lease_until}``) or
in the document it guards (a collection target, a tracked item, a delivery), with the
field names that document uses; :meth:`Leases.take_due` then takes whichever due
document nobody holds, in one round trip.

Times are epoch seconds (floats), not datetimes: nx-27017 stores a ``$set`` datetime
on an existing document as a string (docs/embedded-stack.md), and floats compare the
same on every server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from siar.runtime.mongo import Document


def process_holder() -> str:
    """A holder id unique to this process (and call): host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """Leases on keys (e.g. account ids) kept in one collection, held by one holder.

    A lease is two fields of the document ``{_id: key}``: its holder and the time it
    runs out (``holder`` and ``lease_until`` unless named otherwise). ``take`` claims it
    when that time has passed or the holder is us; ``release`` frees it, optionally
    not before a given time (so a paced task is not redone by another replica early).
    """

    def __init__(
        self,
        collection: AsyncCollection[Document],
        *,
        lease_s: float,
        holder: str | None = None,
        holder_field: str = "holder",
        until_field: str = "lease_until",
    ) -> None:
        self.collection = collection
        self.lease_s = lease_s
        self.holder = holder or process_holder()
        self.holder_field = holder_field
        self.until_field = until_field

    def _ours_until(self, now: float) -> Document:
        return {self.holder_field: self.holder, self.until_field: now + self.lease_s}

    async def claim(
        self, key: Any, now: float | None = None, *, where: Mapping[str, Any] | None = None
    ) -> Document | None:
        """Take (or renew) the lease of the existing document ``key`` if it is free,
        expired or ours and also matches ``where``; the document as taken, else None."""
        now = time.time() if now is None else now
        # ``$and`` around the ``$or``: nx-27017's findAndModify ignores a top-level
        # ``_id`` next to ``$or`` and would take another document's lease.
        free_or_ours = {"$or": [{self.holder_field: self.holder}, {self.until_field: {"$lt": now}}]}
        taken: Document | None = await self.collection.find_one_and_update(
            {"$and": [{"_id": key}, *([where] if where else []), free_or_ours]},
            {"$set": self._ours_until(now)},
            return_document=ReturnDocument.AFTER,
        )
        return taken

    async def take(self, key: str, now: float | None = None) -> bool:
        """Claim (or renew) ``key`` for ``lease_s``; False while another holds it.

        The lease document is created on first use.
        """
        now = time.time() if now is None else now
        if await self.claim(key, now) is not None:
            return True
        # One round trip in the usual case. No upsert: its conflict handling differs
        # between servers. A duplicate means another replica created (and holds) it
        # in between.
        try:
            await self.collection.insert_one({"_id": key, **self._ours_until(now)})
        except DuplicateKeyError:
            return False
        return True

    async def take_due(
        self,
        due: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]],
        now: float | None = None,
    ) -> Document | None:
        """Take the first document (in ``sort`` order) matching ``due`` whose lease ran out.

        Not one we hold: a holder may run several tasks at once, each on its own key.
        Returns the document as taken, or None when none is due and free.
        """
        now = time.time() if now is None else now
        found: Document | None = await self.collection.find_one_and_update(
            {**due, self.until_field: {"$lt": now}},
            {"$set": self._ours_until(now)},
            sort=list(sort),
            return_document=ReturnDocument.AFTER,
        )
        return found

    async def release(
        self, key: Any, free_at: float = 0.0, *, also: Mapping[str, Any] | None = None
    ) -> bool:
        """Give ``key`` up if we hold it; nobody (us included) takes it before ``free_at``.

        ``also`` is set in the same write (e.g. when the key is next due); whether the
        lease was ours to give up.
        """
        freed = await self.collection.update_one(
            {"_id": key, self.holder_field: self.holder},
            {"$set": {**(also or {}), self.holder_field: None, self.until_field: free_at}},
        )
        return freed.matched_count == 1

    async def release_replacing(
        self, key: Any, document: Mapping[str, Any], free_at: float = 0.0
    ) -> bool:
        """Like :meth:`release`, writing ``document`` whole (so its datetimes stay datetimes
        on nx-27017, where ``$set`` would store them as strings)."""
        body = {k: v for k, v in document.items() if k != "_id"}
        body.update({self.holder_field: None, self.until_field: free_at})
        replaced = await self.collection.replace_one(
            {"_id": key, self.holder_field: self.holder}, body
        )
        return replaced.matched_count == 1

    async def _keep(
        self,
        key: str,
        every_s: float,
        ours: Mapping[str, Any],
        kept: KeptLease | None = None,
    ) -> None:
        # Renew well before expiry so a slow task never loses its lease midway. The
        # document exists (the lease was taken), so a claim renews it.
        while True:
            await asyncio.sleep(every_s)
            try:
                renewed = await self.claim(key, where=ours) is not None
            except PyMongoError:
                renewed = False  # not renewed: for all the work can tell, not held
            if not renewed and kept is not None:
                kept.lost = True
                return

    def _still_ours(self, where: Mapping[str, Any] | None) -> Mapping[str, Any]:
        # A renewal keeps what we hold: a lease another holder took (and maybe let
        # lapse) is not taken back, since that holder may have done the work meanwhile.
        return {self.holder_field: self.holder, **(where or {})}

    @contextlib.asynccontextmanager
    async def keeping(
        self, key: str, *, where: Mapping[str, Any] | None = None
    ) -> AsyncIterator[KeptLease]:
        """Renew the lease we still hold on ``key`` at half its term while the block runs.

        As the outbox relay renews its own. A renewal that fails (another holder took the
        key, or the database did not answer) marks the yielded :class:`KeptLease` lost;
        the block calls its ``check`` between steps and ``confirm`` before its final
        write, and so stops instead of working on beside the new holder. With ``where``,
        the lease is renewed only while the document also matches it (e.g. a delivery
        still pending: once its outcome is recorded, by anyone, it is no longer kept).
        """
        ours = self._still_ours(where)
        kept = KeptLease(self, key, where=ours)
        keeper = asyncio.create_task(self._keep(key, self.lease_s / 2, ours, kept))
        try:
            yield kept
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

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
        keeper = asyncio.create_task(self._keep(key, self.lease_s / 3, self._still_ours(None)))
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


class LeaseLost(Exception):
    """A lease was taken by another holder, or could not be renewed, while work ran."""


class KeptLease:
    """A lease renewed by :meth:`Leases.keeping`; whether it is still ours."""

    def __init__(self, leases: Leases, key: str, *, where: Mapping[str, Any] | None = None) -> None:
        self.leases = leases
        self.key = key
        self.where = where
        self.lost = False

    def check(self) -> None:
        """Raise :class:`LeaseLost` if a renewal failed: another holder may be on the key."""
        if self.lost:
            raise LeaseLost(f"the lease on {self.key} was lost")

    async def confirm(self) -> None:
        """Renew now (a full term ahead) or raise :class:`LeaseLost`; call it right before
        the work's final write, so the write happens while the lease is surely ours."""
        self.check()
        if await self.leases.claim(self.key, where=self.where) is None:
            self.lost = True
            self.check()
