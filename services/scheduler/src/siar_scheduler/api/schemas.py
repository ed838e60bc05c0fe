"""Request and response bodies of the scheduler API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from siar_scheduler.domain import PostStatus, ReviewEntry, Target


class PostCreate(BaseModel):
    """A new post; without ``scheduled_at`` it is a draft."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=20_000)
    account_ids: list[str] = Field(min_length=1, max_length=50)
    media_ids: list[str] = Field(default_factory=list, max_length=20)
    scheduled_at: datetime | None = Field(
        default=None,
        description="With an offset, or a wall-clock time read in ``timezone``.",
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA zone for a wall-clock scheduled_at."
    )
    link: str | None = Field(default=None, max_length=2048)
    draft: bool = Field(
        default=False, description="Keep it a draft even with a time (e.g. to submit for approval)."
    )
    label_ids: list[str] = Field(default_factory=list, max_length=20)


class PostUpdate(BaseModel):
    """Changes to a post before dispatch."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    scheduled_at: AwareDatetime | None = None
    label_ids: list[str] | None = Field(default=None, max_length=20)


class PostPublic(BaseModel):
    """A post as shown."""

    id: str
    text: str
    link: str | None
    media_ids: list[str]
    scheduled_at: datetime | None
    status: PostStatus
    targets: list[Target]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    label_ids: list[str] = Field(default_factory=list)
    review: list[ReviewEntry] = Field(default_factory=list)
    retries: int = 0


class PostList(BaseModel):
    """A page of the calendar."""

    items: list[PostPublic]
