"""Inviting people to a workspace by link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from siar.runtime.auth import CurrentPrincipal, Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission, Role
from siar_vault.api.deps import Members, Service
from siar_vault.domain import normalise_email
from siar_vault.invitations import Invitation, Invitations

router = APIRouter(tags=["workspaces"])


class InvitationCreate(BaseModel):
    """Invite someone with a role; optionally only a given e-mail may accept."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    email: str | None = Field(default=None, max_length=254)
    expires_in_hours: int = Field(default=72, ge=1, le=24 * 30)


class InvitationPublic(BaseModel):
    """An invitation; ``token`` and ``accept_path`` appear only when it is created."""

    id: str
    role: Role
    email: str | None
    expires_at: datetime
    accepted_by: str | None
    revoked: bool
    token: str | None = None
    accept_path: str | None = None


def _public(inv: Invitation, token: str | None = None) -> InvitationPublic:
    return InvitationPublic(
        id=inv.id,
        role=inv.role,
        email=inv.email,
        expires_at=datetime.fromtimestamp(inv.expires_ts, UTC),
        accepted_by=inv.accepted_by,
        revoked=inv.revoked,
        token=token,
        accept_path=f"/v1/invitations/{token}:accept" if token else None,
    )


def _invitations(request: Request) -> Invitations:
    invitations: Invitations = request.app.state.invitations
    return invitations


@router.post("/v1/workspaces/{ws}/invitations", status_code=201, summary="Invite by link")
async def invite(
    ws: str,
    body: InvitationCreate,
    request: Request,
    members: Members,
    principal: Annotated[Principal, require(Permission.MEMBERS_MANAGE)],
) -> InvitationPublic:
    email = normalise_email(body.email) if body.email else None
    await members.check_invite(workspace_id=ws, actor_id=principal.subject, role=body.role)
    inv, token = await _invitations(request).create(
        workspace_id=ws,
        role=body.role,
        email=email,
        ttl_s=body.expires_in_hours * 3600,
        by=principal.subject,
    )
    return _public(inv, token)


@router.get("/v1/workspaces/{ws}/invitations", summary="Open and used invitations")
async def list_invitations(
    ws: str,
    request: Request,
    _: Annotated[Principal, require(Permission.MEMBERS_MANAGE)],
) -> list[InvitationPublic]:
    return [_public(i) for i in await _invitations(request).list(ws)]


@router.delete("/v1/workspaces/{ws}/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(
    ws: str,
    invitation_id: str,
    request: Request,
    _: Annotated[Principal, require(Permission.MEMBERS_MANAGE)],
) -> Response:
    await _invitations(request).revoke(ws, invitation_id)
    return Response(status_code=204)


@router.post("/v1/invitations/{token}:accept", summary="Accept an invitation (signed in)")
async def accept_invitation(
    token: str, request: Request, principal: CurrentPrincipal, service: Service, members: Members
) -> InvitationPublic:
    if principal.kind != "user" or principal.scopes:
        raise Problem(403, "forbidden", "Not allowed", "sign in as a person to accept")
    user = await service.store.user_by_id(principal.subject)
    if user is None:
        raise Problem(401, "unauthorized", "Authentication required", "user no longer exists")
    inv = await _invitations(request).redeem(token, user_id=user.id, email=user.email)
    await members.join(
        workspace_id=inv.workspace_id, user_id=user.id, role=inv.role, invited_by=inv.created_by
    )
    await service.audit(inv.workspace_id, user.id, "member.joined", user.id, {"role": inv.role})
    return _public(inv)
