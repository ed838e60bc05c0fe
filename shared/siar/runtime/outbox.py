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
        try:
            result = await self.collection.insert_many(
                [
                    self._document(e, contexts[i] if i < len(contexts) else None)
                    for i, e in enumerate(events)
                ],
                ordered=False,
            )
            inserted = len(result.inserted_ids)
        except BulkWriteError as err:
            if any(e.get("code") != DUPLICATE_KEY for e in err.details.get("writeErrors", [])):
                raise
            inserted = int(err.details.get("nInserted", 0))
        self.notify()
        return inserted

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

    async def relay_once(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        cursor = self.outbox.collection.find(
            {"published": False}, sort=[("seq", ASCENDING)], limit=self.batch
        )
        docs = await cursor.to_list()
        if not docs:
            return 0
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
        # Mark only the prefix that was delivered, so order holds on the retry.
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        delivered = docs[: results.index(failure)] if failure is not None else docs
        if delivered:
            await self.outbox.collection.update_many(
                {"_id": {"$in": [d["_id"] for d in delivered]}},
                {"$set": {"published": True, "published_at": utcnow()}},
            )
            self.published_total += len(delivered)
            for doc in delivered:
                OUTBOX_RELAYED.labels(self.service, doc["topic"]).inc()
        if failure is not None:
            raise failure
        return len(delivered)

    async def run(self) -> None:
        """Relay until stopped; errors are logged and retried, never fatal."""
        while not self._stopping.is_set():
            try:
                if await self._hold_lease():
                    while await self.relay_once() >= self.batch:
                        pass
            except (TimeoutError, PyMongoError, OSError) as err:
                log.warning("outbox relay retrying after error: %s", err)
            except Exception:
                log.exception("outbox relay error; retrying")
            await self.outbox.wait(self.poll_s)

    def stop(self) -> None:
        """Ask the loop to finish after its current batch."""
        self._stopping.set()
        self.outbox.notify()
