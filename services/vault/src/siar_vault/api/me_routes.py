"""The signed-in user's own security settings: two-factor sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from siar.runtime.auth import CurrentPrincipal
from siar.runtime.problems import Problem
from siar_vault.api.deps import Service

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
