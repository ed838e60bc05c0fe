"""Scheduler processes on the session's Kafka and MongoDB, and posts seeded straight into its DB.

Posts are inserted directly (as the scheduler stores them) so a test can hold thousands
due at once, and recurring rules faster than the API allows, without a vault.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostScheduled, utcnow
from siar.devstack import DevSecrets, Infra, Platform, free_port
from siar.runtime.mongo import Document
from siar_scheduler.domain import Post, PostStatus, Target
from siar_scheduler.recurrence import Recurrence


def replica(infra: Infra, log_dir: Path, database: str, *, name: str) -> Platform:
    """One scheduler process (not started) on ``database``; replicas share the database."""
    log_dir = log_dir / name
    log_dir.mkdir(parents=True, exist_ok=True)
    return Platform(
        infra,
        DevSecrets.generate(),
        log_dir,
        ports={"scheduler": free_port()},
        services=("scheduler",),
        extra_env={
            "SIAR_SCHEDULER_DATABASE": database,
            "SIAR_SCHEDULER_CONSUMER_GROUP": f"{database}-group",
            "SIAR_SCHEDULER_SCAN_INTERVAL_S": "0.5",
            "SIAR_SCHEDULER_LOOKAHEAD_S": "60",
            "SIAR_SCHEDULER_OUTBOX_POLL_S": "0.2",
        },
    )


def new_post(
    workspace_id: str,
    due: datetime,
    accounts: Iterable[str],
    *,
    recurrence: Recurrence | None = None,
) -> Post:
    """A scheduled post as the API would have stored it."""
    now = utcnow()
    return Post(
        id=f"pst_{uuid.uuid4().hex[:20]}",
        workspace_id=workspace_id,
        text="spike",
        scheduled_at=due,
        status=PostStatus.SCHEDULED,
        targets=[Target(account_id=a, network="sandbox") for a in accounts],
        created_by="usr_test",
        created_at=now,
        updated_at=now,
        recurrence=recurrence,
    )


async def seed(db: AsyncDatabase[Document], posts: list[Post], batch: int = 5000) -> None:
    """Insert posts in big batches (nx-27017 is slow per document)."""
    for start in range(0, len(posts), batch):
        await db["posts"].insert_many(
            [{**p.model_dump(mode="python"), "_id": p.id} for p in posts[start : start + batch]]
        )


def scheduled_keys(records: list[ConsumerRecord[Any, Any]], workspace_id: str) -> Counter[Any]:
    """How many records the topic holds per (post, account, occurrence, event id)."""
    found: Counter[Any] = Counter()
    for record in records:
        # The topic is shared by the session's tests; some write malformed records on
        # purpose, so only this workspace's records are read as events.
        if workspace_id.encode() not in (record.value or b""):
            continue
        event = PostScheduled.model_validate_json(record.value)
        if event.workspace_id == workspace_id:
            found[(event.post_id, event.account_id, event.occurrence, event.event_id)] += 1
    return found


async def unsettled(db: AsyncDatabase[Document], workspace_id: str) -> int:
    """Posts still waiting to fire, or fired with events not yet recorded."""
    query = {
        "workspace_id": workspace_id,
        "$or": [{"status": PostStatus.SCHEDULED.value}, {"emit_pending": True}],
    }
    return await db["posts"].count_documents(query)


async def unpublished(db: AsyncDatabase[Document]) -> int:
    """Outbox events the relay has not handed to Kafka yet."""
    return await db["outbox"].count_documents({"published": False})
