"""Connecting accounts through the networks' OAuth 2.0 consent screens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_vault.api.routes import account_public
from siar_vault.api.schemas import AccountPublic
from siar_vault.oauth_flow import OAuthFlows

router = APIRouter(tags=["accounts"])


class AuthorizeRequest(BaseModel):
    """Which network to connect, and where the network sends the person back."""

    model_config = ConfigDict(extra="forbid")
    network: str = Field(min_length=1, max_length=40)
    redirect_uri: HttpUrl


class AuthorizeResponse(BaseModel):
    """Open ``authorize_url`` in the person's browser before ``expires_at``."""

    authorize_url: str
    expires_at: datetime


def _flows(request: Request) -> OAuthFlows:
    flows: OAuthFlows = request.app.state.oauth_flows
    return flows


@router.post(
    "/v1/workspaces/{ws}/accounts:authorize",
    summary="Start connecting an account with the network's consent screen",
)
async def authorize(
    ws: str,
    body: AuthorizeRequest,
    request: Request,
    principal: Annotated[Principal, require(Permission.ACCOUNTS_MANAGE)],
) -> AuthorizeResponse:
    started = await _flows(request).start(
        workspace_id=ws,
        user_id=principal.subject,
        network=body.network,
        redirect_uri=str(body.redirect_uri),
    )
    return AuthorizeResponse(
        authorize_url=started.authorize_url,
        expires_at=datetime.fromtimestamp(started.expires_ts, UTC),
    )


@router.get(
    "/v1/oauth/callback/{network}",
    status_code=201,
    summary="Where the network sends the person back; the state proves the flow",
)
async def callback(
    network: str,
    request: Request,
    state: Annotated[str, Query(min_length=10, max_length=200)],
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
) -> AccountPublic:
    account = await _flows(request).finish(
        network=network,
        state=state,
        code=code,
        error=error,
        error_description=error_description,
    )
    return account_public(account)
