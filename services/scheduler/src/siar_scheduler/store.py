"""The scheduler's MongoDB store: posts and the projection of connected accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_scheduler.domain import Post, PostStatus

INDEXES = (
    IndexSpec("posts", [("workspace_id", ASCENDING), ("scheduled_at", ASCENDING)]),
    IndexSpec("posts", [("status", ASCENDING), ("scheduled_at", ASCENDING)], name="due"),
    # Retries a crash cut off (retries.resume_retries): nearly every post has none.
    IndexSpec("posts", [("retry_pending.occurrence", ASCENDING)], name="retry_pending"),
    IndexSpec("accounts", [("workspace_id", ASCENDING), ("account_id", ASCENDING)], unique=True),
)


def _to_doc(post: Post) -> Document:
    return {**post.model_dump(mode="python"), "_id": post.id}


class SchedulerStore:
    """Posts and accounts, every query scoped to a workspace."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.posts = TenantCollection(db["posts"])
        self.accounts = TenantCollection(db["accounts"])

    async def insert_post(self, post: Post, session: AsyncClientSession | None = None) -> None:
        """Store a new post."""
        await self.posts.insert(post.workspace_id, _to_doc(post), session=session)

    async def get_post(
        self, workspace_id: str, post_id: str, session: AsyncClientSession | None = None
    ) -> Post | None:
        """One post."""
        doc = await self.posts.find_one(workspace_id, {"_id": post_id}, session=session)
        return Post.model_validate(doc) if doc else None

    async def replace_post(
        self, post: Post, *, expected_version: int, session: AsyncClientSession | None = None
    ) -> bool:
        """Write ``post`` if nobody changed it since ``expected_version`` (optimistic lock)."""
        matched = await self.posts.replace_one(
            post.workspace_id,
            {"_id": post.id, "version": expected_version},
            _to_doc(post),
            session=session,
        )
        return matched == 1

    async def delete_post(self, workspace_id: str, post_id: str, version: int) -> bool:
        """Delete a post unless it changed meanwhile."""
        return await self.posts.delete_one(workspace_id, {"_id": post_id, "version": version}) == 1

    async def list_posts(
        self, workspace_id: str, *, start: datetime, end: datetime, limit: int
    ) -> list[Post]:
        """Posts scheduled in [start, end), by time: the calendar."""
        docs = await self.posts.find(
            workspace_id,
            {"scheduled_at": {"$gte": start, "$lt": end}},
            sort=[("scheduled_at", ASCENDING)],
            limit=limit,
        )
        return [Post.model_validate(d) for d in docs]

    async def due_before(self, horizon: datetime, limit: int = 10_000) -> list[Document]:
        """Scheduled posts due by ``horizon`` across all workspaces (the dispatcher's read-ahead).

        Deliberately unscoped: dispatch is the one system task that spans tenants.
        """
        cursor = self.posts.raw.find(
            {"status": PostStatus.SCHEDULED.value, "scheduled_at": {"$lte": horizon}},
            projection={"_id": 1, "workspace_id": 1, "scheduled_at": 1, "version": 1},
            sort=[("scheduled_at", ASCENDING)],
            limit=limit,
        )
        return await cursor.to_list()

    async def account(self, workspace_id: str, account_id: str) -> Document | None:
        """The projected account, if connected."""
        return await self.accounts.find_one(workspace_id, {"account_id": account_id})

    async def upsert_account(self, workspace_id: str, account: dict[str, Any]) -> None:
        """Record a connected (or updated) account."""
        await self.accounts.update_one(
            workspace_id, {"account_id": account["account_id"]}, {"$set": account}, upsert=True
        )
