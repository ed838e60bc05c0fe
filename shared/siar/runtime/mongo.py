"""MongoDB access: the client factory, index declarations and the tenant-scoped store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, IndexModel, ReplaceOne, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def create_mongo_client(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    """Build the one client a process uses; it connects lazily on first use."""
    return AsyncMongoClient(url, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=5000)


@dataclass(frozen=True)
class IndexSpec:
    """An index a store needs, created at service start."""

    collection: str
    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def model(self) -> IndexModel:
        """The PyMongo index model."""
        name = self.name or "_".join(f"{k}_{d}" for k, d in self.keys)
        return IndexModel(list(self.keys), unique=self.unique, name=name, **dict(self.options))


async def ensure_indexes(db: AsyncDatabase[Document], specs: Sequence[IndexSpec]) -> None:
    """Create every declared index (idempotent)."""
    by_collection: dict[str, list[IndexModel]] = {}
    for spec in specs:
        by_collection.setdefault(spec.collection, []).append(spec.model())
    for name, models in by_collection.items():
        await db[name].create_indexes(models)


class TenantCollection:
    """A collection whose every read and write is scoped to one workspace.

    Stores hold these instead of raw collections, so a query without a
    ``workspace_id`` cannot be written.
    """

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.raw = collection

    @staticmethod
    def _scoped(workspace_id: str, query: Mapping[str, Any] | None) -> Document:
        if not workspace_id:
            raise ValueError("workspace_id is required for every query")
        return {**(query or {}), "workspace_id": workspace_id}

    async def insert(
        self,
        workspace_id: str,
        doc: Mapping[str, Any],
        *,
        session: AsyncClientSession | None = None,
    ) -> None:
        """Insert one document stamped with its workspace."""
        await self.raw.insert_one(self._scoped(workspace_id, doc), session=session)

    async def find_one(
        self,
        workspace_id: str,
        query: Mapping[str, Any],
        *,
        session: AsyncClientSession | None = None,
    ) -> Document | None:
        """The first document of this workspace matching ``query``."""
        return await self.raw.find_one(self._scoped(workspace_id, query), session=session)

    async def find(
        self,
        workspace_id: str,
        query: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        skip: int = 0,
        projection: Mapping[str, Any] | None = None,
        session: AsyncClientSession | None = None,
    ) -> list[Document]:
        """Documents of this workspace matching ``query``."""
        cursor = self.raw.find(
            self._scoped(workspace_id, query),
            projection=projection,
            sort=sort,
            limit=limit,
            skip=skip,
            session=session,
        )
        return await cursor.to_list()

    async def aggregate(
        self, workspace_id: str, pipeline: Sequence[Mapping[str, Any]]
    ) -> list[Document]:
        """Run ``pipeline`` over this workspace's documents only (a ``$match`` goes first)."""
        scoped = [{"$match": self._scoped(workspace_id, None)}, *pipeline]
        cursor = await self.raw.aggregate(scoped)
        return await cursor.to_list()

    async def count(self, workspace_id: str, query: Mapping[str, Any] | None = None) -> int:
        """How many documents of this workspace match."""
        return await self.raw.count_documents(self._scoped(workspace_id, query))

    async def update_one(
        self,
        workspace_id: str,
        query: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        upsert: bool = False,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Update one document of this workspace; returns how many matched."""
        result = await self.raw.update_one(
            self._scoped(workspace_id, query), update, upsert=upsert, session=session
        )
        return result.matched_count + (1 if result.upserted_id is not None else 0)

    async def update_many(
        self,
        workspace_id: str,
        query: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Update every matching document of this workspace; returns how many matched."""
        result = await self.raw.update_many(
            self._scoped(workspace_id, query), update, session=session
        )
        return result.matched_count

    async def replace_one(
        self,
        workspace_id: str,
        query: Mapping[str, Any],
        doc: Mapping[str, Any],
        *,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Replace one whole document of this workspace; returns how many matched.

        Prefer this over ``$set`` of datetimes: the embedded nx-27017 stores a
        top-level datetime given to ``$set``/``$max`` on an existing document as a
        string (seen with nx-27017 0.8.1), while whole documents keep their types.
        """
        replacement = self._scoped(workspace_id, doc)
        replacement.pop("_id", None)  # immutable anyway; leaving it out suits every server
        result = await self.raw.replace_one(
            self._scoped(workspace_id, query), replacement, session=session
        )
        return result.matched_count

    async def replace_many(
        self,
        workspace_id: str,
        docs: Sequence[Mapping[str, Any]],
        *,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Replace whole documents (matched by ``_id``) in one bulk write; how many matched."""
        if not docs:
            return 0
        ops = []
        for doc in docs:
            replacement = self._scoped(workspace_id, doc)
            replacement.pop("_id", None)
            ops.append(ReplaceOne(self._scoped(workspace_id, {"_id": doc["_id"]}), replacement))
        result = await self.raw.bulk_write(ops, ordered=False, session=session)
        return result.matched_count

    async def find_one_and_update(
        self,
        workspace_id: str,
        query: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        session: AsyncClientSession | None = None,
    ) -> Document | None:
        """Update one document and return it as it is after the update."""
        return await self.raw.find_one_and_update(
            self._scoped(workspace_id, query),
            update,
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    async def delete_one(
        self,
        workspace_id: str,
        query: Mapping[str, Any],
        *,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Delete one document of this workspace; returns how many were deleted."""
        result = await self.raw.delete_one(self._scoped(workspace_id, query), session=session)
        return result.deleted_count
