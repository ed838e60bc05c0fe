"""The outbox relay: publishes pending outbox rows to Kafka, in write order, one relay per database.

Rows :meth:`Outbox.add_once` just wrote are handed over in memory; timed rows (written
ahead with a ``not_before``) are held until their time and then sent from memory, so
only the Kafka send is left for that instant. Everything else is read from the
collection in ``seq`` order.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable
from typing import Any

from aiokafka.errors import KafkaError
from opentelemetry import context as otel_context
from opentelemetry import propagate
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from siar.contracts import utcnow
from siar.runtime.leases import Leases, process_holder
from siar.runtime.mongo import Document
from siar.runtime.outbox import FRESH_LIMIT, LEASES, OUTBOX_RELAYED, Outbox, Publish
from siar.runtime.timed_send import PREPARED, TimedProducer

log = logging.getLogger(__name__)

RELAY_LEASE = "outbox-relay"

# What the relay reads of a pending row: not the bookkeeping fields.
_RELAY_FIELDS = {"topic": 1, "key": 1, "payload": 1, "headers": 1, "seq": 1, "due_ts": 1}


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
        timed: TimedProducer | None = None,
    ) -> None:
        self.outbox = outbox
        self.service = service
        self.timed = timed
        self.leases = Leases(db[LEASES], lease_s=lease_s, holder=process_holder())
        self.publish = publish
        self.poll_s = poll_s
        self.batch = batch
        self.lease_s = lease_s
        self._stopping = asyncio.Event()
        self.published_total = 0
        # Ids sent lately, either way: a row read back before add_once handed it over
        # must not go again from memory, nor one sent from memory again by a read
        # that started before its "published" mark was written.
        self._sent_lately: dict[str, None] = {}
        self._lease_until = 0.0
        # Timed rows handed over before their time, sent from memory when it comes;
        # an id leaves _held_ids when sent, or when a collection read took it first.
        self._held: list[tuple[int, str, Document]] = []
        self._held_ids: set[str] = set()
        # The collection is read when asked (notify), after a fallback, and every
        # poll_s: not on every wake-up, since on nx-27017 each read scans the rows kept.
        self._next_read = 0.0
        # Rows sent from memory whose "published" mark is still being written: marking
        # costs the database far more than sending, so it follows behind the sends.
        self._marking: dict[str, Document] = {}
        self._marker: asyncio.Task[None] | None = None
        # Rows being handed to Kafka from memory right now: a read must not send them too.
        self._inflight: set[str] = set()
        self._held_changed = asyncio.Event()

    async def _hold_lease(self) -> bool:
        now = time.time()
        if self._lease_until - now > self.lease_s / 2:
            return True  # renewed lately, and nobody can take it before it expires
        if not await self.leases.take(RELAY_LEASE, now):
            self._lease_until = 0.0
            self._held.clear()  # the lease holder reads them when they are due
            self._held_ids.clear()
            return False
        self._lease_until = now + self.lease_s
        return True

    async def _pending(self) -> list[Document]:
        cursor = self.outbox.collection.find(
            {"published": False, "seq": {"$lte": time.time_ns()}},
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
        handed: list[float] = []
        for doc in docs:
            handed.append(time.time())
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
        delivered = docs[: results.index(failure)] if failure is not None else docs
        self._observe_timed(delivered, handed)
        return delivered, failure

    def _observe_timed(self, delivered: list[Document], handed: list[float]) -> None:
        hook = self.outbox.on_timed_sent
        if hook is None:
            return
        for doc, at in zip(delivered, handed, strict=False):
            if doc.get("due_ts") is not None:
                hook(doc["topic"], bytes(doc["payload"]), max(0.0, at - float(doc["due_ts"])))

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
        docs = [
            d
            for d in await self._pending()
            if d["_id"] not in self._sent_lately
            and d["_id"] not in self._marking
            and d["_id"] not in self._inflight
        ]
        self._held_ids.difference_update(d["_id"] for d in docs)
        delivered, failure = await self._send(docs)
        await self._mark(delivered)
        self._remember_sent(delivered)
        if failure is not None:
            raise failure
        return len(delivered)

    async def drain(self, *, read: bool = True) -> int:
        """Publish every pending event; returns how many were published.

        Rows this process's :meth:`Outbox.add_once` just wrote are sent from memory,
        without reading them back, when no older row is pending (so write order
        holds); timed rows at their time. Everything else is read from the collection
        in ``seq`` order, when ``read`` or when the rows in memory must wait for it.
        """
        total = 0
        # While the dispatch keeps writing (a spike), keep sending from memory: each
        # round hands over what was written during the last one.
        while (ready := self._ready(self.outbox.take_fresh())) and await self._hold_lease():
            sent = await self._relay_fresh(ready)
            if sent is None:
                read = True  # older rows are pending: read them and these in order
                break
            total += sent
        if not read:
            return total
        self._next_read = time.monotonic() + self.poll_s
        while True:
            published = await self.relay_once()
            total += published
            if published < self.batch or not await self._hold_lease():
                return total

    def _ready(self, fresh: list[Document]) -> list[Document]:
        """Fresh rows due now, in seq order; future (timed) ones go to the timed sender."""
        now_ns = time.time_ns()
        ready = []
        for doc in fresh:
            if doc["seq"] <= now_ns:
                ready.append(doc)
            elif len(self._held) < FRESH_LIMIT:  # beyond, the collection read finds it
                if self.timed is not None:
                    self.timed.prepare(doc, int(doc["seq"]))
                heapq.heappush(self._held, (doc["seq"], doc["_id"], doc))
                self._held_ids.add(doc["_id"])
                self._held_changed.set()
        return ready

    def _due_held(self) -> list[Document]:
        """Pop the held rows whose time has come (those a read took already are skipped)."""
        now_ns = time.time_ns()
        due = []
        while self._held and self._held[0][0] <= now_ns:
            _, doc_id, doc = heapq.heappop(self._held)
            if doc_id in self._held_ids:
                self._held_ids.discard(doc_id)
                self._inflight.add(doc_id)  # from now on, only this sender sends it
                due.append(doc)
        return due

    async def _send_timed(self) -> None:
        """Send held rows at their time, beside the main loop: a read never delays them."""
        while not self._stopping.is_set():
            due: list[Document] = []
            try:
                if self._held and self.timed is not None:
                    await self.timed.start()  # connected before the first due instant
                wait = self.poll_s
                if self._held:
                    wait = max(0.0, (self._held[0][0] - time.time_ns()) / 1e9)
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._held_changed.wait(), wait)
                    self._held_changed.clear()
                due = self._due_held()
                if due and await self._hold_lease():
                    await self._send_from_memory(due)
            except (TimeoutError, PyMongoError, OSError, KafkaError) as err:
                log.warning("outbox relay: timed rows left to the next read: %s", err)
                await asyncio.sleep(min(self.poll_s, 1.0))
            except Exception:
                log.exception("outbox relay: timed rows left to the next read")
                await asyncio.sleep(min(self.poll_s, 1.0))
            finally:
                self._inflight.difference_update(d["_id"] for d in due)

    def _wait_s(self) -> float:
        """Until the next read of the collection."""
        return max(0.0, self._next_read - time.monotonic())

    async def _relay_fresh(self, fresh: list[Document]) -> int | None:
        """Send rows handed over in memory; None if older rows are pending first.

        Timed rows go at their time whatever is pending: only untimed rows keep write
        order with the rows before them, and only they cost a read to check it.
        """
        untimed = next((d for d in fresh if d.get("due_ts") is None), None)
        if untimed is not None:
            older = await self.outbox.collection.find_one(
                {"published": False, "seq": {"$lt": untimed["seq"]}}, projection={"_id": 1}
            )
            if older is not None:
                return None
        return await self._send_from_memory(fresh)

    async def _send_from_memory(self, rows: list[Document]) -> int:
        """Send rows handed over in memory and mark them behind; returns how many went."""
        rows = [d for d in rows if d["_id"] not in self._sent_lately]
        # All of them in flight from the start: a read meanwhile must not send the
        # later chunks while the first ones are on their way.
        self._inflight.update(d["_id"] for d in rows)
        prepared = [d for d in rows if PREPARED in d] if self.timed is not None else []
        rest = [d for d in rows if PREPARED not in d] if prepared else rows
        total = 0
        try:
            if prepared and self.timed is not None:
                # All at once: the producer batches them, and nothing waits per chunk.
                delivered, failure, handed = await self.timed.send(prepared)
                total += self._sent_from_memory(delivered, failure)
                self._observe_timed(delivered, handed)
            for start in range(0, len(rest), self.batch):
                chunk = rest[start : start + self.batch]
                delivered, failure = await self._send(chunk)
                total += self._sent_from_memory(delivered, failure)
        finally:
            self._inflight.difference_update(d["_id"] for d in rows)
        return total

    def _sent_from_memory(self, delivered: list[Document], failure: BaseException | None) -> int:
        self._remember_sent(delivered)  # from here a read skips them, in flight or not
        self._mark_behind(delivered)
        if failure is not None:
            raise failure  # the rest are still pending: the next read finds them
        return len(delivered)

    def _remember_sent(self, delivered: list[Document]) -> None:
        self._sent_lately.update(dict.fromkeys(d["_id"] for d in delivered))
        if len(self._sent_lately) > 2 * FRESH_LIMIT:
            self._sent_lately = dict.fromkeys(list(self._sent_lately)[-FRESH_LIMIT:])

    def _mark_behind(self, delivered: list[Document]) -> None:
        self._marking.update((d["_id"], d) for d in delivered)
        if self._marking and (self._marker is None or self._marker.done()):
            self._marker = asyncio.create_task(self._mark_all())

    async def _mark_all(self) -> None:
        """Mark the rows sent from memory, a batch at a time, until none is left."""
        while self._marking:
            batch = list(self._marking.values())[: self.batch * 4]
            try:
                await self._mark(batch)
            except (PyMongoError, OSError) as err:
                # Still listed, so no read of ours sends them again meanwhile.
                log.warning("outbox relay could not mark %d rows yet: %s", len(batch), err)
                await asyncio.sleep(min(self.poll_s, 1.0))
                continue
            for doc in batch:
                self._marking.pop(doc["_id"], None)

    async def flush_marks(self) -> None:
        """Wait until every row sent from memory is marked published."""
        if self._marker is not None:
            await self._marker

    async def run(self) -> None:
        """Relay until stopped; errors are logged and retried, never fatal."""
        timed = asyncio.create_task(self._send_timed())
        try:
            await self._relay_until_stopped()
        finally:
            self._held_changed.set()
            await timed
        await self.flush_marks()
        if self.timed is not None:
            await self.timed.stop()

    async def _relay_until_stopped(self) -> None:
        while not self._stopping.is_set():
            try:
                if await self._hold_lease():
                    read = self.outbox.take_read_request() or time.monotonic() >= self._next_read
                    await self.drain(read=read)
                else:
                    self.outbox.take_fresh()  # the lease holder reads them
            except (TimeoutError, PyMongoError, OSError) as err:
                log.warning("outbox relay retrying after error: %s", err)
            except Exception:
                log.exception("outbox relay error; retrying")
            await self.outbox.wait(self._wait_s())

    def stop(self) -> None:
        """Ask the loop to finish after its current batch."""
        self._stopping.set()
        self._held_changed.set()
        self.outbox.notify()
