"""The media library's MongoDB store: metadata documents and GridFS content.

Metadata lives in ``media`` (one document per item, ``_id`` = the ``med_`` id); the
bytes live in the GridFS bucket ``media`` under the same id. Every metadata read and
write goes through a :class:`TenantCollection`; content is only reached by id after
the caller found the item's metadata in its workspace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, Sequence

from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridIn, AsyncGridOut
from gridfs.errors import NoFile
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from siar.runtime.mongo import Document, IndexSpec, TenantCollection

log = logging.getLogger(__name__)

BUCKET = "media"
GRIDFS_CHUNK_BYTES = 255 * 1024

MEDIA_INDEXES = (
    # Duplicate detection: one item per content per workspace, enforced by the server.
    IndexSpec(
        "media",
        [("workspace_id", ASCENDING), ("checksum_sha256", ASCENDING)],
        unique=True,
        name="media_checksum",
    ),
    IndexSpec("media", [("workspace_id", ASCENDING), ("created_at", DESCENDING)], name="recent"),
    IndexSpec("media", [("workspace_id", ASCENDING), ("tags", ASCENDING)], name="media_tags"),
)


async def _chunks(stream: AsyncGridOut) -> AsyncGenerator[bytes, None]:
    try:
        while chunk := await stream.readchunk():
            yield chunk
    finally:
        await stream.close()


class DuplicateContent(Exception):
    """The workspace already holds an item with this checksum (a racing upload won)."""


class MediaStore:
    """Media metadata and content; every metadata query scoped to a workspace."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.items = TenantCollection(db["media"])
        self.posts = TenantCollection(db["posts"])
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=GRIDFS_CHUNK_BYTES)

    # -- metadata ---------------------------------------------------------------------

    async def insert(self, workspace_id: str, doc: Document) -> None:
        """Store a new item's metadata, or :class:`DuplicateContent`."""
        try:
            await self.items.insert(workspace_id, doc)
        except DuplicateKeyError as err:
            raise DuplicateContent(doc.get("checksum_sha256", "")) from err

    async def get(self, workspace_id: str, media_id: str) -> Document | None:
        """One item's metadata."""
        return await self.items.find_one(workspace_id, {"_id": media_id})

    async def by_checksum(self, workspace_id: str, checksum: str) -> Document | None:
        """The item with this content, if the workspace has it."""
        return await self.items.find_one(workspace_id, {"checksum_sha256": checksum})

    async def many(self, workspace_id: str, media_ids: Sequence[str]) -> list[Document]:
        """The items among ``media_ids`` that exist (in no particular order)."""
        return await self.items.find(workspace_id, {"_id": {"$in": list(media_ids)}})

    async def search(
        self,
        workspace_id: str,
        *,
        tags: Sequence[str] = (),
        filename_contains: str | None = None,
        kind: str | None = None,
        limit: int = 50,
    ) -> list[Document]:
        """Items carrying every tag in ``tags``, newest first."""
        query: Document = {}
        if tags:
            # $all rather than equality: nx-27017 never matches an array element by
            # equality once the array field is indexed; $all works everywhere.
            query["tags"] = {"$all": list(tags)}
        if filename_contains:
            query["filename"] = {"$regex": re.escape(filename_contains), "$options": "i"}
        if kind:
            query["kind"] = kind
        return await self.items.find(
            workspace_id, query, sort=[("created_at", DESCENDING), ("_id", DESCENDING)], limit=limit
        )

    async def replace(self, workspace_id: str, doc: Document, *, expected_version: int) -> bool:
        """Write ``doc`` whole if nobody changed it since ``expected_version``."""
        query = {"_id": doc["_id"], "version": expected_version}
        return await self.items.replace_one(workspace_id, query, doc) == 1

    async def delete(self, workspace_id: str, media_id: str) -> bool:
        """Remove an item's metadata; its content is removed with :meth:`delete_content`."""
        return await self.items.delete_one(workspace_id, {"_id": media_id}) == 1

    async def posts_using(
        self, workspace_id: str, media_id: str, statuses: Sequence[str]
    ) -> list[str]:
        """Ids of posts in ``statuses`` that carry the item (at most 20)."""
        docs = await self.posts.find(
            workspace_id,
            # $in rather than equality, for the same nx-27017 reason as in search().
            {"media_ids": {"$in": [media_id]}, "status": {"$in": list(statuses)}},
            limit=20,
        )
        return [str(d["_id"]) for d in docs]

    # -- content ----------------------------------------------------------------------

    def open_upload(self, workspace_id: str, media_id: str) -> AsyncGridIn:
        """A GridFS stream to write an item's content into (named by its id)."""
        return self.bucket.open_upload_stream_with_id(
            media_id, media_id, metadata={"workspace_id": workspace_id}
        )

    async def abort_upload(self, stream: AsyncGridIn, media_id: str) -> None:
        """Remove a partly written file; never raises (a failure is logged)."""
        try:
            await stream.abort()
        except PyMongoError as err:
            # nx-27017 (0.8.1) removes the chunks but answers abort's chunk deletion with
            # "File with id … not found"; real MongoDB does not fail here.
            log.debug("GridFS abort of %s answered: %s", media_id, err)

    async def delete_content(self, media_id: str) -> None:
        """Remove an item's content; a failure leaves an orphan file and is logged."""
        try:
            await self.bucket.delete(media_id)
        except NoFile:
            pass
        except PyMongoError as err:  # nx-27017 says "not found" this way instead of NoFile
            log.warning("could not delete GridFS file %s: %s", media_id, err)

    async def open_content(self, media_id: str) -> AsyncGenerator[bytes, None] | None:
        """An item's content chunk by chunk (255 KiB GridFS chunks), or None if absent."""
        try:
            stream = await self.bucket.open_download_stream(media_id)
        except NoFile:
            return None
        return _chunks(stream)
