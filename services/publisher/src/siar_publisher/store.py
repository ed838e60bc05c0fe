"""The publisher's delivery ledger."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_publisher.domain import Delivery

INDEXES = (
    IndexSpec(
        "deliveries",
        [("workspace_id", ASCENDING), ("post_id", ASCENDING), ("account_id", ASCENDING)],
    ),
    IndexSpec("deliveries", [("workspace_id", ASCENDING), ("created_at", ASCENDING)]),
)


class PublisherStore:
    """Deliveries, unique on (post, account, occurrence) through their id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.deliveries = TenantCollection(db["deliveries"])

    async def claim(self, delivery: Delivery) -> Delivery | None:
        """Insert a pending delivery; if it exists, return the existing one instead."""
        try:
            await self.deliveries.insert(
                delivery.workspace_id, {**delivery.model_dump(), "_id": delivery.id}
            )
        except DuplicateKeyError:
            return await self.get(delivery.workspace_id, delivery.id)
        return None

    async def get(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        """One delivery."""
        doc = await self.deliveries.find_one(workspace_id, {"_id": delivery_id})
        return Delivery.model_validate(doc) if doc else None

    async def save(self, delivery: Delivery, session: AsyncClientSession | None = None) -> None:
        """Write a delivery's new state."""
        await self.deliveries.replace_one(
            delivery.workspace_id,
            {"_id": delivery.id},
            {**delivery.model_dump(), "_id": delivery.id},
            session=session,
        )

    async def list(self, workspace_id: str, *, post_id: str | None, limit: int) -> list[Delivery]:
        """Deliveries of a workspace, newest first, optionally of one post."""
        query = {"post_id": post_id} if post_id else {}
        docs = await self.deliveries.find(
            workspace_id, query, sort=[("created_at", -1)], limit=limit
        )
        return [Delivery.model_validate(d) for d in docs]
