"""Approvals on a real MongoDB: contributors submit, approvers approve or ask for changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_scheduler.domain import PostStatus

from .conftest import unique
from .scheduler_workflow_app import Harness, auth, scheduler_harness


@pytest.fixture
async def app(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> AsyncIterator[Harness]:
    """The scheduler on this test's database, with approvals required."""
    async with scheduler_harness(
        mongo, db, unique("ws"), serialize=infra.kind == "embedded"
    ) as harness:
        r = await harness.http.patch(
            harness.url("/scheduler-settings"),
            json={"approvals_required": True},
            headers=auth("admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["approvals_required"] is True
        yield harness


def later(hours: float = 2) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat()


async def draft(app: Harness, role: str = "contributor", **extra: object) -> dict[str, object]:
    body = {"text": "Spring sale", "account_ids": ["acc_box"], "scheduled_at": later(), **extra}
    r = await app.http.post(app.url("/posts"), json={**body, "draft": True}, headers=auth(role))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_contributor_cannot_schedule_directly_when_approval_is_required(
    app: Harness,
) -> None:
    body = {"text": "Hello", "account_ids": ["acc_box"], "scheduled_at": later()}
    r = await app.http.post(app.url("/posts"), json=body, headers=auth("contributor"))
    assert r.status_code == 403, r.text
    assert r.json()["type"] == "urn:siar:problem:forbidden"
    assert "requires approval" in r.json()["detail"]
    created = await draft(app)
    assert created["status"] == "draft"
    # Nor by moving a draft's time, nor in bulk.
    r = await app.http.patch(
        app.url(f"/posts/{created['id']}"),
        json={"scheduled_at": later(3)},
        headers=auth("contributor"),
    )
    assert r.json()["status"] == "draft"
    r = await app.http.post(
        app.url("/posts:bulk-move"),
        json={"moves": [{"post_id": created["id"], "scheduled_at": later(4)}]},
        headers=auth("contributor"),
    )
    assert r.status_code == 403


async def test_submit_then_approve_schedules_with_history(app: Harness) -> None:
    post = await draft(app)
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:submit"), json={"comment": "ok?"}, headers=auth("contributor")
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_review"
    # A contributor or a viewer cannot approve.
    for role in ("contributor", "viewer", "editor"):
        r = await app.http.post(
            app.url(f"/posts/{post['id']}:approve"), json={}, headers=auth(role)
        )
        assert r.status_code == 403, (role, r.text)
    r = await app.http.get(app.url("/approvals"), headers=auth("approver"))
    assert [p["id"] for p in r.json()["items"]] == [post["id"]]
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:approve"),
        json={"comment": "lovely"},
        headers=auth("approver"),
    )
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "scheduled"
    assert [(e["action"], e["by"], e["comment"]) for e in approved["review"]] == [
        ("submitted", "usr_contributor", "ok?"),
        ("approved", "usr_approver", "lovely"),
    ]
    # Approving twice is refused: it is no longer in review.
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:approve"), json={}, headers=auth("approver")
    )
    assert r.status_code == 409
    assert r.json()["type"] == "urn:siar:problem:wrong-state"
    # The contributor editing the approved post sends it back to review.
    r = await app.http.patch(
        app.url(f"/posts/{post['id']}"), json={"text": "Spring sale!"}, headers=auth("contributor")
    )
    assert r.json()["status"] == "in_review"
    assert r.json()["review"][-1]["action"] == "edited"


async def test_changes_requested_then_resubmitted(app: Harness) -> None:
    post = await draft(app)
    await app.http.post(
        app.url(f"/posts/{post['id']}:submit"), json={}, headers=auth("contributor")
    )
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:reject"), json={}, headers=auth("approver")
    )
    assert r.status_code == 422  # a reason is required
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:reject"),
        json={"comment": "Say which stores"},
        headers=auth("approver"),
    )
    assert r.json()["status"] == "changes_requested"
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:comment"),
        json={"comment": "on it"},
        headers=auth("contributor"),
    )
    assert r.json()["review"][-1]["action"] == "commented"
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:comment"), json={"comment": "x"}, headers=auth("viewer")
    )
    assert r.status_code == 403
    await app.http.patch(
        app.url(f"/posts/{post['id']}"),
        json={"text": "Spring sale in Jakarta"},
        headers=auth("contributor"),
    )
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:submit"), json={}, headers=auth("contributor")
    )
    assert r.json()["status"] == "in_review"
    actions = [e["action"] for e in r.json()["review"]]
    assert actions == ["submitted", "changes_requested", "commented", "submitted"]


async def test_an_approver_sees_only_what_awaits_them(app: Harness) -> None:
    waiting = await draft(app)
    await draft(app)  # never submitted
    r = await app.http.post(
        app.url("/posts"),
        json={"text": "editor's", "account_ids": ["acc_box"], "scheduled_at": later()},
        headers=auth("editor"),
    )
    assert r.json()["status"] == "scheduled"  # editors schedule directly
    await app.http.post(
        app.url(f"/posts/{waiting['id']}:submit"), json={}, headers=auth("contributor")
    )
    window = {"from": utcnow().isoformat(), "to": later(24)}
    r = await app.http.get(app.url("/posts"), params=window, headers=auth("approver"))
    assert [p["id"] for p in r.json()["items"]] == [waiting["id"]]
    r = await app.http.get(app.url("/posts"), params=window, headers=auth("editor"))
    assert len(r.json()["items"]) == 3


async def put_in_the_past(app: Harness, post_id: str) -> None:
    """The wanted time goes by (written directly: the API refuses a past time)."""
    stored = await app.service.get_post(app.workspace_id, post_id)
    past = stored.model_copy(
        update={"scheduled_at": utcnow() - timedelta(minutes=5), "version": stored.version + 1}
    )
    assert await app.service.store.replace_post(past, expected_version=stored.version)


async def test_a_draft_whose_time_passed_cannot_be_submitted(app: Harness) -> None:
    post = await draft(app)
    await put_in_the_past(app, str(post["id"]))
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:submit"), json={}, headers=auth("contributor")
    )
    assert r.status_code == 409
    assert r.json()["type"] == "urn:siar:problem:time-passed"
    assert "set a new scheduled_at" in r.json()["detail"]


async def test_approving_after_the_time_passed_says_so(app: Harness) -> None:
    post = await draft(app)
    await app.http.post(
        app.url(f"/posts/{post['id']}:submit"), json={}, headers=auth("contributor")
    )
    await put_in_the_past(app, str(post["id"]))  # while it waits for approval
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:approve"), json={}, headers=auth("approver")
    )
    assert r.status_code == 409
    assert r.json()["type"] == "urn:siar:problem:time-passed"
    assert "passed while it waited for approval" in r.json()["detail"]
    r = await app.http.post(
        app.url(f"/posts/{post['id']}:approve"),
        json={"scheduled_at": later(1)},
        headers=auth("approver"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == PostStatus.SCHEDULED.value


async def test_without_required_approval_a_contributor_schedules(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> None:
    async with scheduler_harness(
        mongo, db, unique("ws"), serialize=infra.kind == "embedded"
    ) as app:
        r = await app.http.post(
            app.url("/posts"),
            json={"text": "Hi", "account_ids": ["acc_box"], "scheduled_at": later()},
            headers=auth("contributor"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "scheduled"
        r = await app.http.patch(
            app.url("/scheduler-settings"),
            json={"approvals_required": True},
            headers=auth("editor"),
        )
        assert r.status_code == 403  # settings need workspace.manage


async def test_racing_approvals_leave_one_decision(app: Harness) -> None:
    post = await draft(app)
    await app.http.post(
        app.url(f"/posts/{post['id']}:submit"), json={}, headers=auth("contributor")
    )
    answers = await asyncio.gather(
        app.http.post(app.url(f"/posts/{post['id']}:approve"), json={}, headers=auth("approver")),
        app.http.post(
            app.url(f"/posts/{post['id']}:reject"), json={"comment": "no"}, headers=auth("admin")
        ),
        app.http.post(app.url(f"/posts/{post['id']}:approve"), json={}, headers=auth("owner")),
    )
    assert sorted(r.status_code for r in answers) == [200, 409, 409]
    stored = await app.service.get_post(app.workspace_id, str(post["id"]))
    decisions = [e.action for e in stored.review if e.action != "submitted"]
    assert len(decisions) == 1
