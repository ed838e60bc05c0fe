"""Transactional outbox: events written with the state change, relayed to Kafka after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context
from prometheus_client import Counter
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from siar.contracts import Event, utcnow
from siar.runtime.mongo import Document, IndexSpec

log = logging.getLogger(__name__)

OUTBOX = "outbox"
LEASES = "outbox_leases"
DUPLICATE_KEY = 11000

OUTBOX_INDEXES = (
    IndexSpec(OUTBOX, [("published", ASCENDING), ("seq", ASCENDING)], name="pending"),
    IndexSpec(
        OUTBOX,
        [("published_at", ASCENDING)],
        name="published_ttl",
        options={"expireAfterSeconds": 7 * 24 * 3600},
    ),
)


# What the relay reads of a pending row: not the bookkeeping fields.
_RELAY_FIELDS = {"topic": 1, "key": 1, "payload": 1, "headers": 1, "seq": 1}

FRESH_LIMIT = 20_000
"""Most rows an outbox hands to its relay in memory; beyond, the relay reads them."""

OUTBOX_RELAYED = Counter(
    "siar_outbox_relayed",
    "Outbox events the relay handed to Kafka and the broker acknowledged, by topic.",
    ["service", "topic"],
)


class Publish(Protocol):
    """Hands one record to the producer; returns its pending delivery to await later.

    Records are handed over one by one, in order, so each partition keeps write
    order; the deliveries are awaited together, so a batch costs one round trip.
    """

    async def __call__(
        self, *, topic: str, payload: bytes, key: bytes, headers: dict[str, str]
    ) -> Awaitable[Any]: ...


class Outbox:
    """Writes events into the outbox inside the caller's transaction."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[OUTBOX]
        self._wake = asyncio.Event()
        # Strictly increasing within a process, so relay order is write order even
        # when two events share a clock tick.
        self._last_seq = 0
        # Rows add_once just wrote, handed to this process's relay so that it need not
        # read them back (on nx-27017 the read costs more than the send).
        self._fresh: list[Document] = []

    def _document(self, event: Event, context: Context | None = None) -> Document:
        # The trace travels with the event: the relay re-injects it when publishing.
        headers: dict[str, str] = {}
        propagate.inject(headers, context=context)
        self._last_seq = max(time.time_ns(), self._last_seq + 1)
        return {
            "_id": str(event.event_id),
            "topic": event.topic,
            "key": event.partition_key(),
            "payload": event.model_dump_json().encode(),
            "headers": headers,
            "workspace_id": event.workspace_id,
            "created_at": utcnow(),
            "seq": self._last_seq,
            "published": False,
            "published_at": None,
        }

    async def add(self, event: Event, *, session: AsyncClientSession | None) -> None:
        """Record ``event`` for publishing; commits or aborts with the caller's session."""
        await self.collection.insert_one(self._document(event), session=session)

    async def add_many(
        self, events: Sequence[Event], *, session: AsyncClientSession | None
    ) -> None:
        """Record ``events`` in order with one write; commits or aborts with the session."""
        if events:
            docs = [self._document(event) for event in events]
            await self.collection.insert_many(docs, ordered=True, session=session)

    async def add_once(
        self, events: Sequence[Event], *, contexts: Sequence[Context | None] = ()
    ) -> int:
        """Record events outside any transaction, each at most once; returns how many were new.

        The event id is the outbox ``_id``, so a caller that derives ids from a natural
        key (e.g. post, account, occurrence) gets exactly-once recording from the unique
        ``_id`` alone, across processes, without a multi-document transaction.
        ``contexts`` gives each event its own trace (default: the current one).
        """
        if not events:
            return 0
        docs = [
            self._document(e, contexts[i] if i < len(contexts) else None)
            for i, e in enumerate(events)
        ]
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as err:
            errors = err.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            taken = {int(e["index"]) for e in errors}
            docs = [d for i, d in enumerate(docs) if i not in taken]
        self._hand_off(docs)
        self.notify()
        return len(docs)

    def _hand_off(self, docs: list[Document]) -> None:
        if len(self._fresh) + len(docs) > FRESH_LIMIT:
            self._fresh.clear()  # the relay reads them from the collection instead
        else:
            self._fresh.extend(docs)

    def take_fresh(self) -> list[Document]:
        """The rows :meth:`add_once` wrote since the last call, in write order."""
        fresh, self._fresh = self._fresh, []
        return fresh

    def notify(self) -> None:
        """Wake the relay: call after a transaction that added events commits."""
        self._wake.set()

    async def wait(self, within_s: float) -> None:
        """Sleep until notified or ``within_s`` passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), within_s)
        self._wake.clear()


class OutboxRelay:
    """Publishes pending outbox documents in write order; one active relay per database.

    Replicas compete for a short lease so that normally one relays; if two ever do,
    consumers still deduplicate on ``event_id``.
    """

    def __init__(
        self,
        outbox: Outbox,
        db: AsyncDatabase[Document],
        publish: Publish,
        *,
        poll_s: float = 0.5,
        batch: int = 500,
        lease_s: float = 10.0,
        service: str = "",
    ) -> None:
        self.outbox = outbox
        self.service = service
        self.leases = db[LEASES]
        self.publish = publish
        self.poll_s = poll_s
        self.batch = batch
        self.lease_s = lease_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._stopping = asyncio.Event()
        self.published_total = 0
        # Ids the collection read sent lately: a row read back before add_once handed
        # it over must not be sent a second time from memory.
        self._read_sent: dict[str, None] = {}

    async def _hold_lease(self) -> bool:
        # Epoch seconds, not a datetime: see TenantCollection.replace_one on nx-27017.
        now = time.time()
        # Create the lease document once, then take it only if it is ours or expired;
        # no upsert, whose conflict handling differs between servers.
        with contextlib.suppress(DuplicateKeyError):
            await self.leases.insert_one({"_id": "relay", "owner": None, "expires_ts": 0.0})
        taken = await self.leases.find_one_and_update(
            {"_id": "relay", "$or": [{"owner": self.owner}, {"expires_ts": {"$lt": now}}]},
            {"$set": {"owner": self.owner, "expires_ts": now + self.lease_s}},
        )
        return taken is not None

    async def _pending(self) -> list[Document]:
        cursor = self.outbox.collection.find(
            {"published": False},
            projection=_RELAY_FIELDS,
            sort=[("seq", ASCENDING)],
            limit=self.batch,
        )
        return await cursor.to_list()

    async def _send(self, docs: list[Document]) -> tuple[list[Document], BaseException | None]:
        """Hand every record to the producer, then await all deliveries together.

        Returns the delivered prefix and the first failure: records after a failure
        may have reached Kafka too, but stay pending so that order holds on the retry
        (consumers deduplicate on ``event_id``).
        """
        deliveries: list[Awaitable[Any]] = []
        for doc in docs:
            token = otel_context.attach(propagate.extract(doc.get("headers") or {}))
            try:
                deliveries.append(
                    await self.publish(
                        topic=doc["topic"],
                        payload=bytes(doc["payload"]),
                        key=bytes(doc["key"]),
                        headers=dict(doc.get("headers") or {}),
                    )
                )
            finally:
                otel_context.detach(token)
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        return (docs[: results.index(failure)] if failure is not None else docs), failure

    async def _mark(self, delivered: list[Document]) -> None:
        if not delivered:
            return
        await self.outbox.collection.update_many(
            {"_id": {"$in": [d["_id"] for d in delivered]}},
            {"$set": {"published": True, "published_at": utcnow()}},
        )
        self.published_total += len(delivered)
        for doc in delivered:
            OUTBOX_RELAYED.labels(self.service, doc["topic"]).inc()

    async def relay_once(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        docs = await self._pending()
        delivered, failure = await self._send(docs)
        await self._mark(delivered)
        self._read_sent.update(dict.fromkeys(d["_id"] for d in delivered))
        if len(self._read_sent) > FRESH_LIMIT:
            self._read_sent = dict.fromkeys(list(self._read_sent)[-FRESH_LIMIT // 2 :])
        if failure is not None:
            raise failure
        return len(delivered)

    async def drain(self) -> int:
        """Publish every pending event; returns how many were published.

        Rows this process's :meth:`Outbox.add_once` just wrote are sent from memory,
        without reading them back, when no older row is pending (so write order
        holds); everything else is read from the collection in ``seq`` order.
        """
        total = 0
        # While the dispatch keeps writing (a spike), keep sending from memory: each
        # round hands over what was written during the last one.
        while (fresh := self.outbox.take_fresh()) and await self._hold_lease():
            sent = await self._relay_fresh(fresh)
            if sent is None:
                break  # older rows are pending: read them and these in order
            total += sent
        while True:
            published = await self.relay_once()
            total += published
            if published < self.batch or not await self._hold_lease():
                return total

    async def _relay_fresh(self, fresh: list[Document]) -> int | None:
        """Send rows handed over in memory; None if older rows are pending first."""
        older = await self.outbox.collection.find_one(
            {"published": False, "seq": {"$lt": fresh[0]["seq"]}}, projection={"_id": 1}
        )
        if older is not None:
            return None
        fresh = [d for d in fresh if d["_id"] not in self._read_sent]
        total = 0
        for start in range(0, len(fresh), self.batch):
            delivered, failure = await self._send(fresh[start : start + self.batch])
            await self._mark(delivered)
            total += len(delivered)
            if failure is not None:
                raise failure  # the rest are still pending: the next read finds them
        return total

    async def run(self) -> None:
        """Relay until stopped; errors are logged and retried, never fatal."""
        while not self._stopping.is_set():
            try:
                if await self._hold_lease():
                    await self.drain()
                else:
                    self.outbox.take_fresh()  # the lease holder reads them
            except (TimeoutError, PyMongoError, OSError) as err:
                log.warning("outbox relay retrying after error: %s", err)
            except Exception:
                log.exception("outbox relay error; retrying")
            await self.outbox.wait(self.poll_s)

    def stop(self) -> None:
        """Ask the loop to finish after its current batch."""
        self._stopping.set()
        self.outbox.notify()
