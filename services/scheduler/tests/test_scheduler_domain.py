"""Scheduler domain: schedule validation, status roll-up and the post lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from siar_scheduler.domain import (
    Post,
    PostStatus,
    Target,
    TargetStatus,
    check_schedule,
    rollup_status,
)
from siar_scheduler.errors import InvalidSchedule

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
LEAD = timedelta(seconds=30)
JAKARTA = timezone(timedelta(hours=7))


def test_naive_datetime_is_rejected_with_a_hint() -> None:
    naive = datetime(2027, 1, 1, 9, 0)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(InvalidSchedule, match="timezone offset"):
        check_schedule(naive, now=NOW, min_lead=LEAD)


@pytest.mark.parametrize(
    "at",
    [
        NOW - timedelta(days=1),
        NOW - timedelta(microseconds=1),
        NOW,
        NOW + LEAD - timedelta(microseconds=1),
        # 08:59 in Jakarta is 01:59 UTC: in the past although the wall time looks later.
        datetime(2026, 5, 1, 8, 59, tzinfo=JAKARTA),
    ],
    ids=["yesterday", "just-past", "now", "inside-lead", "past-in-other-zone"],
)
def test_past_or_too_soon_is_rejected(at: datetime) -> None:
    with pytest.raises(InvalidSchedule, match="in the past"):
        check_schedule(at, now=NOW, min_lead=LEAD)


@pytest.mark.parametrize(
    "at",
    [
        NOW + LEAD,
        NOW + timedelta(hours=1),
        NOW + timedelta(days=365),
        datetime(2026, 5, 1, 10, 0, tzinfo=JAKARTA),  # 03:00 UTC
    ],
    ids=["exactly-lead", "in-an-hour", "next-year", "future-in-other-zone"],
)
def test_future_is_accepted(at: datetime) -> None:
    check_schedule(at, now=NOW, min_lead=LEAD)


def test_zero_lead_accepts_now() -> None:
    check_schedule(NOW, now=NOW, min_lead=timedelta(0))


def targets(*states: TargetStatus) -> list[Target]:
    return [
        Target(account_id=f"acc_{i}", network="sandbox", status=state)
        for i, state in enumerate(states)
    ]


S, D, P, F = (
    TargetStatus.SCHEDULED,
    TargetStatus.DISPATCHED,
    TargetStatus.PUBLISHED,
    TargetStatus.FAILED,
)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((S,), PostStatus.SCHEDULED),
        ((S, S, S), PostStatus.SCHEDULED),
        ((D,), PostStatus.DISPATCHED),
        ((S, D), PostStatus.DISPATCHED),
        ((D, P), PostStatus.DISPATCHED),
        ((D, F), PostStatus.DISPATCHED),
        ((S, P), PostStatus.DISPATCHED),
        ((D, P, F), PostStatus.DISPATCHED),
        ((P,), PostStatus.PUBLISHED),
        ((P, P, P), PostStatus.PUBLISHED),
        ((P, F), PostStatus.PARTIALLY_PUBLISHED),
        ((F, P, P), PostStatus.PARTIALLY_PUBLISHED),
        ((F,), PostStatus.FAILED),
        ((F, F), PostStatus.FAILED),
    ],
)
def test_rollup_status(states: tuple[TargetStatus, ...], expected: PostStatus) -> None:
    assert rollup_status(targets(*states)) == expected
    assert rollup_status(targets(*reversed(states))) == expected


def post(status: PostStatus) -> Post:
    return Post(
        id="pst_1",
        workspace_id="ws_1",
        text="Launch day",
        scheduled_at=NOW + timedelta(hours=1),
        status=status,
        targets=targets(S),
        created_by="usr_1",
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("status", list(PostStatus))
def test_post_is_locked_after_dispatch(status: PostStatus) -> None:
    # Nothing has gone out before dispatch, so review states stay editable too.
    editable = {
        PostStatus.DRAFT,
        PostStatus.IN_REVIEW,
        PostStatus.CHANGES_REQUESTED,
        PostStatus.SCHEDULED,
    }
    assert post(status).locked is (status not in editable)


def test_occurrence_is_the_due_time() -> None:
    assert post(PostStatus.SCHEDULED).occurrence == "2026-05-01T03:00:00+00:00"
    assert post(PostStatus.DRAFT).model_copy(update={"scheduled_at": None}).occurrence == "now"
