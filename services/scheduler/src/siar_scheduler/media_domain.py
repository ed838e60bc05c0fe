"""The media library's model: items, upload values, tag rules and errors (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from siar.connectors import MediaItem
from siar.connectors.rules import MediaKind
from siar_scheduler.domain import PostStatus
from siar_scheduler.errors import SchedulerError
from siar_scheduler.media_probe import ALLOWED

IN_USE_STATUSES = (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.DISPATCHED)
"""A post in one of these may still be published, so its media must stay."""
MAX_TAGS = 30
MAX_TAG_CHARS = 50
MAX_ALT_TEXT_CHARS = 2000
MAX_FILENAME_CHARS = 255


class MediaError(SchedulerError):
    """Base of the media library's errors."""


class MediaNotFound(MediaError):
    """No such item in this workspace."""


class InvalidMedia(MediaError):
    """Tags, alt text or another detail of an item is not acceptable."""


class MediaTooLarge(MediaError):
    """The content is larger than the limit for its kind."""

    def __init__(self, kind: MediaKind, limit_bytes: int) -> None:
        super().__init__(f"{kind.value}s may be at most {limit_bytes} bytes")
        self.problem_extra = {"media_kind": kind.value, "limit_bytes": limit_bytes}


class UnsupportedMedia(MediaError):
    """The content is not an allowed type, or is one but cannot be read."""

    def __init__(self, detected: str, reason: str) -> None:
        super().__init__(f"content detected as {detected}: {reason}")
        self.problem_extra = {"detected_type": detected, "allowed": sorted(ALLOWED)}


class MediaInUse(MediaError):
    """Posts that may still be published carry the item."""

    def __init__(self, media_id: str, post_ids: list[str]) -> None:
        super().__init__(f"media {media_id} is used by post(s) {', '.join(post_ids)}")
        self.problem_extra = {"post_ids": post_ids}


class MediaBusy(MediaError):
    """The item kept changing under a concurrent edit; the client may retry."""


class UnknownMedia(MediaError):
    """Some of the media ids a post names are not in the workspace."""

    def __init__(self, media_ids: list[str]) -> None:
        super().__init__(f"unknown media: {', '.join(media_ids)}")
        self.problem_extra = {"media_ids": media_ids}


class MediaRecord(BaseModel):
    """One item of the library, as stored."""

    id: str
    workspace_id: str
    filename: str
    mime_type: str
    kind: MediaKind
    size_bytes: int
    width: int | None
    height: int | None
    duration_s: float | None
    checksum_sha256: str
    tags: list[str]
    alt_text: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int = 1

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> MediaRecord:
        """A record from its metadata document."""
        return cls.model_validate({**doc, "id": doc["_id"]})

    def to_doc(self) -> dict[str, Any]:
        """The metadata document (``_id`` is the id)."""
        doc = self.model_dump(mode="python", exclude={"id"})
        return {"_id": self.id, **doc}

    def item(self) -> MediaItem:
        """The connectors' view of the item (without content)."""
        return MediaItem(
            kind=self.kind,
            mime_type=self.mime_type,
            filename=self.filename,
            size_bytes=self.size_bytes,
            width=self.width,
            height=self.height,
            duration_s=self.duration_s,
            alt_text=self.alt_text,
        )


@dataclass(frozen=True)
class UploadDetails:
    """What the uploader says about a file; known once its content has been read."""

    filename: str | None = None
    tags: Sequence[str] = ()
    alt_text: str | None = None


@dataclass(frozen=True)
class Uploaded:
    """An upload's outcome: the new item, or the one that already held the content."""

    item: MediaRecord
    duplicate: bool = False


@dataclass(frozen=True)
class UploadLimits:
    """Largest content accepted, per kind."""

    image_bytes: int
    video_bytes: int

    def for_kind(self, kind: MediaKind) -> int:
        """The limit for ``kind``."""
        return self.image_bytes if kind is MediaKind.IMAGE else self.video_bytes

    @property
    def largest(self) -> int:
        """The largest limit of any kind (an upper bound for a whole request)."""
        return max(self.image_bytes, self.video_bytes)


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Tags as stored and searched: trimmed, without '#', case-folded, unique, in order."""
    tags: list[str] = []
    for value in raw:
        tag = " ".join(value.strip().lstrip("#").split()).casefold()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidMedia(f"tag {tag[:20]!r}... is longer than {MAX_TAG_CHARS} characters")
        if "," in tag or not tag.isprintable():
            raise InvalidMedia(f"tag {tag!r} contains a comma or a control character")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidMedia(f"at most {MAX_TAGS} tags per item")
    return tags


def clean_alt_text(raw: str | None) -> str | None:
    """Alt text trimmed; empty means none."""
    text = (raw or "").strip()
    if len(text) > MAX_ALT_TEXT_CHARS:
        raise InvalidMedia(f"alt text is longer than {MAX_ALT_TEXT_CHARS} characters")
    return text or None


def clean_filename(raw: str | None) -> str:
    """The last path component of a client's file name, printable, bounded."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_FILENAME_CHARS] or "upload"


def new_media_id() -> str:
    """A fresh media id (a string: nx-27017 cannot match ObjectIds outside ``_id``)."""
    return f"med_{uuid.uuid4().hex[:20]}"
