"""The signed-in user's own security settings: two-factor sign-in and API keys."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from siar.runtime.auth import CurrentPrincipal
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission
from siar_vault.api.deps import Service
from siar_vault.apikeys import ApiKey

router = APIRouter(prefix="/v1/me", tags=["users"])


class TotpEnrolment(BaseModel):
    """Shown once: add it to an authenticator app, then confirm with a code."""

    secret: str
    otpauth_uri: str


class TotpCode(BaseModel):
    """A six-digit code from the authenticator app."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\d{6}$")


def _user(principal: CurrentPrincipal) -> str:
    if principal.kind != "user":
        raise Problem(403, "forbidden", "Not allowed", "only users have two-factor settings")
    return principal.subject


@router.post("/totp", status_code=201, summary="Start two-factor enrolment")
async def begin_totp(principal: CurrentPrincipal, service: Service) -> TotpEnrolment:
    user = await service.store.user_by_id(_user(principal))
    if user is None:
        raise Problem(401, "unauthorized", "Authentication required", "user no longer exists")
    enrolment = await service.two_factor.begin(user.id, user.email)
    return TotpEnrolment(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@router.post("/totp:confirm", status_code=204, summary="Turn two-factor sign-in on")
async def confirm_totp(body: TotpCode, principal: CurrentPrincipal, service: Service) -> Response:
    await service.two_factor.confirm(_user(principal), body.code)
    return Response(status_code=204)


@router.post("/totp:disable", status_code=204, summary="Turn two-factor sign-in off")
async def disable_totp(body: TotpCode, principal: CurrentPrincipal, service: Service) -> Response:
    await service.two_factor.disable(_user(principal), body.code)
    return Response(status_code=204)


class ApiKeyCreate(BaseModel):
    """A new API key, limited to some permissions (and optionally workspaces)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    permissions: list[Permission] = Field(min_length=1)
    workspace_ids: list[str] = Field(default_factory=list, max_length=500)
    expires_in_days: int = Field(default=90, ge=1, le=366)


class ApiKeyPublic(BaseModel):
    """A key as listed; ``key`` is present only in the answer that created it."""

    id: str
    name: str
    permissions: list[Permission]
    workspace_ids: list[str]
    expires_at: datetime
    revoked: bool
    key: str | None = None


def _public(key: ApiKey, full: str | None = None) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id,
        name=key.name,
        permissions=list(key.permissions),
        workspace_ids=list(key.workspace_ids),
        expires_at=datetime.fromtimestamp(key.expires_ts, UTC),
        revoked=key.revoked,
        key=full,
    )


@router.post("/api-keys", status_code=201, summary="Create an API key (shown once)")
async def create_api_key(
    body: ApiKeyCreate, principal: CurrentPrincipal, service: Service
) -> ApiKeyPublic:
    user_id = _user(principal)
    if principal.scopes:
        raise Problem(403, "forbidden", "Not allowed", "an API key cannot create API keys")
    outside = [ws for ws in body.workspace_ids if ws not in principal.roles]
    if outside:
        raise Problem(404, "not-found", "workspace not found", ", ".join(outside))
    key, full = await service.api_keys.create(
        user_id=user_id,
        name=body.name,
        permissions=body.permissions,
        workspace_ids=body.workspace_ids,
        expires_in_days=body.expires_in_days,
    )
    return _public(key, full)


@router.get("/api-keys", summary="The user's API keys (never their secrets)")
async def list_api_keys(principal: CurrentPrincipal, service: Service) -> list[ApiKeyPublic]:
    return [_public(k) for k in await service.api_keys.list(_user(principal))]


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_api_key(key_id: str, principal: CurrentPrincipal, service: Service) -> Response:
    await service.api_keys.revoke(_user(principal), key_id)
    return Response(status_code=204)
