"""Queues and best times: an account's weekly posting slots, its free slots, its best hours."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from siar.contracts import utcnow
from siar.runtime.auth import Principal, require
from siar.runtime.problems import ErrorMap, install_domain_errors
from siar.runtime.roles import Permission
from siar_scheduler.errors import InvalidSchedule
from siar_scheduler.queues import MAX_SLOTS, InvalidQueue, NoQueue, QueueSchedule, Slot
from siar_scheduler.recurrence import InvalidRecurrence
from siar_scheduler.timing import Timing

router = APIRouter(prefix="/v1/workspaces/{ws}/accounts/{account_id}", tags=["queues"])


def get_timing(request: Request) -> Timing:
    """The queue and best-time use cases wired at start-up."""
    timing: Timing = request.app.state.timing
    return timing


TimingDep = Annotated[Timing, Depends(get_timing)]

TIMING_ERRORS: ErrorMap = {
    InvalidRecurrence: (422, "invalid-recurrence", "Invalid recurrence"),
    InvalidQueue: (422, "invalid-queue", "Invalid posting schedule"),
    NoQueue: (422, "no-queue-slot", "No queue slot"),
    InvalidSchedule: (422, "invalid-schedule", "Invalid schedule"),
}


def install_timing_errors(app: FastAPI) -> None:
    """Map queue and recurrence errors (found before the scheduler's own, by MRO)."""
    install_domain_errors(app, InvalidSchedule, TIMING_ERRORS)


class QueueIn(BaseModel):
    """An account's weekly posting schedule."""

    model_config = ConfigDict(extra="forbid")
    timezone: str = Field(max_length=64, examples=["Asia/Jakarta"])
    slots: list[Slot] = Field(max_length=MAX_SLOTS)


class QueueOut(QueueIn):
    """The schedule as stored, slots sorted by time of week; no slots until one is set."""

    account_id: str
    configured: bool = Field(description="False until a schedule is PUT for the account.")


class FreeSlots(BaseModel):
    """Upcoming slots of the queue no post holds yet."""

    timezone: str
    items: list[datetime]


class BestTime(BaseModel):
    """One suggested hour of the week."""

    day: str
    time: str
    hour_of_week: int
    score: float = Field(description="Decayed mean engagement rate; 0 for defaults.")
    posts: float = Field(description="Decayed number of posts behind the score.")


class BestTimes(BaseModel):
    """Suggested hours, best first; ``source`` says if they come from data or defaults."""

    timezone: str
    source: str
    items: list[BestTime]


class FillIn(BaseModel):
    """How many best hours become the queue, and optionally in which zone."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=7, ge=1, le=MAX_SLOTS)
    timezone: str | None = Field(default=None, max_length=64)


def _out(account_id: str, queue: QueueSchedule | None) -> QueueOut:
    if queue is None:
        return QueueOut(account_id=account_id, timezone="UTC", slots=[], configured=False)
    return QueueOut(
        account_id=account_id, timezone=queue.timezone, slots=queue.slots, configured=True
    )


@router.get("/queue", summary="The account's weekly posting schedule")
async def get_queue(
    ws: str,
    account_id: str,
    timing: TimingDep,
    _: Annotated[Principal, require(Permission.POSTS_READ)],
) -> QueueOut:
    return _out(account_id, await timing.queue_if_any(ws, account_id))


@router.put("/queue", summary="Set the account's weekly posting slots and time zone")
async def put_queue(
    ws: str,
    account_id: str,
    body: QueueIn,
    timing: TimingDep,
    _: Annotated[Principal, require(Permission.POSTS_PUBLISH)],
) -> QueueOut:
    return _out(account_id, await timing.set_queue(ws, account_id, body.timezone, body.slots))


@router.get("/queue/slots", summary="Upcoming free slots of the queue")
async def free_slots(
    ws: str,
    account_id: str,
    timing: TimingDep,
    _: Annotated[Principal, require(Permission.POSTS_READ)],
    count: Annotated[int, Query(ge=1, le=100)] = 10,
) -> FreeSlots:
    queue = await timing.queue_if_any(ws, account_id)
    if queue is None:
        return FreeSlots(timezone="UTC", items=[])
    items = await timing.free(ws, [account_id], count, utcnow())
    return FreeSlots(timezone=queue.timezone, items=items)


@router.get("/best-times", summary="Best hours of the week to post, from engagement data")
async def best_times(
    ws: str,
    account_id: str,
    timing: TimingDep,
    _: Annotated[Principal, require(Permission.POSTS_READ)],
    count: Annotated[int, Query(ge=1, le=MAX_SLOTS)] = 7,
    timezone: Annotated[str | None, Query(max_length=64)] = None,
) -> BestTimes:
    zone, found = await timing.best_times(ws, account_id, count, timezone)
    items = [
        BestTime(
            day=(slot := s.slot()).day,
            time=slot.time,
            hour_of_week=s.hour_of_week,
            score=s.score,
            posts=s.posts,
        )
        for s in found
    ]
    source = found[0].source if found else "default"
    return BestTimes(timezone=zone, source=source, items=items)


@router.post("/queue:fill-from-best-times", summary="Make the queue the account's best hours")
async def fill_from_best_times(
    ws: str,
    account_id: str,
    body: FillIn,
    timing: TimingDep,
    _: Annotated[Principal, require(Permission.POSTS_PUBLISH)],
) -> QueueOut:
    queue = await timing.fill_queue(ws, account_id, body.count, body.timezone)
    return _out(account_id, queue)
