"""The workspace's outbound webhook (where Siar reports problems, e.g. an account to reconnect)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_vault import workspace_webhook
from siar_vault.api.deps import Service

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["workspaces"])


class WebhookSet(BaseModel):
    """A URL that receives Slack-compatible JSON, signed with ``secret`` (HMAC-SHA256)."""

    model_config = ConfigDict(extra="forbid")
    url: HttpUrl
    secret: SecretStr = Field(min_length=16, max_length=200)


class WebhookPublic(BaseModel):
    """The webhook as shown: never its secret."""

    url: str | None


@router.put("/webhook", summary="Set the workspace's webhook")
async def put_webhook(
    ws: str,
    body: WebhookSet,
    service: Service,
    principal: Annotated[Principal, require(Permission.WORKSPACE_MANAGE)],
) -> WebhookPublic:
    await workspace_webhook.set_webhook(service, ws, str(body.url), body.secret.get_secret_value())
    await service.audit(ws, principal.subject, "webhook.set", ws, {"url": str(body.url)})
    return WebhookPublic(url=str(body.url))


@router.get("/webhook", summary="The workspace's webhook URL")
async def get_webhook(
    ws: str,
    service: Service,
    _: Annotated[Principal, require(Permission.WORKSPACE_MANAGE)],
) -> WebhookPublic:
    target = await workspace_webhook.webhook_target(service, ws)
    return WebhookPublic(url=target[0] if target else None)


@router.delete("/webhook", status_code=204, summary="Remove the workspace's webhook")
async def delete_webhook(
    ws: str,
    service: Service,
    principal: Annotated[Principal, require(Permission.WORKSPACE_MANAGE)],
) -> Response:
    await workspace_webhook.set_webhook(service, ws, None, None)
    await service.audit(ws, principal.subject, "webhook.removed", ws)
    return Response(status_code=204)
