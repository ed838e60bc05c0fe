"""When posts go out, over HTTP on a real MongoDB: queues, post now, recurring, evergreen,
best times learned from metrics snapshots, and every bad input as a named 422."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from siar.contracts import MetricsCollected, PostPublished, utcnow
from siar_scheduler.domain import Post, PostStatus, Target, TargetStatus
from siar_scheduler.firing import Firing

from .scheduler_workflow_app import (
    Harness,
    auth,
    plain_scheduler,  # noqa: F401 - the app fixture
)

JAKARTA = ZoneInfo("Asia/Jakarta")
MWF = [{"day": d, "time": t} for d in ("mon", "wed", "fri") for t in ("19:00", "09:00")]


def expected_slots(after: datetime, count: int) -> list[datetime]:
    """Mon/Wed/Fri 09:00 and 19:00 in Jakarta (no DST there), computed independently."""
    found: list[datetime] = []
    day = after.astimezone(JAKARTA).replace(hour=0, minute=0, second=0, microsecond=0)
    while len(found) < count:
        if day.weekday() in (0, 2, 4):
            for hour in (9, 19):
                at = day.replace(hour=hour)
                if at > after and len(found) < count:
                    found.append(at.astimezone(UTC))
        day += timedelta(days=1)
    return found


async def put_queue(app: Harness, slots: list[dict[str, str]], zone: str = "Asia/Jakarta") -> Any:
    return await app.http.put(
        app.url("/accounts/acc_box/queue"),
        json={"timezone": zone, "slots": slots},
        headers=auth("editor"),
    )


async def create(app: Harness, **body: Any) -> Any:
    payload = {"text": "hello", "account_ids": ["acc_box"], **body}
    return await app.http.post(app.url("/posts"), json=payload, headers=auth("editor"))


def problem(response: Any, status: int, kind: str, says: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(kind), response.json()
    assert says in response.json()["detail"], response.json()


async def test_queue_slots_are_set_listed_and_taken_in_order(app: Harness) -> None:
    r = await app.http.get(app.url("/accounts/acc_box/queue"), headers=auth("viewer"))
    assert r.json() == {
        "account_id": "acc_box",
        "timezone": "UTC",
        "slots": [],
        "configured": False,
    }
    r = await app.http.get(app.url("/accounts/acc_box/queue/slots"), headers=auth("viewer"))
    assert r.json()["items"] == []
    r = await app.http.get(app.url("/accounts/acc_nobody/queue"), headers=auth("viewer"))
    assert r.status_code == 422, r.text
    problem(
        await app.http.put(
            app.url("/accounts/acc_box/queue"),
            json={"timezone": "UTC", "slots": MWF},
            headers=auth("viewer"),
        ),
        403,
        "",
        "",
    )
    r = await put_queue(app, MWF)
    assert r.status_code == 200, r.text
    assert r.json()["configured"] is True
    assert [(s["day"], s["time"]) for s in r.json()["slots"]][:2] == [
        ("mon", "09:00"),
        ("mon", "19:00"),
    ]
    r = await app.http.get(app.url("/accounts/acc_box/queue/slots?count=4"), headers=auth("viewer"))
    assert r.status_code == 200, r.text
    listed = [datetime.fromisoformat(x) for x in r.json()["items"]]
    assert listed == expected_slots(utcnow(), 4)

    first = await create(app, add_to_queue=True)
    second = await create(app, add_to_queue=True)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert datetime.fromisoformat(first.json()["scheduled_at"]) == listed[0]
    assert datetime.fromisoformat(second.json()["scheduled_at"]) == listed[1]
    assert first.json()["status"] == "scheduled"

    r = await app.http.get(app.url("/accounts/acc_box/queue/slots?count=2"), headers=auth("viewer"))
    assert [datetime.fromisoformat(x) for x in r.json()["items"]] == listed[2:4]


@pytest.mark.parametrize(
    ("slots", "zone", "says"),
    [
        ([], "Asia/Jakarta", "at least one slot"),
        ([{"day": "mon", "time": "24:00"}], "Asia/Jakarta", "HH:MM"),
        ([{"day": "mon", "time": "9:00"}], "Asia/Jakarta", "HH:MM"),
        ([{"day": "mon", "time": "09:00"}], "Mars/Olympus", "unknown time zone"),
    ],
)
async def test_bad_queues_are_refused(
    app: Harness, slots: list[dict[str, str]], zone: str, says: str
) -> None:
    problem(await put_queue(app, slots, zone), 422, "invalid-queue", says)


async def test_queue_of_an_unknown_account_is_refused(app: Harness) -> None:
    r = await app.http.put(
        app.url("/accounts/acc_nobody/queue"),
        json={"timezone": "UTC", "slots": MWF},
        headers=auth("editor"),
    )
    assert r.status_code == 422, r.text
    assert "acc_nobody" in r.json()["detail"]


async def test_post_now_is_due_at_once(app: Harness) -> None:
    before = utcnow()
    r = await create(app, publish_now=True)
    assert r.status_code == 201, r.text
    at = datetime.fromisoformat(r.json()["scheduled_at"])
    assert before <= at <= utcnow()
    assert r.json()["status"] == "scheduled"


async def test_recurring_post_starts_at_its_first_occurrence(app: Harness) -> None:
    monday = (utcnow() + timedelta(days=7)).astimezone(JAKARTA).date()
    r = await create(
        app,
        scheduled_at=f"{monday.isoformat()}T09:00:00",
        timezone="Asia/Jakarta",
        rrule="FREQ=WEEKLY;BYDAY=TH;COUNT=3",
    )
    assert r.status_code == 201, r.text
    body = r.json()
    first = datetime.fromisoformat(body["scheduled_at"]).astimezone(JAKARTA)
    assert (first.weekday(), first.hour, first.minute) == (3, 9, 0)
    assert body["recurrence"]["rrule"] == "FREQ=WEEKLY;BYDAY=TH;COUNT=3"
    assert body["recurrence"]["timezone"] == "Asia/Jakarta"


async def test_evergreen_post_keeps_its_settings(app: Harness) -> None:
    r = await create(
        app,
        scheduled_at=(utcnow() + timedelta(hours=1)).isoformat(),
        evergreen={"every_days": 30, "max_times": 3},
    )
    assert r.status_code == 201, r.text
    assert r.json()["evergreen"] == {
        "every_days": 30,
        "max_times": 3,
        "timezone": "UTC",
        "recycled": 0,
    }


@pytest.mark.parametrize(
    ("body", "kind", "says"),
    [
        ({"rrule": "FREQ=DAILY", "timezone": "UTC"}, "invalid-recurrence", "never ends"),
        (
            {"rrule": "FREQ=SOMETIMES;COUNT=2", "timezone": "UTC"},
            "invalid-recurrence",
            "invalid RRULE",
        ),
        ({"rrule": "FREQ=DAILY;COUNT=2"}, "invalid-recurrence", "needs timezone"),
        (
            {"rrule": "FREQ=DAILY;COUNT=900", "timezone": "UTC"},
            "invalid-recurrence",
            "more than 500",
        ),
        ({"publish_now": True, "add_to_queue": True}, "invalid-recurrence", "choose one"),
        (
            {
                "rrule": "FREQ=DAILY;COUNT=2",
                "timezone": "UTC",
                "evergreen": {"every_days": 1, "max_times": 1},
            },
            "invalid-recurrence",
            "not both",
        ),
        ({"add_to_queue": True}, "no-queue-slot", "no posting schedule"),
    ],
)
async def test_bad_timing_is_refused_naming_the_problem(
    app: Harness, body: dict[str, Any], kind: str, says: str
) -> None:
    if "publish_now" not in body and "add_to_queue" not in body:
        body = {"scheduled_at": (utcnow() + timedelta(hours=1)).isoformat(), **body}
    problem(await create(app, **body), 422, kind, says)
    posts = await app.db["posts"].count_documents({"workspace_id": app.workspace_id})
    assert posts == 0  # nothing half-written


@pytest.mark.parametrize(
    "evergreen", [{"every_days": 0, "max_times": 2}, {"every_days": 3, "max_times": 0}]
)
async def test_evergreen_needs_positive_settings(app: Harness, evergreen: dict[str, int]) -> None:
    r = await create(
        app, scheduled_at=(utcnow() + timedelta(hours=1)).isoformat(), evergreen=evergreen
    )
    assert r.status_code == 422, r.text
    assert "evergreen" in r.text


async def published(app: Harness, at: datetime, network_post_id: str) -> None:
    """A post Siar published on acc_box at ``at`` (as if the publisher had reported it)."""
    target = Target(
        account_id="acc_box",
        network="sandbox",
        status=TargetStatus.PUBLISHED,
        network_post_id=network_post_id,
        published_at=at,
    )
    post = Post(
        id=f"pst_{network_post_id}",
        workspace_id=app.workspace_id,
        text="x",
        scheduled_at=at,
        status=PostStatus.PUBLISHED,
        targets=[target],
        created_by="usr_t",
        created_at=at,
        updated_at=at,
    )
    await app.service.store.insert_post(post)


def snapshot(
    app: Harness, network_post_id: str, likes: float, impressions: float
) -> MetricsCollected:
    return MetricsCollected.new(
        workspace_id=app.workspace_id,
        account_id="acc_box",
        network="sandbox",
        scope="post",
        network_post_id=network_post_id,
        collected_at=utcnow(),
        metrics={"likes": likes, "comments": 1.0, "impressions": impressions},
    )


async def test_best_times_come_from_decayed_engagement_and_fill_the_queue(app: Harness) -> None:
    r = await app.http.get(app.url("/accounts/acc_box/best-times?count=3"), headers=auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "default"
    assert len(r.json()["items"]) == 3

    timing = app.http._transport.app.state.timing  # type: ignore[attr-defined]
    base = utcnow().astimezone(JAKARTA).replace(hour=0, minute=0, second=0, microsecond=0)
    tuesday = base - timedelta(days=base.weekday() - 1 + 7)  # last week's Tuesday
    for week in range(4):
        good = tuesday - timedelta(weeks=week) + timedelta(hours=10)
        poor = tuesday - timedelta(weeks=week) + timedelta(days=2, hours=15)
        await published(app, good, f"good{week}")
        await published(app, poor, f"poor{week}")
        await timing.record_metrics(snapshot(app, f"good{week}", 50, 1000))
        await timing.record_metrics(snapshot(app, f"poor{week}", 5, 1000))
    # An older, lower snapshot of a post never replaces its newer one.
    stale = snapshot(app, "good0", 0, 1000).model_copy(
        update={"collected_at": utcnow() - timedelta(days=1)}
    )
    await timing.record_metrics(stale)
    # A snapshot of a post Siar did not publish teaches nothing.
    await timing.record_metrics(snapshot(app, "someone-else", 900, 1000))

    await put_queue(app, MWF)  # Jakarta: best times are read in the queue's zone
    r = await app.http.get(app.url("/accounts/acc_box/best-times?count=2"), headers=auth("viewer"))
    body = r.json()
    assert body["source"] == "data"
    assert body["timezone"] == "Asia/Jakarta"
    assert [(i["day"], i["time"]) for i in body["items"]] == [("tue", "10:00"), ("thu", "15:00")]
    assert body["items"][0]["score"] > body["items"][1]["score"]
    assert body["items"][0]["posts"] < 4  # decayed: older posts count less than one each

    r = await app.http.post(
        app.url("/accounts/acc_box/queue:fill-from-best-times"),
        json={"count": 1},
        headers=auth("editor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["slots"] == [{"day": "tue", "time": "10:00"}]
    assert r.json()["timezone"] == "Asia/Jakarta"


async def test_a_recurring_post_stays_scheduled_after_an_occurrence_is_published(
    app: Harness,
) -> None:
    r = await create(
        app,
        scheduled_at=(utcnow() + timedelta(hours=2)).replace(microsecond=0).isoformat(),
        timezone="Asia/Jakarta",
        rrule="FREQ=DAILY;COUNT=2",
    )
    assert r.status_code == 201, r.text
    post_id, first = r.json()["id"], datetime.fromisoformat(r.json()["scheduled_at"])
    # Fire the first occurrence as the dispatcher would, then report it published.
    firing = Firing(app.db["posts"], app.service.uow.outbox)
    assert await firing.fire_many([(app.workspace_id, post_id, 1, first)]) == {post_id}
    published = PostPublished.new(
        workspace_id=app.workspace_id,
        post_id=post_id,
        account_id="acc_box",
        network="sandbox",
        occurrence=first.isoformat(),
        network_post_id="sbx_1",
        published_at=utcnow(),
    )
    await app.service.record_outcome(published, "test-consumer")
    r = await app.http.get(app.url(f"/posts/{post_id}"), headers=auth("viewer"))
    body = r.json()
    assert body["status"] == "scheduled"  # the second occurrence is still to come
    assert datetime.fromisoformat(body["scheduled_at"]) == first + timedelta(days=1)
    assert body["targets"][0]["status"] == "published"
    assert [d["occurrence"] for d in body["dispatches"]] == [first.isoformat()]
    outbox = await app.db["outbox"].count_documents({})
    assert outbox == 1  # one post.scheduled for (post, acc_box, first occurrence)


async def test_concurrent_adds_to_the_queue_never_share_a_slot(app: Harness) -> None:
    assert (await put_queue(app, MWF)).status_code == 200
    answers = await asyncio.gather(*(create(app, add_to_queue=True) for _ in range(5)))
    assert [r.status_code for r in answers] == [201] * 5, [r.text for r in answers]
    times = sorted(datetime.fromisoformat(r.json()["scheduled_at"]) for r in answers)
    assert times == expected_slots(utcnow(), 5)
