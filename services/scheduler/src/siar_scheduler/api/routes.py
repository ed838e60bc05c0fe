"""The scheduler's HTTP routes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from siar.runtime.auth import Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission
from siar_scheduler.api.deps import Service
from siar_scheduler.api.filters import CalendarQuery, for_caller
from siar_scheduler.api.queue_routes import TimingDep
from siar_scheduler.api.schemas import PostCreate, PostList, PostPublic, PostUpdate
from siar_scheduler.api.workflow_deps import WorkflowDep, may_schedule, require_scheduling
from siar_scheduler.domain import Post, resolve_local_time
from siar_scheduler.variants import stored_variants

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["posts"])

MAX_RANGE = timedelta(days=366)
MAX_PAGE = 10_000  # a busy month (50 accounts, ~6,000 posts) fits in one answer


def _public(post: Post) -> PostPublic:
    return PostPublic.model_validate(post.model_dump())


@router.post("/posts", status_code=201, summary="Create a post (scheduled or draft)")
async def create_post(
    ws: str,
    body: PostCreate,
    service: Service,
    workflow: WorkflowDep,
    timing: TimingDep,
    principal: Annotated[Principal, require(Permission.POSTS_WRITE)],
) -> PostPublic:
    if body.has_time and not body.draft:
        await require_scheduling(workflow, principal, ws)
    at = resolve_local_time(body.scheduled_at, body.timezone) if body.scheduled_at else None
    when = await timing.resolve(ws, body.account_ids, body.when(at))
    post = await service.create_post(
        workspace_id=ws,
        author=principal.subject,
        text=body.text,
        account_ids=body.account_ids,
        scheduled_at=when.scheduled_at,
        link=body.link,
        media_ids=body.media_ids,
        draft=body.draft,
        label_ids=body.label_ids,
        repeat=when.repeat,
        immediate=when.immediate,
        variants=stored_variants(body.variants),
    )
    return _public(post)


def check_range(start: datetime, end: datetime) -> None:
    """Refuse an empty, reversed or over-long calendar range."""
    if end <= start:
        raise Problem(422, "invalid-range", "Invalid date range", "'to' must be after 'from'")
    if end - start > MAX_RANGE:
        raise Problem(422, "invalid-range", "Invalid date range", "at most 366 days at once")


@router.get("/posts", summary="Posts in a date range with filters: the calendar")
async def list_posts(
    ws: str,
    workflow: WorkflowDep,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
    where: CalendarQuery,
    principal: Annotated[Principal, require(Permission.POSTS_READ)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
) -> PostList:
    check_range(start, end)
    posts = await workflow.calendar.find(
        ws, start=start, end=end, where=for_caller(where, principal, ws), limit=limit
    )
    return PostList(items=[_public(p) for p in posts])


@router.get("/posts:unscheduled", summary="Drafts and ideas with no time yet, newest first")
async def list_unscheduled(
    ws: str,
    workflow: WorkflowDep,
    where: CalendarQuery,
    principal: Annotated[Principal, require(Permission.POSTS_READ)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
) -> PostList:
    posts = await workflow.calendar.unscheduled(
        ws, where=for_caller(where, principal, ws), limit=limit
    )
    return PostList(items=[_public(p) for p in posts])


@router.get("/posts/{post_id}", summary="One post")
async def get_post(
    ws: str, post_id: str, service: Service, _: Annotated[Principal, require(Permission.POSTS_READ)]
) -> PostPublic:
    return _public(await service.get_post(ws, post_id))


@router.patch("/posts/{post_id}", summary="Edit or move a post before dispatch")
async def edit_post(
    ws: str,
    post_id: str,
    body: PostUpdate,
    service: Service,
    workflow: WorkflowDep,
    principal: Annotated[Principal, require(Permission.POSTS_WRITE)],
) -> PostPublic:
    scheduling = await may_schedule(workflow, principal, ws)
    post = await service.edit_post(
        workspace_id=ws,
        post_id=post_id,
        text=body.text,
        scheduled_at=body.scheduled_at,
        label_ids=body.label_ids,
        may_schedule=scheduling,
        rereview_by=None if scheduling else principal.subject,
        variants=stored_variants(body.variants),
    )
    return _public(post)


@router.delete("/posts/{post_id}", status_code=204, summary="Cancel a post before dispatch")
async def delete_post(
    ws: str,
    post_id: str,
    service: Service,
    _: Annotated[Principal, require(Permission.POSTS_WRITE)],
) -> Response:
    await service.delete_post(workspace_id=ws, post_id=post_id)
    return Response(status_code=204)
