"""Thread parts through the scheduler API on a real MongoDB: create, edit, CSV, fire."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from siar.contracts import utcnow
from siar_scheduler.csv_io import COLUMNS
from siar_scheduler.firing import Firing

from .scheduler_workflow_app import Harness, auth
from .test_scheduler_failures import scheduled_events
from .test_scheduler_variants import (
    scheduler_with_sandbox,  # noqa: F401 - the app fixture
    violations,
)

HEAD = "1/ Spring menu 🌷"
PARTS = ["2/ Asparagus, every day", "3/ Open from 9"]


def body(variants: dict[str, object]) -> dict[str, object]:
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0).isoformat()
    return {
        "text": HEAD,
        "account_ids": ["acc_sky", "acc_box"],
        "scheduled_at": at,
        "variants": variants,
    }


def thread(*parts: str) -> dict[str, object]:
    return {"format": "thread", "thread": list(parts)}


async def test_parts_are_kept_edited_and_fired_to_their_network(app: Harness) -> None:
    r = await app.http.post(
        app.url("/posts"), json=body({"bluesky": thread(*PARTS)}), headers=auth("editor")
    )
    assert r.status_code == 201, r.text
    post_id, version = r.json()["id"], r.json()["version"]
    r = await app.http.get(app.url(f"/posts/{post_id}"), headers=auth("viewer"))
    assert r.json()["variants"]["bluesky"]["thread"] == PARTS

    # Parts on a network without threads, or outside a thread, are refused; nothing changes.
    for bad, broken in (
        ({"sandbox": thread("2/")}, ("sandbox", "format")),
        ({"bluesky": {"thread": ["2/"]}}, ("bluesky", "thread.format")),
        ({"bluesky": thread("2/", "p" * 301)}, ("bluesky", "thread.length")),
    ):
        r = await app.http.patch(
            app.url(f"/posts/{post_id}"), json={"variants": bad}, headers=auth("editor")
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert broken in violations(r.json())
    r = await app.http.patch(
        app.url(f"/posts/{post_id}"),
        json={"variants": {"bluesky": thread(PARTS[1], PARTS[0], "4/ Bye")}},
        headers=auth("editor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["variants"]["bluesky"]["thread"] == [PARTS[1], PARTS[0], "4/ Bye"]
    version = r.json()["version"]
    due = datetime.fromisoformat(r.json()["scheduled_at"])

    firing = Firing(app.db["posts"], app.service.uow.outbox)
    assert await firing.fire_many([(app.workspace_id, post_id, version, due)]) == {post_id}
    by_network = {e.network: e for e in await scheduled_events(app, post_id)}
    assert (by_network["bluesky"].format, by_network["bluesky"].thread) == (
        "thread",
        [PARTS[1], PARTS[0], "4/ Bye"],
    )
    assert by_network["bluesky"].text == HEAD
    assert by_network["sandbox"].thread == []


async def test_an_empty_or_26th_part_is_a_validation_problem(app: Harness) -> None:
    for parts in ([""], ["p"] * 26):
        r = await app.http.post(
            app.url("/posts"), json=body({"bluesky": thread(*parts)}), headers=auth("editor")
        )
        assert r.status_code == 422
        assert r.json()["type"] == "urn:siar:problem:validation"
        assert "thread" in r.text
    assert await app.db["posts"].count_documents({"workspace_id": app.workspace_id}) == 0


async def test_csv_carries_parts_both_ways(app: Harness) -> None:
    at = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT09:00:00")
    good = '{"bluesky":{"format":"thread","thread":["2/ Asparagus, every day"]}}'
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow([at, "Europe/Berlin", "acc_sky;acc_box", HEAD, "", "", "", good])
    writer.writerow(
        [at, "Europe/Berlin", "acc_box", HEAD, "", "", "", '{"sandbox":{"thread":["2/"]}}']
    )
    r = await app.http.post(
        app.url("/posts:import"),
        content=out.getvalue().encode(),
        params={"mode": "valid_only"},
        headers={**auth("editor"), "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert rows[0]["errors"] == []
    assert any("thread" in e and "Sandbox" in e for e in rows[1]["errors"]), rows[1]

    window = {"from": utcnow().isoformat(), "to": (utcnow() + timedelta(days=10)).isoformat()}
    r = await app.http.get(app.url("/posts.csv"), params=window, headers=auth("viewer"))
    assert [e["variants"] for e in csv.DictReader(io.StringIO(r.text))] == [good]
