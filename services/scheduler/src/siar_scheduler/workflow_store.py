"""MongoDB for the scheduler's workflow: workspace settings, labels, failure notices, calendar.

Times here are epoch floats where a document is updated in place: the embedded
nx-27017 turns a ``$set`` of a datetime on an existing document into a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DeleteOne, InsertOne, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_scheduler.domain import Post

WORKFLOW_INDEXES = (
    IndexSpec("workspace_settings", [("workspace_id", ASCENDING)], unique=True),
    IndexSpec("labels", [("workspace_id", ASCENDING), ("name_key", ASCENDING)], unique=True),
    IndexSpec("failure_notices", [("sent", ASCENDING), ("created", ASCENDING)], name="pending"),
)


def post_doc(post: Post) -> Document:
    """The stored shape of a post (the same as the core store writes)."""
    return {**post.model_dump(mode="python"), "_id": post.id, "workspace_id": post.workspace_id}


class WorkflowStore:
    """Settings, labels, notices and bulk post writes, every query scoped to a workspace."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.settings = TenantCollection(db["workspace_settings"])
        self.labels = TenantCollection(db["labels"])
        self.notices = TenantCollection(db["failure_notices"])
        self.posts = TenantCollection(db["posts"])

    # --- workspace settings --------------------------------------------------------------

    async def get_settings(self, workspace_id: str) -> Document:
        """The workspace's scheduler settings (empty when never set)."""
        return await self.settings.find_one(workspace_id, {}) or {}

    async def update_settings(self, workspace_id: str, changes: Mapping[str, Any]) -> Document:
        """Merge ``changes`` into the settings document (created on first use)."""
        await self.settings.update_one(workspace_id, {}, {"$set": dict(changes)}, upsert=True)
        return await self.get_settings(workspace_id)

    # --- labels -----------------------------------------------------------------------

    async def list_labels(self, workspace_id: str) -> list[Document]:
        """Every label of the workspace, by name."""
        return await self.labels.find(workspace_id, sort=[("name_key", ASCENDING)])

    async def insert_label(self, workspace_id: str, doc: Document) -> None:
        """Store a new label (unique per name, case-insensitively)."""
        await self.labels.insert(workspace_id, doc)

    async def replace_label(self, workspace_id: str, doc: Document) -> bool:
        """Rewrite a label; False if it does not exist."""
        return await self.labels.replace_one(workspace_id, {"_id": doc["_id"]}, doc) == 1

    async def delete_label(self, workspace_id: str, label_id: str) -> bool:
        """Delete a label; posts keep no dangling reference (pulled in the same call)."""
        deleted = await self.labels.delete_one(workspace_id, {"_id": label_id})
        if deleted:
            await self.posts.update_many(
                workspace_id, {"label_ids": {"$in": [label_id]}}, {"$pull": {"label_ids": label_id}}
            )
        return deleted == 1

    async def existing_labels(self, workspace_id: str, label_ids: Sequence[str]) -> set[str]:
        """Which of ``label_ids`` exist in the workspace."""
        docs = await self.labels.find(workspace_id, {"_id": {"$in": list(label_ids)}})
        return {str(d["_id"]) for d in docs}

    # --- posts for the calendar -------------------------------------------------------------

    async def find_posts(
        self, workspace_id: str, query: Mapping[str, Any], *, limit: int = 0
    ) -> list[Post]:
        """Posts matching ``query``, by scheduled time."""
        docs = await self.posts.find(
            workspace_id, query, sort=[("scheduled_at", ASCENDING)], limit=limit
        )
        return [Post.model_validate(d) for d in docs]

    async def bulk_posts(
        self,
        workspace_id: str,
        *,
        insert: Sequence[Post] = (),
        replace: Sequence[tuple[Post, int]] = (),
        delete: Sequence[tuple[str, int]] = (),
        session: AsyncClientSession | None = None,
    ) -> int:
        """Insert, replace (if still at a version) and delete posts in one bulk write.

        Returns how many replacements and deletions matched their expected version,
        so a caller in a transaction can abort when someone else got there first.
        """
        ops: list[Any] = [InsertOne(post_doc(p)) for p in insert]
        for post, version in replace:
            doc = post_doc(post)
            doc.pop("_id")
            ops.append(
                ReplaceOne({"_id": post.id, "workspace_id": workspace_id, "version": version}, doc)
            )
        ops += [
            DeleteOne({"_id": post_id, "workspace_id": workspace_id, "version": version})
            for post_id, version in delete
        ]
        if not ops:
            return 0
        result = await self.posts.raw.bulk_write(ops, ordered=True, session=session)
        return result.matched_count + result.deleted_count

    # --- failure notices ----------------------------------------------------------------

    async def add_notice(
        self, workspace_id: str, doc: Document, session: AsyncClientSession | None = None
    ) -> None:
        """Record a failure to tell the workspace about (in the outcome's transaction)."""
        await self.notices.insert(workspace_id, doc, session=session)

    async def pending_notices(self, limit: int = 100) -> list[Document]:
        """Notices not yet delivered, oldest first, across workspaces (the sender's scan)."""
        cursor = self.notices.raw.find({"sent": False}, sort=[("created", ASCENDING)], limit=limit)
        return await cursor.to_list()

    async def mark_notice(self, workspace_id: str, notice_id: str, changes: Document) -> None:
        """Record a delivery attempt's outcome."""
        await self.notices.update_one(workspace_id, {"_id": notice_id}, {"$set": changes})
