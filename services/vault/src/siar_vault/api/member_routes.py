"""Adding, re-roling and removing members (owner rules in :mod:`siar_vault.members`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_vault.api.deps import Members, Service
from siar_vault.api.schemas import MemberAdd, MemberPublic

router = APIRouter(tags=["workspaces"])
Manager = Annotated[Principal, require(Permission.MEMBERS_MANAGE)]


@router.post("/v1/workspaces/{ws}/members", status_code=201, summary="Add or re-role a member")
async def add_member(
    ws: str, body: MemberAdd, service: Service, members: Members, principal: Manager
) -> MemberPublic:
    membership = await members.set_role(
        workspace_id=ws, actor_id=principal.subject, email=body.email, role=body.role
    )
    await service.audit(
        ws, principal.subject, "member.added", membership.user_id, {"role": membership.role}
    )
    return MemberPublic(user_id=membership.user_id, role=membership.role)


@router.delete("/v1/workspaces/{ws}/members/{user_id}", status_code=204, summary="Remove a member")
async def remove_member(
    ws: str,
    user_id: Annotated[str, Path(max_length=100)],
    service: Service,
    members: Members,
    principal: Manager,
) -> Response:
    role = await members.remove(workspace_id=ws, actor_id=principal.subject, user_id=user_id)
    await service.audit(ws, principal.subject, "member.removed", user_id, {"role": role})
    return Response(status_code=204)
