"""Transactional outbox: events written with the state change, relayed to Kafka after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from opentelemetry import propagate
from opentelemetry.context import Context
from prometheus_client import Counter
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

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


TimedSent = Callable[[str, bytes, float], None]
"""Told (topic, payload, lateness in seconds) of each timed row once it is handed to Kafka."""

FRESH_LIMIT = 20_000
"""Most rows an outbox hands to its relay in memory; beyond, the relay reads them."""

OUTBOX_RELAYED = Counter(
    "siar_outbox_relayed",
    "Outbox events the relay handed to Kafka and the broker acknowledged, by topic.",
    ["service", "topic"],
)


def time_ns_of(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware ``moment``, exactly (no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
        # Whether rows exist that only a read of the collection finds (written in a
        # transaction, or too many to hand over); starts true for a restart's leftovers.
        self._read_requested = True
        self.on_timed_sent: TimedSent | None = None

    def _document(
        self, event: Event, context: Context | None = None, not_before: datetime | None = None
    ) -> Document:
        # The trace travels with the event: the relay re-injects it when publishing.
        headers: dict[str, str] = {}
        propagate.inject(headers, context=context)
        doc: Document = {
            "_id": str(event.event_id),
            "topic": event.topic,
            "key": event.partition_key(),
            "payload": event.model_dump_json().encode(),
            "headers": headers,
            "workspace_id": event.workspace_id,
            "created_at": utcnow(),
            "published": False,
            "published_at": None,
        }
        due_ns = time_ns_of(not_before) if not_before is not None else 0
        if due_ns > time.time_ns():
            # A future row sorts at its time, so the relay's "seq <= now" read skips it
            # until then and never lets it hold back rows written after it.
            doc["seq"] = due_ns
        else:
            self._last_seq = max(time.time_ns(), self._last_seq + 1)
            doc["seq"] = self._last_seq
        if not_before is not None:
            doc["due_ts"] = due_ns / 1e9
        return doc

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
        self,
        events: Sequence[Event],
        *,
        contexts: Sequence[Context | None] = (),
        not_before: Sequence[datetime | None] = (),
    ) -> int:
        """Record events outside any transaction, each at most once; returns how many were new.

        The event id is the outbox ``_id``, so a caller that derives ids from a natural
        key (e.g. post, account, occurrence) gets exactly-once recording from the unique
        ``_id`` alone, across processes, without a multi-document transaction.
        ``contexts`` gives each event its own trace (default: the current one);
        ``not_before`` a time before which the relay does not send it (a timed row:
        written ahead, so that only the send is left for that instant).
        """
        if not events:
            return 0
        docs = [
            self._document(
                e,
                contexts[i] if i < len(contexts) else None,
                not_before[i] if i < len(not_before) else None,
            )
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
        self._wake.set()
        return len(docs)

    def _hand_off(self, docs: list[Document]) -> None:
        if len(self._fresh) + len(docs) > FRESH_LIMIT:
            self._fresh.clear()
            self._read_requested = True  # the relay reads them from the collection instead
        else:
            self._fresh.extend(docs)

    def take_fresh(self) -> list[Document]:
        """The rows :meth:`add_once` wrote since the last call, in write order."""
        fresh, self._fresh = self._fresh, []
        return fresh

    def notify(self) -> None:
        """Wake the relay to read the collection: call after a transaction that added events."""
        self._read_requested = True
        self._wake.set()

    def take_read_request(self) -> bool:
        """Whether :meth:`notify` asked for a read since the last call."""
        requested, self._read_requested = self._read_requested, False
        return requested

    async def wait(self, within_s: float) -> None:
        """Sleep until notified or ``within_s`` passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), within_s)
        self._wake.clear()
