"""Approval steps of a post (submit, approve, reject, comment), its retry, and the review queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_scheduler.api.schemas import PostList, PostPublic
from siar_scheduler.api.workflow_deps import WorkflowDep, can, require_scheduling
from siar_scheduler.api.workflow_schemas import Approval, ChangesRequest, ReviewStep
from siar_scheduler.domain import Post
from siar_scheduler.errors import NotAllowed
from siar_scheduler.failures import retry_failed

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["approvals"])
# Who may call a route: a member whose role grants the permission (non-members get 404).
Reader = Annotated[Principal, require(Permission.POSTS_READ)]
Writer = Annotated[Principal, require(Permission.POSTS_WRITE)]
Approver = Annotated[Principal, require(Permission.POSTS_APPROVE)]


def _public(post: Post) -> PostPublic:
    return PostPublic.model_validate(post.model_dump())


@router.get("/approvals", summary="Posts awaiting approval, soonest first")
async def awaiting(ws: str, workflow: WorkflowDep, _: Reader) -> PostList:
    return PostList(items=[_public(p) for p in await workflow.calendar.awaiting_approval(ws)])


@router.post("/posts/{post_id}:submit", summary="Ask for approval of a draft")
async def submit(
    ws: str,
    post_id: str,
    body: ReviewStep,
    workflow: WorkflowDep,
    principal: Writer,
) -> PostPublic:
    post = await workflow.approvals.submit(ws, post_id, by=principal.subject, comment=body.comment)
    return _public(post)


@router.post("/posts/{post_id}:approve", summary="Approve a post in review: it is scheduled")
async def approve(
    ws: str,
    post_id: str,
    body: Approval,
    workflow: WorkflowDep,
    principal: Approver,
) -> PostPublic:
    post = await workflow.approvals.approve(
        ws, post_id, by=principal.subject, comment=body.comment, scheduled_at=body.scheduled_at
    )
    return _public(post)


@router.post("/posts/{post_id}:reject", summary="Request changes to a post in review")
async def reject(
    ws: str,
    post_id: str,
    body: ChangesRequest,
    workflow: WorkflowDep,
    principal: Approver,
) -> PostPublic:
    post = await workflow.approvals.reject(ws, post_id, by=principal.subject, comment=body.comment)
    return _public(post)


@router.post("/posts/{post_id}:comment", summary="Comment on a post's review")
async def comment(
    ws: str,
    post_id: str,
    body: ChangesRequest,
    workflow: WorkflowDep,
    principal: Reader,
) -> PostPublic:
    if not (
        can(principal, ws, Permission.POSTS_WRITE) or can(principal, ws, Permission.POSTS_APPROVE)
    ):
        raise NotAllowed("commenting needs posts.write or posts.approve")
    post = await workflow.approvals.comment(ws, post_id, by=principal.subject, comment=body.comment)
    return _public(post)


@router.post("/posts/{post_id}:retry", summary="Deliver a post's failed accounts again, once")
async def retry(
    ws: str,
    post_id: str,
    workflow: WorkflowDep,
    principal: Writer,
) -> PostPublic:
    await require_scheduling(workflow, principal, ws)
    post = await retry_failed(workflow.posts, ws, post_id, by=principal.subject)
    return _public(post)
