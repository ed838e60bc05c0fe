"""One scheduler "replica" in its own process: outcomes from Kafka, edits and retries at once.

Run by ``test_scheduler_outcome_replicas.py`` as ``python -m
tests.integration.scheduler_outcome_worker '<job json>'``. It builds the scheduler's own
service objects on the real MongoDB, reads every outcome event of the job's topic from
the real Kafka (partitions assigned, no group, so each replica sees every event, as two
replicas do around a rebalance), and at a shared start time handles them all
concurrently with an edit and a fire (the firing gate, as the dispatcher calls it) of
each ``edit`` post and retries of each ``retry`` post.
Prints a JSON summary on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import TypeAdapter

from siar.contracts import PostFailed, PostPublished
from siar.runtime.mongo import create_mongo_client
from siar.runtime.outbox import Outbox
from siar.runtime.uow import UnitOfWork
from siar_scheduler.domain import Post
from siar_scheduler.errors import NothingToRetry
from siar_scheduler.failures import retry_failed
from siar_scheduler.firing import Firing
from siar_scheduler.service import SchedulerService
from siar_scheduler.store import SchedulerStore
from siar_scheduler.workflow import Workflow
from siar_scheduler.workflow_store import WorkflowStore

OUTCOMES: TypeAdapter[PostPublished | PostFailed] = TypeAdapter(PostPublished | PostFailed)


async def read_events(bootstrap: str, topic: str, count: int) -> list[PostPublished | PostFailed]:
    """The first ``count`` events of ``topic`` (all partitions, from the beginning)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        events: list[PostPublished | PostFailed] = []
        async with asyncio.timeout(60):
            while len(events) < count:
                for batch in (await consumer.getmany(*tps, timeout_ms=500)).values():
                    events += [OUTCOMES.validate_json(r.value) for r in batch]
        return events
    finally:
        await consumer.stop()


async def no_vault(workspace_id: str, account_id: str) -> dict[str, str] | None:
    """The posts are seeded with their targets: no account is looked up."""
    return None


async def retry_until_done(service: SchedulerService, ws: str, post_id: str) -> int:
    """Retry until it succeeds here (1) or the post shows a retry by someone else (0)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            await retry_failed(service, ws, post_id, by="usr_worker")
            return 1
        except NothingToRetry:
            post = await service.get_post(ws, post_id)
            if post.retries:
                return 0
            await asyncio.sleep(0.02)  # its failure is not recorded yet
    raise TimeoutError(f"post {post_id} never had a failed target to retry")


async def fire_until_done(firing: Firing, ws: str, post_id: str) -> int:
    """Fire the post's next occurrence: 1 if this process won the gate, 0 if another did.

    An edit or outcome that lands first changes the version, and the gate misses; like
    the dispatcher's next read-ahead, this reads the post again and retries.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        post = Post.model_validate(await firing.posts.find_one({"_id": post_id}))
        if post.dispatches:
            return 0
        assert post.scheduled_at is not None
        if post_id in await firing.fire_many([(ws, post_id, post.version, post.scheduled_at)]):
            return 1
    raise TimeoutError(f"post {post_id} never fired")


async def main(job: dict[str, Any]) -> dict[str, Any]:
    """Handle the job's events, edits and retries at once; summarise what happened here."""
    events = await read_events(job["kafka"], job["topic"], job["count"])
    client = create_mongo_client(job["mongo"], app_name=job["tag"])
    db = client[job["db"]]
    service = SchedulerService(
        store=SchedulerStore(db),
        uow=UnitOfWork(client, db, Outbox(db)),
        lookup_account=no_vault,
        min_lead_s=1.0,
    )
    http = httpx.AsyncClient()  # the notice sender is not run here: notices are only written
    Workflow.wire(service, WorkflowStore(db), http, service_secret="test-service-secret")
    ws = job["workspace"]
    await asyncio.sleep(max(0.0, job["start_at"] - time.time()))  # both replicas at once
    outcomes = [service.record_outcome(e, job["consumer"]) for e in events]
    edits = [
        service.edit_post(workspace_id=ws, post_id=p, text=f"{job['tag']} {p}", scheduled_at=None)
        for p in job["edit"]
    ]
    firing = Firing(db["posts"], service.uow.outbox)
    fires = [fire_until_done(firing, ws, p) for p in job["edit"]]
    retries = [retry_until_done(service, ws, p) for p in job["retry"]]
    gathered = await asyncio.gather(*outcomes, *edits, *fires, *retries, return_exceptions=True)
    errors = [repr(r) for r in gathered if isinstance(r, BaseException)]
    results = [repr(r) if isinstance(r, BaseException) else r for r in gathered]
    fired = dict(zip(job["edit"], results[len(outcomes) + len(edits) :], strict=False))
    won = dict(zip(job["retry"], results[-len(retries) :], strict=True))
    await asyncio.gather(*firing._settling)  # its flag clearing runs in the background
    await client.close()
    await http.aclose()
    return {"events": len(events), "errors": errors, "fires_won": fired, "retries_won": won}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
