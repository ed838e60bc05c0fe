"""The envelope every Siar event carries, and the rules for producing and consuming it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event: the common envelope followed by the payload.

    Consumers ignore unknown fields (``extra="ignore"``) so that adding a field is a
    compatible change; producers build events with :meth:`new`, which validates
    strictly and refuses unknown fields.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: ClassVar[str]
    key_fields: ClassVar[tuple[str, ...]] = ("workspace_id", "account_id")

    event_id: uuid.UUID = Field(description="Unique id; the consumers' idempotency key.")
    event_type: str = Field(description="The topic name this event belongs to.")
    schema_version: int = Field(ge=1, description="Version of this event's payload schema.")
    occurred_at: AwareDatetime = Field(description="When it happened, UTC.")
    workspace_id: str = Field(min_length=1, description="The workspace it belongs to.")

    @classmethod
    def new(cls, **payload: Any) -> Self:
        """Build an event for publishing: fresh id and time, strict validation."""
        data: dict[str, Any] = {
            "event_id": uuid.uuid4(),
            "event_type": cls.topic,
            "schema_version": cls.model_fields["schema_version"].default,
            "occurred_at": utcnow(),
            **payload,
        }
        return cls.model_validate(data, strict=True, extra="forbid")

    def partition_key(self) -> bytes:
        """Key that keeps one account's events ordered on one partition."""
        parts = [str(getattr(self, name, "") or "") for name in self.key_fields]
        return ":".join(parts).encode()
