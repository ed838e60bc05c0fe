"""Precise dispatch: posts due soon wait in memory and are fired just ahead of their time.

The database is read ahead every ``scan_interval``; a post created or moved inside
the window is added directly. Firing is a conditional write (status and version),
so cancelling or editing first always wins and two replicas fire a post only once.

Firing ("the gate") locks the post and writes its ``post.scheduled`` rows into the
outbox with the due time as ``not_before``; the relay sends them at that instant, so
the database writes are off the due second. Each gate starts ``lead_s`` before its
post's time plus the time the posts due before it will take to gate (learned from
the gates so far), so a spike of thousands at one second is gated in the seconds
before it and only the Kafka sends are left for the second itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from siar.contracts import utcnow
from siar_scheduler.metrics import DUE_SOON

log = logging.getLogger(__name__)

Fire = Callable[[str, str, int, datetime], Awaitable[bool]]
FireMany = Callable[[list[tuple[str, str, int, datetime]]], Awaitable[set[str]]]
"""Fires a batch of (workspace, post, version, due); returns the post ids it fired."""

MAX_BATCH = 250
"""Most posts gated in one bulk step: each step's Python work holds the event loop, and
the relay's timed sends share that loop, so steps stay short (~50 ms)."""

FIRST_COST_S = 0.005
"""Gate time per post assumed until this process has measured its own (nx-27017: ~2 ms)."""

HEADROOM = 1.5
"""The plan counts each post this many times its measured cost: a slower step (a busy
machine, a read-ahead competing for the database) must not make the last posts late."""


def plan_gates(
    dues: Sequence[float], now: float, *, lead_s: float, per_post_s: float
) -> tuple[int, float]:
    """How many of the earliest posts to gate now, and when the gate must next start.

    ``dues`` are epoch seconds in order. Post *k* must start by its time less
    ``lead_s`` less the gate time of the *k + 1* posts up to it; every post whose
    latest start falls within half a lead from now is taken too, so a spread-out
    spike is gated in batches rather than one by one.
    """
    window = lead_s / 2
    take, next_start = 0, math.inf
    for k, due in enumerate(dues):
        latest = due - lead_s - (k + 1) * per_post_s
        if latest <= now + window:
            take = k + 1
        else:
            next_start = min(next_start, latest - window)
    return take, next_start


class Dispatcher:
    """Holds the due-soon posts in a heap and fires each at its time."""

    def __init__(
        self,
        *,
        load_due: Callable[[datetime], Awaitable[list[dict[str, object]]]],
        fire: Fire | None = None,
        lookahead_s: float,
        scan_interval_s: float,
        fire_many: FireMany | None = None,
        on_scan: Callable[[], Awaitable[object]] | None = None,
        lead_s: float = 0.0,
    ) -> None:
        if (fire is None) == (fire_many is None):
            raise ValueError("give exactly one of fire and fire_many")
        self.load_due = load_due
        self.fire = fire
        self.fire_many = fire_many
        self.on_scan = on_scan
        self.lookahead = timedelta(seconds=lookahead_s)
        self.scan_interval_s = scan_interval_s
        self.lead_s = lead_s
        # Learned seconds per post gated; without a lead posts gate at their time.
        self.per_post_s = FIRST_COST_S if lead_s > 0 else 0.0
        self._waiting: list[tuple[datetime, str, str, int]] = []  # sorted when taken
        self._next_start = math.inf
        self._queued: set[tuple[str, int]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self.fired = 0

    def consider(self, workspace_id: str, post_id: str, version: int, due: datetime) -> None:
        """Queue a post if it is due within the window (called on create/edit)."""
        if due <= utcnow() + self.lookahead and (post_id, version) not in self._queued:
            self._queued.add((post_id, version))
            self._waiting.append((due, post_id, workspace_id, version))
            DUE_SOON.set(len(self._waiting))
            self._wake.set()

    async def scan(self) -> None:
        """Read ahead: queue every scheduled post due within the window."""
        if self.on_scan is not None:
            await self.on_scan()
        for doc in await self.load_due(utcnow() + self.lookahead):
            due = doc["scheduled_at"]
            assert isinstance(due, datetime)  # noqa: S101 - from our own documents
            self.consider(str(doc["workspace_id"]), str(doc["_id"]), int(str(doc["version"])), due)

    def _take_due(self) -> list[tuple[datetime, str, str, int]]:
        """Pop the posts whose gate must start now; remember when the next one must."""
        self._waiting.sort()
        take, self._next_start = plan_gates(
            [due.timestamp() for due, *_ in self._waiting],
            time.time(),
            lead_s=self.lead_s,
            per_post_s=self.per_post_s * HEADROOM,
        )
        batch, self._waiting = self._waiting[:take], self._waiting[take:]
        DUE_SOON.set(len(self._waiting))
        return batch

    async def _fire_due(self) -> None:
        batch = self._take_due()
        if not batch:
            return
        if self.fire_many is not None:
            for start in range(0, len(batch), MAX_BATCH):
                chunk = batch[start : start + MAX_BATCH]
                began = time.perf_counter()
                won = await self._fire_chunk(self.fire_many, chunk)
                self._learn(won, time.perf_counter() - began)
            return
        assert self.fire is not None  # noqa: S101 - checked in __init__
        results = await asyncio.gather(
            *(self.fire(ws, post_id, version, due) for due, post_id, ws, version in batch),
            return_exceptions=True,
        )
        for (_, post_id, _, version), result in zip(batch, results, strict=True):
            self._queued.discard((post_id, version))
            if isinstance(result, BaseException):
                log.error("dispatch of %s failed; will retry on next scan: %s", post_id, result)
            elif result:
                self.fired += 1

    async def _fire_chunk(
        self, fire_many: FireMany, chunk: list[tuple[datetime, str, str, int]]
    ) -> int:
        """Fire one chunk; returns how many this process won at the gate."""
        try:
            won = await fire_many(
                [(ws, post_id, version, due) for due, post_id, ws, version in chunk]
            )
        except Exception as err:  # the next scan queues them again
            log.error("dispatch of %d posts failed; will retry on next scan: %s", len(chunk), err)
            won = set()
        for _, post_id, _, version in chunk:
            self._queued.discard((post_id, version))
        self.fired += len(won)
        return len(won)

    def _learn(self, posts: int, took_s: float) -> None:
        # Only posts this process gated count: posts another replica won first cost it
        # next to nothing, and learning from them would make it start ever later.
        # Small batches say more about round trips than about per-post cost.
        if self.lead_s > 0 and posts >= 20:
            self.per_post_s = 0.7 * self.per_post_s + 0.3 * min(0.05, took_s / posts)

    async def _scan_logged(self) -> None:
        try:
            await self.scan()
        except Exception:
            log.exception("dispatcher read-ahead failed; retrying")
        finally:
            self._wake.set()  # the loop does not time the next scan while one runs

    async def run(self) -> None:
        """Scan and fire until stopped.

        The read-ahead runs beside the firing, not in between: reading thousands of
        due posts takes a while, and posts due meanwhile must not wait for it.
        """
        next_scan = 0.0
        loop = asyncio.get_running_loop()
        scanning: asyncio.Task[None] | None = None
        try:
            while not self._stopping:
                if loop.time() >= next_scan and (scanning is None or scanning.done()):
                    scanning = asyncio.create_task(self._scan_logged())
                    next_scan = loop.time() + self.scan_interval_s
                await self._fire_due()
                idle = scanning is None or scanning.done()
                # While a scan runs, only due posts or its end may wake the loop: a
                # timeout already past would spin without ever letting the scan finish.
                timeout = next_scan - loop.time() if idle else math.inf
                if self._waiting:
                    timeout = min(timeout, self._next_start - time.time())
                self._wake.clear()
                if timeout > 0 and not self._stopping:
                    with contextlib.suppress(TimeoutError):
                        limit = None if math.isinf(timeout) else timeout
                        await asyncio.wait_for(self._wake.wait(), limit)
        finally:
            if scanning is not None and not scanning.done():
                scanning.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scanning

    def stop(self) -> None:
        """Stop after the current step."""
        self._stopping = True
        self._wake.set()
