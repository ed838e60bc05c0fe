"""Request and response bodies of the media library API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from siar.connectors.rules import MediaKind
from siar_scheduler.media_domain import MAX_ALT_TEXT_CHARS, MAX_TAGS, MediaRecord


class MediaPublic(BaseModel):
    """A media item as shown."""

    id: str
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

    @classmethod
    def of(cls, record: MediaRecord) -> MediaPublic:
        """The public view of a stored item."""
        return cls.model_validate(record.model_dump())


class MediaList(BaseModel):
    """Items of the library, newest first."""

    items: list[MediaPublic]


class MediaUpdate(BaseModel):
    """New tags and/or alt text; ``alt_text: null`` (or "") removes the alt text."""

    model_config = ConfigDict(extra="forbid")
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    alt_text: str | None = Field(default=None, max_length=MAX_ALT_TEXT_CHARS)
