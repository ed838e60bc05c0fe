"""Precise dispatch with an in-memory fake of the posts collection (no database)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from siar.contracts import utcnow
from siar_scheduler.dispatch import Dispatcher

EVENTUALLY_S = 3.0
POLL_S = 0.01
STOP_S = 1.0


@dataclass
class FireCall:
    """One call of ``fire``, as the fake saw it."""

    workspace_id: str
    post_id: str
    version: int
    due: datetime
    at: datetime


@dataclass
class FakePosts:
    """The posts collection: ``load_due`` reads, ``fire`` is the conditional write."""

    docs: dict[str, dict[str, object]] = field(default_factory=dict)
    calls: list[FireCall] = field(default_factory=list)
    fire_failures: int = 0
    load_failures: int = 0
    loads: int = 0
    load_gate: asyncio.Event | None = None
    fire_gate: asyncio.Event | None = None

    def add(self, post_id: str, due: datetime, *, version: int = 1) -> None:
        self.docs[post_id] = {
            "_id": post_id,
            "workspace_id": "ws_1",
            "scheduled_at": due,
            "version": version,
            "status": "scheduled",
        }

    async def load_due(self, until: datetime) -> list[dict[str, object]]:
        self.loads += 1
        if self.load_gate:
            await self.load_gate.wait()
        if self.load_failures:
            self.load_failures -= 1
            raise ConnectionError("database unavailable")
        return [
            dict(doc)
            for doc in self.docs.values()
            if doc["status"] == "scheduled" and doc["scheduled_at"] <= until  # type: ignore[operator]
        ]

    async def fire(self, workspace_id: str, post_id: str, version: int, due: datetime) -> bool:
        self.calls.append(FireCall(workspace_id, post_id, version, due, utcnow()))
        if self.fire_gate:
            await self.fire_gate.wait()
        if self.fire_failures:
            self.fire_failures -= 1
            raise ConnectionError("write failed")
        doc = self.docs.get(post_id)
        if doc is None or doc["status"] != "scheduled" or doc["version"] != version:
            return False
        doc["status"] = "dispatched"
        doc["fired_at"] = utcnow()
        return True

    def fired_at(self, post_id: str) -> datetime:
        value = self.docs[post_id]["fired_at"]
        assert isinstance(value, datetime)
        return value


def dispatcher(posts: FakePosts, *, lookahead_s: float = 60.0, scan_s: float = 30.0) -> Dispatcher:
    return Dispatcher(
        load_due=posts.load_due, fire=posts.fire, lookahead_s=lookahead_s, scan_interval_s=scan_s
    )


async def eventually(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` for a few seconds; fail the test if it never holds."""
    for _ in range(int(EVENTUALLY_S / POLL_S)):
        if condition():
            return
        await asyncio.sleep(POLL_S)
    pytest.fail("condition not reached in time")


async def stop_and_join(d: Dispatcher, task: asyncio.Task[None]) -> None:
    """Stop the dispatcher; ``run()`` must return within a second (never left running)."""
    d.stop()
    done, _ = await asyncio.wait({task}, timeout=STOP_S)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        pytest.fail(f"run() did not end within {STOP_S}s of stop()")
    task.result()


@asynccontextmanager
async def running(d: Dispatcher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(d.run())
    try:
        yield task
    finally:
        await stop_and_join(d, task)


def fired(d: Dispatcher, count: int = 1) -> Callable[[], bool]:
    """The dispatcher has counted ``count`` successful fires (it is then idle again)."""
    return lambda: d.fired >= count


async def test_post_due_in_the_past_fires_immediately() -> None:
    posts = FakePosts()
    posts.add("pst_late", utcnow() - timedelta(seconds=5))
    d = dispatcher(posts)
    started = utcnow()
    async with running(d):
        await eventually(fired(d))
    assert posts.fired_at("pst_late") - started < timedelta(seconds=1)
    assert d.fired == 1
    assert [(c.workspace_id, c.post_id, c.version) for c in posts.calls] == [
        ("ws_1", "pst_late", 1)
    ]


async def test_post_due_soon_fires_at_its_time_not_before() -> None:
    posts = FakePosts()
    due = utcnow() + timedelta(seconds=0.3)
    posts.add("pst_soon", due)
    d = dispatcher(posts)
    async with running(d):
        await asyncio.sleep(0.1)
        assert posts.calls == []
        await eventually(fired(d))
    fired_at = posts.fired_at("pst_soon")
    assert fired_at >= due
    assert fired_at - due < timedelta(seconds=0.7)
    assert posts.calls[0].due == due


async def test_considered_post_fires_without_waiting_for_a_scan() -> None:
    posts = FakePosts()
    d = dispatcher(posts, scan_s=30.0)
    async with running(d):
        await eventually(lambda: posts.loads == 1)
        due = utcnow() + timedelta(seconds=0.2)
        posts.add("pst_new", due)
        d.consider("ws_1", "pst_new", 1, due)
        await eventually(fired(d))
    assert posts.fired_at("pst_new") >= due
    assert posts.loads == 1


async def test_same_post_and_version_fires_once() -> None:
    posts = FakePosts()
    due = utcnow() + timedelta(seconds=0.1)
    posts.add("pst_1", due)
    d = dispatcher(posts)
    d.consider("ws_1", "pst_1", 1, due)
    d.consider("ws_1", "pst_1", 1, due)
    async with running(d):  # its first scan finds the same post a third time
        await eventually(fired(d))
        await asyncio.sleep(0.2)
    assert len(posts.calls) == 1
    assert d.fired == 1


async def test_edited_post_fires_only_its_current_version() -> None:
    posts = FakePosts()
    due = utcnow() - timedelta(seconds=1)
    posts.add("pst_1", due, version=2)
    d = dispatcher(posts)
    d.consider("ws_1", "pst_1", 1, due)  # queued before the edit
    d.consider("ws_1", "pst_1", 2, due)
    async with running(d):
        await eventually(fired(d))
    assert sorted(c.version for c in posts.calls) == [1, 2]
    assert d.fired == 1
    assert posts.docs["pst_1"]["status"] == "dispatched"


async def test_fire_that_raises_is_retried_on_next_scan() -> None:
    posts = FakePosts(fire_failures=1)
    posts.add("pst_1", utcnow() - timedelta(seconds=1))
    d = dispatcher(posts, scan_s=0.3)
    async with running(d):
        await eventually(fired(d))
    first, second = posts.calls
    assert second.at - first.at >= timedelta(seconds=0.2)
    assert d.fired == 1


async def test_failed_read_ahead_is_retried() -> None:
    posts = FakePosts(load_failures=2)
    posts.add("pst_1", utcnow() - timedelta(seconds=1))
    d = dispatcher(posts, scan_s=0.05)
    async with running(d):
        await eventually(fired(d))
    assert posts.loads >= 3
    assert d.fired == 1


async def test_post_beyond_the_window_is_picked_up_by_a_later_scan() -> None:
    posts = FakePosts()
    due = utcnow() + timedelta(seconds=0.5)
    posts.add("pst_later", due)
    d = dispatcher(posts, lookahead_s=0.2, scan_s=0.05)
    d.consider("ws_1", "pst_later", 1, due)  # outside the window: not queued
    async with running(d):
        await eventually(fired(d))
    assert posts.fired_at("pst_later") >= due
    assert len(posts.calls) == 1


async def test_posts_fire_in_due_order() -> None:
    posts = FakePosts()
    now = utcnow()
    posts.add("pst_b", now + timedelta(seconds=0.3))
    posts.add("pst_a", now + timedelta(seconds=0.1))
    d = dispatcher(posts)
    async with running(d):
        await eventually(fired(d, 2))
    assert [c.post_id for c in posts.calls] == ["pst_a", "pst_b"]
    assert posts.fired_at("pst_a") < posts.fired_at("pst_b")


@pytest.mark.parametrize("queued", [False, True], ids=["idle", "post-waiting"])
async def test_stop_ends_run(queued: bool) -> None:
    posts = FakePosts()
    if queued:
        posts.add("pst_far", utcnow() + timedelta(seconds=50))
    d = dispatcher(posts)
    task = asyncio.create_task(d.run())
    await eventually(lambda: posts.loads == 1)
    await asyncio.sleep(0.05)
    assert not task.done()
    await stop_and_join(d, task)
    assert posts.calls == []


@pytest.mark.parametrize("stage", ["scan", "fire"])
async def test_stop_while_busy_ends_run(stage: str) -> None:
    """A stop() that arrives while a scan or a fire is awaited must not be lost."""
    gate = asyncio.Event()
    posts = FakePosts(load_gate=gate) if stage == "scan" else FakePosts(fire_gate=gate)
    posts.add("pst_1", utcnow() - timedelta(seconds=1))
    d = dispatcher(posts, scan_s=30.0)
    task = asyncio.create_task(d.run())
    await eventually(lambda: posts.loads == 1 if stage == "scan" else len(posts.calls) == 1)
    d.stop()
    gate.set()
    await stop_and_join(d, task)


async def test_stop_before_run_returns_at_once() -> None:
    posts = FakePosts()
    d = dispatcher(posts)
    d.stop()
    await asyncio.wait_for(d.run(), timeout=1.0)


async def test_due_posts_fire_together_in_one_batch_and_failures_retry() -> None:
    posts = FakePosts()
    for i in range(5):
        posts.add(f"pst_{i}", utcnow() - timedelta(seconds=1))
    batches: list[list[str]] = []
    failures = [1]

    async def fire_many(due: list[tuple[str, str, int, datetime]]) -> set[str]:
        batches.append([post_id for _, post_id, _, _ in due])
        if failures[0]:
            failures[0] -= 1
            raise ConnectionError("bulk write failed")
        return {post_id for post_id in batches[-1] if post_id != "pst_4"}  # pst_4 lost its race

    d = Dispatcher(
        load_due=posts.load_due, fire_many=fire_many, lookahead_s=60, scan_interval_s=0.2
    )
    async with running(d):
        await eventually(fired(d, 4))
    assert sorted(batches[0]) == sorted(batches[1]) == [f"pst_{i}" for i in range(5)]
    assert d.fired == 4


def test_exactly_one_way_to_fire() -> None:
    posts = FakePosts()
    with pytest.raises(ValueError, match="exactly one"):
        Dispatcher(load_due=posts.load_due, lookahead_s=1, scan_interval_s=1)


async def test_a_slow_read_ahead_neither_delays_due_posts_nor_stalls_the_loop() -> None:
    posts = FakePosts()
    finished: list[int] = []

    async def slow_load(until: datetime) -> list[dict[str, object]]:
        await asyncio.sleep(0.4)  # longer than the scan interval
        finished.append(1)
        return await posts.load_due(until)

    d = Dispatcher(load_due=slow_load, fire=posts.fire, lookahead_s=60, scan_interval_s=0.05)
    async with running(d):
        due = utcnow() + timedelta(seconds=0.1)
        posts.add("pst_1", due)
        d.consider("ws_1", "pst_1", 1, due)
        await eventually(fired(d))
        assert finished == []  # fired while the first read-ahead was still reading
        await eventually(lambda: len(finished) >= 2)
    assert posts.fired_at("pst_1") >= due
