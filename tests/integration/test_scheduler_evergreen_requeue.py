"""Evergreen posts on a real MongoDB: fired, they come back in the account's next free queue
slot at or after due + N days (a taken slot skipped, the chosen one then held); without a
queue, at the same wall-clock time N days later."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from siar.contracts import utcnow
from siar_scheduler.firing import Firing

from .scheduler_workflow_app import (
    Harness,
    auth,
    plain_scheduler,  # noqa: F401 - the app fixture
)
from .test_scheduler_timing_api import MWF, create, expected_slots, put_queue

JAKARTA = ZoneInfo("Asia/Jakarta")


async def fire(app: Harness, post_id: str, due: datetime, version: int = 1) -> dict[str, object]:
    """Fire the post as the dispatcher would, and read it back over HTTP."""
    firing = Firing(app.db["posts"], app.service.uow.outbox)
    assert await firing.fire_many([(app.workspace_id, post_id, version, due)]) == {post_id}
    await firing.settled()  # the move into the queue runs after the events are recorded
    r = await app.http.get(app.url(f"/posts/{post_id}"), headers=auth("viewer"))
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


async def evergreen(app: Harness, due: datetime, every_days: int, max_times: int, zone: str) -> str:
    """A new evergreen post to acc_box due at ``due``; returns its id."""
    r = await create(
        app,
        scheduled_at=due.isoformat(),
        timezone=zone,
        evergreen={"every_days": every_days, "max_times": max_times},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def free_now(app: Harness, count: int) -> list[datetime]:
    r = await app.http.get(
        app.url(f"/accounts/acc_box/queue/slots?count={count}"), headers=auth("viewer")
    )
    assert r.status_code == 200, r.text
    return [datetime.fromisoformat(at) for at in r.json()["items"]]


async def test_fired_evergreen_post_takes_the_next_free_slot_after_n_days(app: Harness) -> None:
    assert (await put_queue(app, MWF)).status_code == 200
    due = (utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    post_id = await evergreen(app, due, 3, 1, "Asia/Jakarta")
    floor = due + timedelta(days=3)  # Jakarta has no DST: the same wall time is +72 h
    first, second, third = expected_slots(floor - timedelta(microseconds=1), 3)
    # Another post already holds the first free slot after the floor.
    r = await create(app, scheduled_at=first.isoformat())
    assert r.status_code == 201, r.text

    body = await fire(app, post_id, due)
    assert body["status"] == "scheduled"
    assert datetime.fromisoformat(str(body["scheduled_at"])) == second
    assert body["evergreen"] == {
        "every_days": 3,
        "max_times": 1,
        "timezone": "Asia/Jakarta",
        "recycled": 1,
    }
    claims = await app.db["queue_claims"].find({"post_id": post_id}).to_list()
    assert len(claims) == 1  # claimed for "add to queue" calls running meanwhile
    # Past the claim, the recycled post holds its slot by itself.
    await app.db["queue_claims"].delete_many({})
    upcoming = await free_now(app, 40)
    assert third in upcoming
    assert first not in upcoming
    assert second not in upcoming

    # max_times reached: the next firing is the last one.
    assert body["version"] == 3  # created 1, fired 2, moved into its slot 3
    last = await fire(app, post_id, second, version=3)
    assert last["status"] == "dispatched"


async def test_without_a_queue_evergreen_comes_back_at_the_same_wall_time(app: Harness) -> None:
    zone = ZoneInfo("America/Santiago")
    due = (utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    body = await fire(app, await evergreen(app, due, 10, 2, "America/Santiago"), due)
    wall = due.astimezone(zone).replace(tzinfo=None) + timedelta(days=10)
    assert datetime.fromisoformat(str(body["scheduled_at"])) == wall.replace(
        tzinfo=zone
    ).astimezone(UTC)
    assert await app.db["queue_claims"].count_documents({}) == 0


async def test_two_firings_at_once_fire_each_post_once_into_distinct_slots(app: Harness) -> None:
    assert (await put_queue(app, MWF)).status_code == 200
    due = (utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    ids = [await evergreen(app, due, 3, 2, "Asia/Jakarta") for _ in range(4)]
    # Two replicas' firings of the same batch, interleaved at every await.
    replicas = [Firing(app.db["posts"], app.service.uow.outbox) for _ in range(2)]
    dues = [(app.workspace_id, post_id, 1, due) for post_id in ids]
    won = await asyncio.gather(*(firing.fire_many(dues) for firing in replicas))
    await asyncio.gather(*(firing.settled() for firing in replicas))
    assert won[0] | won[1] == set(ids)
    assert not won[0] & won[1]
    assert await app.db["outbox"].count_documents({}) == 4  # one post.scheduled each
    stored = await app.db["posts"].find({"_id": {"$in": ids}}).to_list()
    slots = sorted(doc["scheduled_at"].astimezone(UTC) for doc in stored)
    assert slots == expected_slots(due + timedelta(days=3), 4)
