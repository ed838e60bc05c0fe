"""Dependencies of the workflow routes: the wired workflow and what the caller may do."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from siar.runtime.auth import Principal
from siar.runtime.roles import Permission, allows
from siar_scheduler.workflow import Workflow


def get_workflow(request: Request) -> Workflow:
    """The workflow wired at start-up."""
    workflow: Workflow = request.app.state.workflow
    return workflow


WorkflowDep = Annotated[Workflow, Depends(get_workflow)]


def can(principal: Principal, workspace_id: str, permission: Permission) -> bool:
    """Whether the caller's role (and API key, if any) allows ``permission`` here."""
    role = principal.role_in(workspace_id)
    if role is None or not allows(role, permission):
        return False
    return not principal.scopes or permission.value in principal.scopes


async def may_schedule(workflow: Workflow, principal: Principal, workspace_id: str) -> bool:
    """Whether the caller may schedule directly (see :meth:`Workflow.may_schedule`)."""
    return await workflow.may_schedule(
        workspace_id,
        can_publish=can(principal, workspace_id, Permission.POSTS_PUBLISH),
        can_write=can(principal, workspace_id, Permission.POSTS_WRITE),
    )


async def require_scheduling(workflow: Workflow, principal: Principal, workspace_id: str) -> None:
    """Refuse (403) a caller who must ask for approval instead of scheduling."""
    await workflow.require_scheduling(
        workspace_id,
        can_publish=can(principal, workspace_id, Permission.POSTS_PUBLISH),
        can_write=can(principal, workspace_id, Permission.POSTS_WRITE),
    )
