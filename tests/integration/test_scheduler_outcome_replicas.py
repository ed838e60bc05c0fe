"""Outcomes, edits and retries racing on two scheduler processes: nothing lost, nothing doubled.

Two OS processes (``scheduler_outcome_worker.py``) each run the scheduler's service on the
session's real MongoDB and read the same outcome events from the real Kafka, so every
event is handled twice at once, as two replicas do around a rebalance. Meanwhile each
edits and fires the repeating posts and retries the failed ones. On the embedded nx-27017,
transactions of two processes are not isolated, so this holds only if none is relied on.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import MediaItem
from siar.connectors.rules import MediaKind
from siar.contracts import PostFailed, PostPublished, PostScheduled, utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.uow import PROCESSED, PROCESSED_INDEXES, UnitOfWork
from siar_scheduler.domain import Post, PostStatus, Target, TargetStatus
from siar_scheduler.recurrence import Recurrence
from siar_scheduler.retries import resume_retries, retried, retry_failed
from siar_scheduler.scheduled_fields import scheduled_fields
from siar_scheduler.service import SchedulerService
from siar_scheduler.store import INDEXES, SchedulerStore
from siar_scheduler.workflow_store import WORKFLOW_INDEXES

from .conftest import KafkaTools, unique
from .scheduler_replicas import new_post, seed

ROOT = Path(__file__).resolve().parents[2]
POSTS = 30  # of each kind; every event is handled by both processes
CONSUMER = "scheduler-replicas"


def dispatched(ws: str) -> Post:
    """A one-off post fired to two accounts, awaiting both outcomes."""
    post = new_post(ws, utcnow() - timedelta(minutes=1), ["acc_a", "acc_b"])
    targets = [
        Target(account_id=t.account_id, network="sandbox", status=TargetStatus.DISPATCHED)
        for t in post.targets
    ]
    return post.model_copy(update={"status": PostStatus.DISPATCHED, "targets": targets})


def repeating(ws: str) -> Post:
    """A weekly post waiting for its next occurrence (still editable) after one went out."""
    start = utcnow().replace(microsecond=0) + timedelta(days=7)
    rule = Recurrence(rrule="FREQ=WEEKLY;COUNT=5", timezone="UTC", dtstart=start)
    post = new_post(ws, start, ["acc_a", "acc_b"], recurrence=rule)
    targets = [t.model_copy(update={"status": TargetStatus.DISPATCHED}) for t in post.targets]
    return post.model_copy(update={"targets": targets})


def published(post: Post, account_id: str) -> PostPublished:
    return PostPublished.new(
        workspace_id=post.workspace_id,
        post_id=post.id,
        account_id=account_id,
        network="sandbox",
        occurrence=post.occurrence,
        network_post_id=f"net_{post.id}_{account_id}",
        published_at=utcnow(),
    )


def failed(post: Post, account_id: str) -> PostFailed:
    return PostFailed.new(
        workspace_id=post.workspace_id,
        post_id=post.id,
        account_id=account_id,
        network="sandbox",
        occurrence=post.occurrence,
        error_class="permanent",
        reason="the sandbox refused it",
        retryable=False,
        attempts=1,
    )


def service_on(db: AsyncDatabase[Document]) -> SchedulerService:
    """The scheduler's service on ``db`` in this process (no vault, no dispatcher)."""

    async def no_vault(workspace_id: str, account_id: str) -> dict[str, str] | None:
        return None

    return SchedulerService(
        store=SchedulerStore(db),
        uow=UnitOfWork(db.client, db, Outbox(db)),
        lookup_account=no_vault,
        min_lead_s=1.0,
    )


def published_event(event: PostPublished | PostFailed) -> PostPublished:
    assert isinstance(event, PostPublished)
    return event


async def run_workers(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one worker process per job at once; their JSON summaries."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.scheduler_outcome_worker",
            json.dumps(job),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for job in jobs
    ]
    outputs = [await p.communicate() for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-3000:]
    return [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]


@pytest.mark.timeout(300)
async def test_two_processes_lose_no_outcome_and_retry_once(
    infra: Infra, db: AsyncDatabase[Document], kafka: KafkaTools, producer: AIOKafkaProducer
) -> None:
    await ensure_indexes(db, [*INDEXES, *WORKFLOW_INDEXES, *OUTBOX_INDEXES, *PROCESSED_INDEXES])
    ws = unique("ws")
    edited = [repeating(ws) for _ in range(POSTS)]
    to_retry = [dispatched(ws) for _ in range(POSTS)]
    await seed(db, edited + to_retry)
    events: list[PostPublished | PostFailed] = [published(p, "acc_a") for p in edited]
    events += [e for p in to_retry for e in (failed(p, "acc_a"), published(p, "acc_b"))]
    topic = unique("outcomes")
    await kafka.create_topics(topic)
    for event in events:
        await producer.send(topic, event.model_dump_json().encode(), key=event.partition_key())
    await producer.flush()

    job = {
        "mongo": infra.mongodb_url,
        "db": db.name,
        "kafka": infra.kafka_bootstrap,
        "topic": topic,
        "count": len(events),
        "workspace": ws,
        "consumer": CONSUMER,
        "edit": [p.id for p in edited],
        "retry": [p.id for p in to_retry],
        "start_at": time.time() + 12,  # after both have started and read the topic
    }
    summaries = await run_workers([{**job, "tag": tag} for tag in ("replica-1", "replica-2")])

    for summary in summaries:
        assert summary["events"] == len(events)
        assert summary["errors"] == []
    # Each occurrence fired, and each failed target was retried, by exactly one process.
    assert all(sum(s["fires_won"][p.id] for s in summaries) == 1 for p in edited)
    assert all(sum(s["retries_won"][p.id] for s in summaries) == 1 for p in to_retry)
    await check_edited(db, edited, [published_event(e) for e in events[:POSTS]])
    await check_retried(db, to_retry)
    # Nothing was left for the crash sweep either: it records no second event.
    assert await resume_retries(service_on(db), older_than_s=0) == 0
    markers = await db[PROCESSED].count_documents({"_id": {"$regex": f"^{CONSUMER}:"}})
    assert markers == len(events)


async def check_edited(
    db: AsyncDatabase[Document], posts: list[Post], outcomes: list[PostPublished]
) -> None:
    """The outcome, both edits and one fire landed on every repeating post, each once.

    Every write is conditional on the version it read and adds one to it, so a version
    grown by exactly four means none was lost or applied twice.
    """
    for post, event in zip(posts, outcomes, strict=True):
        stored = Post.model_validate(await db["posts"].find_one({"_id": post.id}))
        assert stored.status is PostStatus.SCHEDULED
        assert stored.applied_events == [str(event.event_id)]
        assert stored.text in {f"replica-1 {post.id}", f"replica-2 {post.id}"}
        assert [d.occurrence for d in stored.dispatches] == [post.occurrence]
        assert stored.recurrence is not None
        assert stored.recurrence.fired == 1
        assert stored.version == post.version + 4  # an outcome, two edits and a fire
        # The fire resets the targets for the new occurrence; an outcome applied after
        # it shows on its target.
        published = [t for t in stored.targets if t.status is TargetStatus.PUBLISHED]
        assert published in ([], [stored.targets[0]])
        if published:
            assert published[0].network_post_id == event.network_post_id


async def check_retried(db: AsyncDatabase[Document], posts: list[Post]) -> None:
    """Every failure was noticed once and retried once; the other account's success stayed."""
    rows = await db["outbox"].find({"topic": "post.scheduled"}).to_list()
    scheduled = [PostScheduled.model_validate_json(bytes(r["payload"])) for r in rows]
    for post in posts:
        stored = Post.model_validate(await db["posts"].find_one({"_id": post.id}))
        assert stored.retries == 1
        assert stored.retry_pending is None
        assert [t.status for t in stored.targets] == [
            TargetStatus.DISPATCHED,
            TargetStatus.PUBLISHED,
        ]
        assert stored.status is PostStatus.DISPATCHED
        assert len(stored.applied_events) == 2
        mine = [(e.account_id, e.occurrence) for e in scheduled if e.post_id == post.id]
        assert mine == [("acc_a", f"{stored.occurrence}#retry-1")]
        assert await db["failure_notices"].count_documents({"post_id": post.id}) == 1


async def test_a_retry_cut_off_before_its_events_is_resumed_once(
    db: AsyncDatabase[Document],
) -> None:
    """A crash between the retry's post write and its events: the sweep records them once."""
    await ensure_indexes(db, [*INDEXES, *OUTBOX_INDEXES])
    service = service_on(db)
    post = dispatched(unique("ws"))
    post = post.model_copy(
        update={
            "targets": [
                post.targets[0].model_copy(update={"status": TargetStatus.FAILED}),
                post.targets[1].model_copy(update={"status": TargetStatus.PUBLISHED}),
            ]
        }
    )
    await seed(db, [post])
    # What retry_failed writes first; the process "dies" before recording the events.
    cut_off = retried(post, by="usr_test", now=utcnow())
    assert await service.store.replace_post(cut_off, expected_version=post.version)
    assert await resume_retries(service) == 0  # still young: its own call may finish it
    assert await resume_retries(service, older_than_s=0) == 1
    assert await resume_retries(service, older_than_s=0) == 0
    rows = await db["outbox"].find({"topic": "post.scheduled"}).to_list()
    events = [PostScheduled.model_validate_json(bytes(r["payload"])) for r in rows]
    assert [(e.post_id, e.account_id) for e in events] == [(post.id, "acc_a")]
    stored = await service.get_post(post.workspace_id, post.id)
    assert stored.retry_pending is None
    assert stored.retries == 1


async def test_a_new_post_keeps_its_media_kinds_for_post_scheduled(
    db: AsyncDatabase[Document],
) -> None:
    """Kinds are stored when media are attached, so firing needs no media lookup."""
    ws = unique("ws")
    library = {
        "med_img": MediaItem(kind=MediaKind.IMAGE, mime_type="image/png", size_bytes=10),
        "med_vid": MediaItem(kind=MediaKind.VIDEO, mime_type="video/mp4", size_bytes=10),
    }

    async def describe(workspace_id: str, media_ids: list[str]) -> list[MediaItem]:
        return [library[m] for m in media_ids]

    service = service_on(db)
    service.describe_media = describe
    await service.store.upsert_account(
        ws, {"account_id": "acc_a", "network": "sandbox", "handle": "a", "active": True}
    )
    created = await service.create_post(
        workspace_id=ws,
        author="usr_test",
        text="two media",
        account_ids=["acc_a"],
        scheduled_at=utcnow() + timedelta(hours=1),
        media_ids=["med_vid", "med_img"],
    )
    stored = await service.get_post(ws, created.id)
    assert stored.media_kinds == ["video", "image"]
    assert scheduled_fields(stored, stored.targets[0])["media_kinds"] == ["video", "image"]


async def test_a_new_retry_first_finishes_one_cut_off(db: AsyncDatabase[Document]) -> None:
    """The earlier retry's events are recorded once, then the new retry's."""
    await ensure_indexes(db, [*INDEXES, *OUTBOX_INDEXES])
    service = service_on(db)
    post = dispatched(unique("ws"))
    failed_a = post.targets[0].model_copy(update={"status": TargetStatus.FAILED})
    post = post.model_copy(update={"targets": [failed_a, post.targets[1]]})
    await seed(db, [post])
    cut_off = retried(post, by="usr_test", now=utcnow())  # its events never recorded
    failed_b = cut_off.targets[1].model_copy(update={"status": TargetStatus.FAILED})
    cut_off = cut_off.model_copy(update={"targets": [cut_off.targets[0], failed_b]})
    assert await service.store.replace_post(cut_off, expected_version=post.version)
    done = await retry_failed(service, post.workspace_id, post.id, by="usr_test")
    assert done.retries == 2
    assert done.retry_pending is None
    rows = await db["outbox"].find({"topic": "post.scheduled"}).to_list()
    events = [PostScheduled.model_validate_json(bytes(r["payload"])) for r in rows]
    assert cut_off.retry_pending is not None
    assert sorted((e.account_id, e.occurrence) for e in events) == [
        ("acc_a", cut_off.retry_pending.occurrence),
        ("acc_b", f"{done.occurrence}#retry-2"),
    ]
    assert await resume_retries(service, older_than_s=0) == 0
