"""Request and response bodies of the scheduler API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from siar_scheduler.domain import DispatchRecord, PostStatus, PostVariant, ReviewEntry, Target
from siar_scheduler.recurrence import Evergreen, Recurrence
from siar_scheduler.timing import When
from siar_scheduler.variants import MAX_VARIANTS, Variants


class EvergreenIn(BaseModel):
    """Re-queue the post ``every_days`` days after each time it goes out, ``max_times`` times.

    It comes back in the first free slot of its first account's queue at or after the same
    wall-clock time ``every_days`` later (in ``timezone``); without a queue, at that time.
    """

    model_config = ConfigDict(extra="forbid")
    every_days: int = Field(
        ge=1,
        le=3650,
        description="Days after it goes out before it is due again: the earliest the next "
        "queue slot may be (a slot free on every target account).",
    )
    max_times: int = Field(
        ge=1, le=500, description="How many times it is re-queued (it goes out max_times + 1)."
    )


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
    publish_now: bool = Field(default=False, description="Post now instead of at a time.")
    add_to_queue: bool = Field(
        default=False, description="Take the next free slot of the first account's queue."
    )
    rrule: str | None = Field(
        default=None,
        max_length=500,
        description="RFC 5545 RRULE with COUNT or UNTIL, read in ``timezone``.",
        examples=["FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12"],
    )
    evergreen: EvergreenIn | None = None
    variants: Variants = Field(
        default_factory=dict,
        max_length=MAX_VARIANTS,
        description="Per-network differences, keyed by a target account's network.",
        examples=[{"instagram": {"format": "reel", "first_comment": "#launch #spring"}}],
    )

    def when(self, scheduled_at: datetime | None) -> When:
        """The timing choice, with the wall-clock time already read in its zone."""
        return When(
            scheduled_at=scheduled_at,
            timezone=self.timezone,
            publish_now=self.publish_now,
            add_to_queue=self.add_to_queue,
            rrule=self.rrule,
            evergreen_days=self.evergreen.every_days if self.evergreen else None,
            evergreen_times=self.evergreen.max_times if self.evergreen else None,
        )

    @property
    def has_time(self) -> bool:
        """Whether the post gets a time (and so needs scheduling rights unless a draft)."""
        return self.scheduled_at is not None or self.publish_now or self.add_to_queue


class PostUpdate(BaseModel):
    """Changes to a post before dispatch."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    scheduled_at: AwareDatetime | None = None
    label_ids: list[str] | None = Field(default=None, max_length=20)
    variants: Variants | None = Field(
        default=None, max_length=MAX_VARIANTS, description="Replaces the whole map; {} clears it."
    )


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
    recurrence: Recurrence | None = None
    evergreen: Evergreen | None = None
    dispatches: list[DispatchRecord] = Field(
        default_factory=list, description="The latest occurrences fired, with their lateness."
    )
    variants: dict[str, PostVariant] = Field(default_factory=dict)


class PostList(BaseModel):
    """A page of the calendar."""

    items: list[PostPublic]
