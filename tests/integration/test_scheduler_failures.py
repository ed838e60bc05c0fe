"""A failed post on a real MongoDB: the workspace hears of it (signed webhook), retry once.

The webhook receiver is an ``httpx.MockTransport``: it stands for the customer's
Slack-compatible endpoint, and checks each call's signature as a receiver would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostFailed, PostScheduled, utcnow
from siar.devstack import Infra
from siar.runtime import webhooks
from siar.runtime.mongo import Document
from siar_scheduler.domain import PostStatus, TargetStatus
from siar_scheduler.workspace_settings import SettingsService, sealing_key

from .conftest import unique
from .scheduler_workflow_app import Harness, auth, scheduler_harness

SECRET = "a-webhook-secret-of-enough-length"


class Receiver:
    """The workspace's endpoint: records verified calls; can be made to fail."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []
        self.failing = False
        self.refused = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Check the signature, record the body."""
        body = request.read()
        assert webhooks.verify(
            SECRET, request.headers["x-siar-timestamp"], body, request.headers["x-siar-signature"]
        )
        if self.failing:
            self.refused += 1
            return httpx.Response(503)
        self.calls.append(json.loads(body))
        return httpx.Response(200)


@pytest.fixture
def receiver() -> Receiver:
    """A fresh receiver."""
    return Receiver()


@pytest.fixture
async def app(
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    infra: Infra,
    receiver: Receiver,
) -> AsyncIterator[Harness]:
    """The scheduler with a failure webhook set."""
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as hook_http,
        scheduler_harness(
            mongo, db, unique("ws"), serialize=infra.kind == "embedded", webhook_http=hook_http
        ) as harness,
    ):
        notifier = harness.workflow.notifier
        notifier.send_attempts, notifier.interval_s = 1, 0.3
        sender = asyncio.create_task(notifier.run())
        r = await harness.http.patch(
            harness.url("/scheduler-settings"),
            json={"failure_webhook": {"url": "https://hooks.example.com/siar", "secret": SECRET}},
            headers=auth("admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["failure_webhook_url"] == "https://hooks.example.com/siar"
        assert SECRET not in r.text
        try:
            yield harness
        finally:
            notifier.stop()
            await sender


async def dispatched_post(app: Harness) -> str:
    """A post on two accounts, dispatched (written as the dispatcher leaves it)."""
    r = await app.http.post(
        app.url("/posts"),
        json={"text": "Launch", "account_ids": ["acc_sky", "acc_box"]},
        headers=auth("editor"),
    )
    post = await app.service.get_post(app.workspace_id, r.json()["id"])
    targets = [t.model_copy(update={"status": TargetStatus.DISPATCHED}) for t in post.targets]
    done = post.model_copy(
        update={"status": PostStatus.DISPATCHED, "targets": targets, "version": post.version + 1}
    )
    assert await app.service.store.replace_post(done, expected_version=post.version)
    return post.id


async def until(check: Callable[[], bool], within_s: float = 20.0) -> None:
    """Wait until ``check()`` holds; fail after ``within_s`` (generous: the machine is shared)."""
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {within_s}s")


def failed(app: Harness, post_id: str, account_id: str = "acc_sky") -> PostFailed:
    return PostFailed.new(
        workspace_id=app.workspace_id,
        post_id=post_id,
        account_id=account_id,
        network="bluesky",
        occurrence="now",
        error_class="permanent",
        reason="Bluesky refused the post: text too long.",
        retryable=False,
        attempts=1,
    )


async def scheduled_events(app: Harness, post_id: str) -> list[PostScheduled]:
    docs = await app.db["outbox"].find({"topic": "post.scheduled"}).to_list()
    events = [PostScheduled.model_validate_json(bytes(d["payload"])) for d in docs]
    return [e for e in events if e.post_id == post_id]


async def test_a_failure_is_announced_once_with_a_signed_slack_body(
    app: Harness, receiver: Receiver
) -> None:
    post_id = await dispatched_post(app)
    event = failed(app, post_id)
    await app.service.record_outcome(event, "test-group")
    await until(lambda: len(receiver.calls) == 1)
    await app.service.record_outcome(event, "test-group")  # redelivered: no second notice
    app.workflow.notifier.wake()
    await asyncio.sleep(1.0)
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call["kind"] == "post.failed"
    assert "text too long" in str(call["text"])
    assert f"{post_id}:retry" in str(call["text"])
    data = call["data"]
    assert isinstance(data, dict)
    assert data["post_id"] == post_id
    assert data["account_id"] == "acc_sky"
    post = await app.service.get_post(app.workspace_id, post_id)
    assert post.targets[0].status is TargetStatus.FAILED


async def test_an_undelivered_notice_is_sent_by_the_next_round(
    app: Harness, receiver: Receiver
) -> None:
    post_id = await dispatched_post(app)
    receiver.failing = True
    await app.service.record_outcome(failed(app, post_id), "test-group")
    await until(lambda: receiver.refused > 0)
    assert receiver.calls == []
    receiver.failing = False
    await until(lambda: len(receiver.calls) == 1)
    assert await app.workflow.notifier.deliver_pending() == 0
    notice = await app.db["failure_notices"].find_one({"post_id": post_id})
    assert notice is not None
    assert notice["outcome"] == "delivered"
    assert notice["tries"] >= 2


async def test_a_late_failure_after_success_says_nothing(app: Harness, receiver: Receiver) -> None:
    post_id = await dispatched_post(app)
    post = await app.service.get_post(app.workspace_id, post_id)
    targets = [t.model_copy(update={"status": TargetStatus.PUBLISHED}) for t in post.targets]
    done = post.model_copy(update={"targets": targets, "version": post.version + 1})
    assert await app.service.store.replace_post(done, expected_version=post.version)
    await app.service.record_outcome(failed(app, post_id), "test-group")
    assert await app.db["failure_notices"].count_documents({"post_id": post_id}) == 0


async def test_retry_redispatches_failed_targets_exactly_once(app: Harness) -> None:
    post_id = await dispatched_post(app)
    r = await app.http.post(app.url(f"/posts/{post_id}:retry"), headers=auth("editor"))
    assert r.status_code == 409
    assert r.json()["type"] == "urn:siar:problem:nothing-to-retry"
    await app.service.record_outcome(failed(app, post_id), "test-group")
    r = await app.http.post(app.url(f"/posts/{post_id}:retry"), headers=auth("viewer"))
    assert r.status_code == 403
    r = await app.http.post(app.url(f"/posts/{post_id}:retry"), headers=auth("editor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["retries"] == 1
    assert [t["status"] for t in body["targets"]] == ["dispatched", "dispatched"]
    assert body["review"][-1]["action"] == "retried"
    r = await app.http.post(app.url(f"/posts/{post_id}:retry"), headers=auth("editor"))
    assert r.status_code == 409  # the failed target is already on its way again
    events = await scheduled_events(app, post_id)
    assert [(e.account_id, e.occurrence) for e in events] == [("acc_sky", "now#retry-1")]
    assert events[0].due_at <= utcnow()


async def test_racing_retries_dispatch_once(app: Harness) -> None:
    post_id = await dispatched_post(app)
    await app.service.record_outcome(failed(app, post_id), "test-group")
    answers = await asyncio.gather(
        *(
            app.http.post(app.url(f"/posts/{post_id}:retry"), headers=auth("editor"))
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409]
    events = await scheduled_events(app, post_id)
    assert [(e.account_id, e.occurrence) for e in events] == [("acc_sky", "now#retry-1")]


async def test_the_webhook_secret_is_stored_sealed(app: Harness) -> None:
    stored = await app.db["workspace_settings"].find_one({"workspace_id": app.workspace_id})
    assert stored is not None
    assert SECRET not in str(stored)
    found = await app.workflow.settings.get(app.workspace_id)
    assert found.webhook == ("https://hooks.example.com/siar", SECRET)
    # Under another service secret (rotated), it cannot be read: set it again.
    other = SettingsService(app.workflow.store, sealing_key("another-service-secret"))
    assert (await other.get(app.workspace_id)).webhook is None
