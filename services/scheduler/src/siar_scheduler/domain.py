"""Scheduler domain: posts, their targets and the rules of their life (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, Field

from siar_scheduler.errors import InvalidSchedule
from siar_scheduler.recurrence import Evergreen, Recurrence


class PostStatus(StrEnum):
    """Where a post is in its life."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"
    FAILED = "failed"


EDITABLE = frozenset(
    {PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.SCHEDULED}
)
"""Statuses in which a post can still be edited, moved or deleted (nothing dispatched)."""


class TargetStatus(StrEnum):
    """Delivery state of a post on one account."""

    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    PUBLISHED = "published"
    FAILED = "failed"


class Target(BaseModel):
    """One account a post goes to, and what happened there."""

    account_id: str
    network: str
    status: TargetStatus = TargetStatus.SCHEDULED
    network_post_id: str | None = None
    permalink: str | None = None
    error: str | None = None
    dispatched_at: datetime | None = None
    published_at: datetime | None = None
    lateness_ms: float | None = None
    warnings: list[str] = Field(
        default_factory=list,
        description="What failed once the post was live there (e.g. its first comment).",
    )


class DispatchRecord(BaseModel):
    """One occurrence fired: when it was due, when it went, how late, what was skipped."""

    occurrence: str
    due_at: datetime
    dispatched_at: datetime
    lateness_ms: float
    skipped: int = 0


class RetryBatch(BaseModel):
    """A retry written on the post whose ``post.scheduled`` events may not be recorded yet."""

    occurrence: str = Field(description="The retry's own occurrence, e.g. '<due>#retry-2'.")
    account_ids: list[str]
    due_at: AwareDatetime


class PostVariant(BaseModel):
    """What differs on one network: own caption, format (feed, story, reel...), title, comment,
    and a thread's further parts.

    Unset fields fall back on the post (its text) or the network's default (a feed post,
    no title, no first comment).
    """

    text: str | None = None
    format: str | None = None
    title: str | None = None
    first_comment: str | None = None
    thread: list[str] = Field(
        default_factory=list, description="A thread's parts after the caption, in order."
    )


class ReviewEntry(BaseModel):
    """One step of a post's approval history: who did what, when, and why."""

    at: datetime
    by: str
    action: str = Field(description="submitted, approved, changes_requested, commented, ...")
    comment: str | None = None


class Post(BaseModel):
    """A piece of content for one or more accounts."""

    id: str
    workspace_id: str
    text: str
    link: str | None = None
    media_ids: list[str] = Field(default_factory=list)
    scheduled_at: AwareDatetime | None
    status: PostStatus
    targets: list[Target]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = Field(default=1, ge=1)
    label_ids: list[str] = Field(default_factory=list)
    review: list[ReviewEntry] = Field(default_factory=list)
    retries: int = Field(default=0, ge=0, description="How many times failed targets were retried.")
    recurrence: Recurrence | None = None
    evergreen: Evergreen | None = None
    dispatches: list[DispatchRecord] = Field(
        default_factory=list, description="The latest occurrences fired, with their lateness."
    )
    emit_pending: bool = Field(
        default=False, description="Dispatched, but its events may not be in the outbox yet."
    )
    dispatch_token: str | None = None
    applied_events: list[str] = Field(
        default_factory=list,
        description="Ids of the latest delivery outcomes applied, so a repeat is skipped.",
    )
    retry_pending: RetryBatch | None = Field(
        default=None, description="A retry whose events may not be in the outbox yet."
    )
    media_kinds: list[str] = Field(
        default_factory=list, description="Kind of each of media_ids (image, video), in order."
    )
    variants: dict[str, PostVariant] = Field(
        default_factory=dict, description="Per-network differences, keyed by network name."
    )
    trace_context: dict[str, str] = Field(
        default_factory=dict,
        description="W3C trace headers of the request that scheduled it; dispatch continues it.",
    )

    @property
    def occurrence(self) -> str:
        """The occurrence key of a one-off post: its due time."""
        return self.scheduled_at.isoformat() if self.scheduled_at else "now"

    @property
    def locked(self) -> bool:
        """After dispatch a post can no longer be edited or cancelled."""
        return self.status not in EDITABLE


def resolve_local_time(at: datetime, zone_name: str | None) -> datetime:
    """An aware time from what a person typed: an offset, or a wall-clock time in a zone.

    A wall-clock time that does not exist in the zone (the hour skipped when clocks go
    forward) is refused, and one that happens twice (when clocks go back) needs an
    explicit offset to say which.
    """
    if at.tzinfo is not None and at.utcoffset() is not None:
        return at
    if not zone_name:
        raise InvalidSchedule(
            "scheduled_at needs a timezone offset (2026-05-01T09:00:00+07:00) "
            "or a timezone (e.g. Asia/Jakarta)"
        )
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidSchedule(f"unknown time zone {zone_name!r}; use an IANA name") from err
    first, second = at.replace(tzinfo=zone, fold=0), at.replace(tzinfo=zone, fold=1)
    wall = at.strftime("%Y-%m-%d %H:%M")
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != at:
        raise InvalidSchedule(
            f"{wall} does not exist in {zone_name}: the clocks skip that hour; pick another time"
        )
    if first.utcoffset() != second.utcoffset():
        raise InvalidSchedule(
            f"{wall} happens twice in {zone_name} (the clocks go back): "
            f"add the offset, {first.isoformat()} or {second.isoformat()}"
        )
    return first


def check_schedule(at: datetime, *, now: datetime, min_lead: timedelta) -> None:
    """A scheduled time must be timezone-aware and far enough in the future."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidSchedule(
            "scheduled_at needs a timezone offset, e.g. 2026-05-01T09:00:00+07:00"
        )
    if at < now + min_lead:
        raise InvalidSchedule(
            f"scheduled_at {at.isoformat()} is in the past; "
            f"it must be at least {min_lead.total_seconds():g}s from now"
        )


def rollup_status(targets: list[Target]) -> PostStatus:
    """The post's status from its targets' outcomes."""
    states = {t.status for t in targets}
    if states == {TargetStatus.PUBLISHED}:
        return PostStatus.PUBLISHED
    if states <= {TargetStatus.PUBLISHED, TargetStatus.FAILED}:
        if TargetStatus.PUBLISHED in states:
            return PostStatus.PARTIALLY_PUBLISHED
        return PostStatus.FAILED
    if TargetStatus.SCHEDULED in states and not states & {
        TargetStatus.DISPATCHED,
        TargetStatus.PUBLISHED,
        TargetStatus.FAILED,
    }:
        return PostStatus.SCHEDULED
    return PostStatus.DISPATCHED


def status_after_outcome(post: Post, targets: list[Target]) -> PostStatus:
    """A post's status once an outcome is applied to ``targets``.

    A repeating post that is waiting for its next occurrence stays scheduled whatever
    the last occurrence did, or it would never fire again.
    """
    if post.status is PostStatus.SCHEDULED and (post.recurrence or post.evergreen):
        return PostStatus.SCHEDULED
    return rollup_status(targets)


KEEP_APPLIED = 200
"""How many outcome ids a post remembers; older repeats fall back on the processed marks."""


class Outcome(BaseModel):
    """What one delivery outcome (``post.published`` or ``post.failed``) says of a target."""

    event_id: str
    account_id: str
    published: bool
    network_post_id: str | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    reason: str | None = None
    warnings: list[str] = Field(default_factory=list)


def _target_after(target: Target, outcome: Outcome) -> Target:
    if target.account_id != outcome.account_id:
        return target
    if outcome.published:
        return target.model_copy(
            update={
                "status": TargetStatus.PUBLISHED,
                "network_post_id": outcome.network_post_id,
                "permalink": outcome.permalink,
                "published_at": outcome.published_at,
                "error": None,
                "warnings": outcome.warnings,
            }
        )
    if target.status is TargetStatus.PUBLISHED:
        return target  # a late failure never overrides a success
    return target.model_copy(
        update={"status": TargetStatus.FAILED, "error": outcome.reason, "warnings": []}
    )


def outcome_applied(post: Post, outcome: Outcome, *, now: datetime) -> Post | None:
    """The post with ``outcome`` applied to its target, or None if it was applied before.

    The outcome's id is remembered on the post (the latest ``KEEP_APPLIED``), so the
    post write itself is idempotent: a redelivery, or the same event handled by two
    replicas at once, changes the post once.
    """
    if outcome.event_id in post.applied_events:
        return None
    targets = [_target_after(t, outcome) for t in post.targets]
    return post.model_copy(
        update={
            "targets": targets,
            "status": status_after_outcome(post, targets),
            "applied_events": [*post.applied_events, outcome.event_id][-KEEP_APPLIED:],
            "version": post.version + 1,
            "updated_at": now,
        }
    )
