"""The publisher's HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_publisher.api.deps import Service
from siar_publisher.domain import Delivery

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["deliveries"])


class DeliveryList(BaseModel):
    """Delivery attempts, newest first."""

    items: list[Delivery]


@router.get("/deliveries", summary="Delivery attempts per post, with timings and errors")
async def list_deliveries(
    ws: str,
    service: Service,
    _: Annotated[Principal, require(Permission.POSTS_READ)],
    post_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    return DeliveryList(items=await service.deliveries(ws, post_id=post_id, limit=limit))
