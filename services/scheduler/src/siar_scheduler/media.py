"""The media library: upload, find, tag and delete images and videos of a workspace.

Uploads stream into GridFS while their type is sniffed, their size bounded and their
SHA-256 computed; nothing is kept when any check fails. Content already in the
workspace (same checksum) is not stored twice. An item that a draft, scheduled or
dispatched post carries cannot be deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from gridfs.asynchronous.grid_file import AsyncGridIn

from siar.connectors import MediaItem
from siar.connectors.rules import MediaKind
from siar.contracts import utcnow
from siar_scheduler.media_domain import (
    IN_USE_STATUSES,
    InvalidMedia,
    MediaBusy,
    MediaError,
    MediaInUse,
    MediaNotFound,
    MediaRecord,
    MediaTooLarge,
    UnknownMedia,
    UnsupportedMedia,
    UploadDetails,
    Uploaded,
    UploadLimits,
    clean_alt_text,
    clean_filename,
    new_media_id,
    normalize_tags,
)
from siar_scheduler.media_probe import (
    ALLOWED,
    SNIFF_BYTES,
    MediaInfo,
    Probe,
    UnrecognisedMedia,
    start_probe,
)
from siar_scheduler.media_store import DuplicateContent, MediaStore

__all__ = [
    "IN_USE_STATUSES",
    "InvalidMedia",
    "MediaBusy",
    "MediaError",
    "MediaInUse",
    "MediaLibrary",
    "MediaNotFound",
    "MediaRecord",
    "MediaTooLarge",
    "UnknownMedia",
    "UnsupportedMedia",
    "UploadDetails",
    "UploadLimits",
    "Uploaded",
]


async def _sniffable(content: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """``content`` with its first piece holding at least ``SNIFF_BYTES`` (or everything)."""
    head: bytes | None = b""
    async for chunk in content:
        if head is not None:
            head += chunk
            if len(head) < SNIFF_BYTES:
                continue
            chunk, head = head, None
        if chunk:
            yield chunk
    if head is not None:
        yield head  # the whole content is shorter than SNIFF_BYTES (perhaps empty)


@dataclass(frozen=True)
class _Received:
    media_id: str
    stream: AsyncGridIn
    info: MediaInfo
    size: int
    checksum: str


def _new_record(
    got: _Received, form: UploadDetails, *, workspace_id: str, created_by: str
) -> MediaRecord:
    now = utcnow()
    return MediaRecord(
        id=got.media_id,
        workspace_id=workspace_id,
        filename=clean_filename(form.filename),
        mime_type=got.info.mime_type,
        kind=got.info.kind,
        size_bytes=got.size,
        width=got.info.width,
        height=got.info.height,
        duration_s=got.info.duration_s,
        checksum_sha256=got.checksum,
        tags=normalize_tags(form.tags),
        alt_text=clean_alt_text(form.alt_text),
        created_at=now,
        created_by=created_by,
        updated_at=now,
    )


class MediaLibrary:
    """The media library's use cases."""

    def __init__(self, store: MediaStore, limits: UploadLimits) -> None:
        self.store = store
        self.limits = limits

    async def upload(
        self,
        *,
        workspace_id: str,
        created_by: str,
        content: AsyncIterable[bytes],
        details: Callable[[], UploadDetails],
    ) -> Uploaded:
        """Store ``content`` as a new item, or find the item that already holds it.

        ``details`` is called once all content was read (a multipart form may send its
        other fields after the file). Raises :class:`UnsupportedMedia`,
        :class:`MediaTooLarge` or :class:`InvalidMedia`, having kept nothing.
        """
        got = await self._receive(workspace_id, new_media_id(), content)
        try:
            record = _new_record(got, details(), workspace_id=workspace_id, created_by=created_by)
            existing = await self.store.by_checksum(workspace_id, got.checksum)
            if existing is None:
                await got.stream.close()
        except BaseException:
            await self.store.abort_upload(got.stream, got.media_id)
            raise
        if existing is not None:  # nothing new is kept: the partial file goes
            await self.store.abort_upload(got.stream, got.media_id)
            return Uploaded(MediaRecord.from_doc(existing), duplicate=True)
        try:
            await self.store.insert(workspace_id, record.to_doc())
        except DuplicateContent:  # the same content was uploaded concurrently and won
            await self.store.delete_content(record.id)
            winner = await self.store.by_checksum(workspace_id, got.checksum)
            if winner is None:
                raise
            return Uploaded(MediaRecord.from_doc(winner), duplicate=True)
        except BaseException:
            await self.store.delete_content(record.id)
            raise
        return Uploaded(record)

    async def _receive(
        self, workspace_id: str, media_id: str, content: AsyncIterable[bytes]
    ) -> _Received:
        """Stream content into GridFS, sniffing, bounding and hashing it on the way.

        The GridFS stream is left open for the caller to close or abort; on any error
        here it is aborted, so nothing stays behind.
        """
        opened: tuple[Probe, AsyncGridIn, int] | None = None
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in _sniffable(content):
                if opened is None:
                    probe = start_probe(chunk)
                    limit = self.limits.for_kind(ALLOWED[probe.mime_type])
                    opened = probe, self.store.open_upload(workspace_id, media_id), limit
                probe, stream, limit = opened
                size += len(chunk)
                if size > limit:
                    raise MediaTooLarge(ALLOWED[probe.mime_type], limit)
                digest.update(chunk)
                probe.feed(chunk)
                await stream.write(chunk)
            if opened is None:
                raise UnsupportedMedia("empty", "no content")
            info = opened[0].finish()
        except BaseException as err:
            if opened is not None:
                await self.store.abort_upload(opened[1], media_id)
            if isinstance(err, UnrecognisedMedia):
                raise UnsupportedMedia(err.detected, err.reason) from err
            raise
        return _Received(media_id, opened[1], info, size, digest.hexdigest())

    async def get(self, workspace_id: str, media_id: str) -> MediaRecord:
        """One item, or :class:`MediaNotFound`."""
        doc = await self.store.get(workspace_id, media_id)
        if doc is None:
            raise MediaNotFound(f"media {media_id} not found")
        return MediaRecord.from_doc(doc)

    async def search(
        self,
        workspace_id: str,
        *,
        tags: Sequence[str] = (),
        filename_contains: str | None = None,
        kind: MediaKind | None = None,
        limit: int = 50,
    ) -> list[MediaRecord]:
        """Items with every tag, a file name containing a text, of a kind; newest first."""
        docs = await self.store.search(
            workspace_id,
            tags=normalize_tags(tags),
            filename_contains=filename_contains or None,
            kind=kind.value if kind else None,
            limit=limit,
        )
        return [MediaRecord.from_doc(d) for d in docs]

    async def update(
        self,
        *,
        workspace_id: str,
        media_id: str,
        tags: Sequence[str] | None = None,
        alt_text: str | None = None,
    ) -> MediaRecord:
        """Replace tags and/or alt text (None keeps a value; an empty alt text removes it)."""
        new_tags = None if tags is None else normalize_tags(tags)
        new_alt = None if alt_text is None else clean_alt_text(alt_text)
        for _ in range(20):
            record = await self.get(workspace_id, media_id)
            changes: dict[str, object] = {"updated_at": utcnow(), "version": record.version + 1}
            if new_tags is not None:
                changes["tags"] = new_tags
            if alt_text is not None:
                changes["alt_text"] = new_alt
            updated = record.model_copy(update=changes)
            # The whole document, not $set: nx-27017 would turn updated_at into a string.
            if await self.store.replace(
                workspace_id, updated.to_doc(), expected_version=record.version
            ):
                return updated
        raise MediaBusy(f"media {media_id} is being changed by others; try again")

    async def delete(self, *, workspace_id: str, media_id: str) -> None:
        """Delete an item and its content, unless a post that may still go out carries it."""
        await self.get(workspace_id, media_id)
        statuses = [s.value for s in IN_USE_STATUSES]
        post_ids = await self.store.posts_using(workspace_id, media_id, statuses)
        if post_ids:
            raise MediaInUse(media_id, post_ids)
        if not await self.store.delete(workspace_id, media_id):
            raise MediaNotFound(f"media {media_id} not found")
        await self.store.delete_content(media_id)

    async def describe(self, workspace_id: str, media_ids: Sequence[str]) -> list[MediaItem]:
        """The items behind ``media_ids`` in order, or :class:`UnknownMedia` naming the rest."""
        unique = list(dict.fromkeys(media_ids))
        found = {
            d["_id"]: MediaRecord.from_doc(d) for d in await self.store.many(workspace_id, unique)
        }
        missing = [m for m in unique if m not in found]
        if missing:
            raise UnknownMedia(missing)
        return [found[m].item() for m in media_ids]

    async def open_content(
        self, workspace_id: str, media_id: str
    ) -> tuple[MediaRecord, AsyncGenerator[bytes, None]]:
        """An item and its content as a stream of chunks."""
        record = await self.get(workspace_id, media_id)
        chunks = await self.store.open_content(media_id)
        if chunks is None:
            raise MediaNotFound(f"content of media {media_id} is missing")
        return record, chunks

    async def content(self, workspace_id: str, media_id: str) -> bytes:
        """An item's whole content (for services that hand it to a network)."""
        _, chunks = await self.open_content(workspace_id, media_id)
        return b"".join([chunk async for chunk in chunks])
