"""The calendar on a real MongoDB: labels, filters, the iCalendar feed, bulk move and delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from siar.contracts import utcnow
from siar_scheduler.domain import PostStatus, TargetStatus

from .scheduler_workflow_app import (
    Harness,
    auth,
    plain_scheduler,  # noqa: F401 - the app fixture
)


def at(hours: float) -> datetime:
    return (utcnow() + timedelta(hours=hours)).replace(microsecond=0)


async def create(
    app: Harness,
    text: str,
    accounts: list[str],
    hours: float,
    role: str = "editor",
    **extra: object,
) -> dict[str, object]:
    body = {"text": text, "account_ids": accounts, "scheduled_at": at(hours).isoformat(), **extra}
    r = await app.http.post(app.url("/posts"), json=body, headers=auth(role))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def label(app: Harness, name: str, colour: str) -> str:
    r = await app.http.post(
        app.url("/labels"), json={"name": name, "colour": colour}, headers=auth("editor")
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def dispatch_directly(app: Harness, post_id: str) -> None:
    """Mark a post dispatched as the dispatcher would (its own tests cover how)."""
    post = await app.service.get_post(app.workspace_id, post_id)
    targets = [t.model_copy(update={"status": TargetStatus.DISPATCHED}) for t in post.targets]
    done = post.model_copy(
        update={"status": PostStatus.DISPATCHED, "targets": targets, "version": post.version + 1}
    )
    assert await app.service.store.replace_post(done, expected_version=post.version)


async def calendar(app: Harness, role: str = "viewer", **params: str | list[str]) -> list[str]:
    query: dict[str, str | list[str]] = {
        "from": utcnow().isoformat(),
        "to": at(48).isoformat(),
        **params,
    }
    r = await app.http.get(app.url("/posts"), params=query, headers=auth(role))
    assert r.status_code == 200, r.text
    return [p["text"] for p in r.json()["items"]]


async def test_labels_and_calendar_filters(app: Harness) -> None:
    sale = await label(app, "Spring Sale", "#FF8800")
    launch = await label(app, "Launch", "#0088ff")
    r = await app.http.post(
        app.url("/labels"),
        json={"name": " spring  sale", "colour": "#000000"},
        headers=auth("editor"),
    )
    assert r.status_code == 409
    assert r.json()["type"] == "urn:siar:problem:label-exists"
    r = await app.http.post(
        app.url("/labels"), json={"name": "x", "colour": "orange"}, headers=auth("editor")
    )
    assert r.status_code == 422
    r = await app.http.post(
        app.url("/posts"),
        json={"text": "t", "account_ids": ["acc_box"], "label_ids": ["lbl_nope"]},
        headers=auth("editor"),
    )
    assert r.status_code == 404
    assert "lbl_nope" in r.json()["detail"]

    await create(app, "one", ["acc_sky"], 1, label_ids=[sale])
    await create(app, "two", ["acc_box"], 2, label_ids=[sale, launch])
    await create(app, "three", ["acc_sky", "acc_box"], 3, role="contributor")
    await create(app, "later", ["acc_box"], 72)

    assert await calendar(app) == ["one", "two", "three"]
    assert await calendar(app, label_id=sale) == ["one", "two"]
    assert await calendar(app, label_id=[launch]) == ["two"]
    assert await calendar(app, account_id="acc_sky") == ["one", "three"]
    assert await calendar(app, network="sandbox") == ["two", "three"]
    assert await calendar(app, author="usr_contributor") == ["three"]
    assert await calendar(app, status="draft") == []
    assert await calendar(app, status=["scheduled", "draft"], network="bluesky") == ["one", "three"]
    r = await app.http.get(
        app.url("/posts"),
        params={"from": utcnow().isoformat(), "to": at(1).isoformat(), "status": "bogus"},
        headers=auth("viewer"),
    )
    assert r.status_code == 422

    r = await app.http.get(app.url("/labels"), headers=auth("viewer"))
    assert [(x["name"], x["colour"]) for x in r.json()["items"]] == [
        ("Launch", "#0088ff"),
        ("Spring Sale", "#ff8800"),
    ]
    r = await app.http.delete(app.url(f"/labels/{sale}"), headers=auth("editor"))
    assert r.status_code == 204
    assert await calendar(app, label_id=sale) == []
    assert await calendar(app, label_id=launch) == ["two"]


async def test_drafts_without_a_time_are_listed_apart(app: Harness) -> None:
    await create(app, "timed", ["acc_box"], 2)
    for text, accounts in (("idea", ["acc_box"]), ("later idea", ["acc_sky"])):
        body = {"text": text, "account_ids": accounts}
        r = await app.http.post(app.url("/posts"), json=body, headers=auth("editor"))
        assert r.status_code == 201, r.text
        assert r.json()["scheduled_at"] is None

    async def unscheduled(**params: str) -> list[str]:
        r = await app.http.get(app.url("/posts:unscheduled"), params=params, headers=auth("viewer"))
        assert r.status_code == 200, r.text
        return [p["text"] for p in r.json()["items"]]

    assert await unscheduled() == ["later idea", "idea"]
    assert await unscheduled(account_id="acc_box") == ["idea"]
    assert await unscheduled(limit="1") == ["later idea"]
    assert await calendar(app) == ["timed"]


async def test_the_ics_feed_is_read_by_a_calendar_parser(app: Harness) -> None:
    launch = await label(app, "Launch", "#0088ff")
    one = await create(app, "Big launch today\nsecond line", ["acc_sky"], 5, label_ids=[launch])
    r = await app.http.post(app.url("/calendar-feed:rotate"), headers=auth("editor"))
    assert r.status_code == 403
    r = await app.http.post(app.url("/calendar-feed:rotate"), headers=auth("admin"))
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    assert url.startswith(f"http://scheduler{app.url('/calendar.ics')}?token=ics_")
    assert r.json()["webcal_url"] == "webcal://" + url.removeprefix("http://")
    feed = await app.http.get(url)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(feed.content)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == f"{one['id']}@siar"
    assert str(event["summary"]) == "[bluesky] Big launch today"
    start = event.decoded("dtstart")
    assert start == datetime.fromisoformat(str(one["scheduled_at"])).astimezone(UTC)
    assert [str(c) for c in event.get("categories").cats] == ["Launch"]
    # The token is stored hashed; a wrong, rotated or revoked one finds nothing.
    settings = await app.db["workspace_settings"].find_one({"workspace_id": app.workspace_id})
    assert settings is not None
    assert url.split("token=")[1] not in str(settings)
    assert (
        await app.http.get(app.url("/calendar.ics"), params={"token": "ics_x"})
    ).status_code == 404
    r = await app.http.post(app.url("/calendar-feed:rotate"), headers=auth("owner"))
    assert (await app.http.get(url)).status_code == 404
    assert (await app.http.get(r.json()["url"])).status_code == 200
    assert (
        await app.http.delete(app.url("/calendar-feed"), headers=auth("admin"))
    ).status_code == 204
    assert (await app.http.get(r.json()["url"])).status_code == 404


async def test_bulk_move_is_all_or_nothing(app: Harness) -> None:
    a = await create(app, "a", ["acc_box"], 1)
    b = await create(app, "b", ["acc_box"], 2)
    c = await create(app, "c", ["acc_box"], 3)
    await dispatch_directly(app, str(c["id"]))
    moves = [
        {"post_id": a["id"], "scheduled_at": at(10).isoformat()},
        {"post_id": b["id"], "scheduled_at": at(11).isoformat()},
        {"post_id": c["id"], "scheduled_at": at(12).isoformat()},
        {"post_id": "pst_missing", "scheduled_at": at(13).isoformat()},
    ]
    r = await app.http.post(
        app.url("/posts:bulk-move"), json={"moves": moves}, headers=auth("editor")
    )
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"] == "urn:siar:problem:bulk-refused"
    reasons = {i["post_id"]: i["reason"] for i in problem["items"]}
    assert set(reasons) == {c["id"], "pst_missing"}
    assert "dispatched" in reasons[str(c["id"])]
    assert await calendar(app) == ["a", "b", "c"]  # nothing moved

    past = [{"post_id": a["id"], "scheduled_at": at(-1).isoformat()}]
    r = await app.http.post(
        app.url("/posts:bulk-move"), json={"moves": past}, headers=auth("editor")
    )
    assert r.status_code == 409
    assert "in the past" in r.json()["items"][0]["reason"]

    r = await app.http.post(
        app.url("/posts:bulk-move"), json={"moves": moves[:2][::-1]}, headers=auth("editor")
    )
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["items"]] == [b["id"], a["id"]]
    assert await calendar(app) == ["c", "a", "b"]


async def test_bulk_delete_is_all_or_nothing(app: Harness) -> None:
    a = await create(app, "a", ["acc_box"], 1)
    b = await create(app, "b", ["acc_box"], 2)
    await dispatch_directly(app, str(b["id"]))
    r = await app.http.post(
        app.url("/posts:bulk-delete"), json={"post_ids": [a["id"], b["id"]]}, headers=auth("editor")
    )
    assert r.status_code == 409
    assert r.json()["items"] == [
        {"post_id": b["id"], "reason": "already dispatched; a dispatched post cannot change"}
    ]
    r = await app.http.post(
        app.url("/posts:bulk-delete"), json={"post_ids": [a["id"], a["id"]]}, headers=auth("editor")
    )
    assert r.status_code == 422
    r = await app.http.post(
        app.url("/posts:bulk-delete"), json={"post_ids": [a["id"]]}, headers=auth("viewer")
    )
    assert r.status_code == 403
    r = await app.http.post(
        app.url("/posts:bulk-delete"), json={"post_ids": [a["id"]]}, headers=auth("editor")
    )
    assert r.json() == {"deleted": 1}
    assert await calendar(app) == ["b"]
