"""The envelope of a message that a consumer could not process."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class DeadLetter(BaseModel):
    """What goes to ``<topic>.dlq``: the original bytes and why they failed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    source_topic: str
    partition: int
    offset: int
    consumer_group: str | None = None
    error_type: str
    error: str = Field(description="Error text; never includes secrets.")
    payload: str = Field(description="The original message body, decoded as UTF-8 (replaced).")
    failed_at: AwareDatetime
    attempts: int = Field(ge=1)


def dlq_topic(topic: str) -> str:
    """Name of the dead-letter topic for ``topic``."""
    return f"{topic}.dlq"
