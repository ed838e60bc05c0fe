"""The analytics HTTP routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from siar.runtime.auth import Principal, require
from siar.runtime.problems import ErrorMap
from siar.runtime.roles import Permission
from siar_analytics import errors
from siar_analytics.api.deps import Service
from siar_analytics.domain import ActivitySummary

router = APIRouter(prefix="/v1/workspaces/{ws}/reports", tags=["reports"])

ERRORS: ErrorMap = {errors.InvalidRange: (422, "invalid-range", "Invalid date range")}


@router.get("/activity", summary="Posts published/failed and messages received, by period")
async def activity(
    ws: str,
    service: Service,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    _: Annotated[Principal, require(Permission.REPORTS_READ)],
) -> ActivitySummary:
    return await service.summary(ws, start, end)
