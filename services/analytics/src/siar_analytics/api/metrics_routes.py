"""Metric routes: an account metric's series, accounts' and posts' latest figures, audience."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_analytics.api.report_deps import End, Start
from siar_analytics.domain import check_range
from siar_analytics.rollups import Grain
from siar_analytics.series import AccountMetrics, PostMetrics, Series, SeriesPoint

router = APIRouter(prefix="/v1/workspaces/{ws}/metrics", tags=["metrics"])

MAX_HOURLY_DAYS = 31
"""An hourly series covers at most a month (744 points per account)."""


def get_series(request: Request) -> Series:
    """The metric series reader over the service's database."""
    return Series(request.app.state.runtime.db)


Reader = Annotated[Series, Depends(get_series)]
Reading = Annotated[Principal, require(Permission.REPORTS_READ)]
AccountIds = Annotated[
    list[str] | None,
    Query(alias="account_id", max_length=50, description="Accounts (repeat); all if absent."),
]


@router.get("/series", summary="One account metric per hour or UTC day (no zeros for gaps)")
async def series(
    ws: str,
    reader: Reader,
    start: Start,
    end: End,
    _: Reading,
    metric: Annotated[
        str, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="e.g. followers, reach")
    ] = "followers",
    account_ids: AccountIds = None,
    grain: Annotated[Grain, Query(description="hour or day")] = "day",
) -> list[SeriesPoint]:
    check_range(start, end, max_days=MAX_HOURLY_DAYS if grain == "hour" else 400)
    return await reader.account_series(ws, account_ids, metric, start, end, grain)


@router.get("/accounts", summary="Each account's newest metrics and audience")
async def accounts(
    ws: str, reader: Reader, _: Reading, account_ids: AccountIds = None
) -> list[AccountMetrics]:
    return await reader.account_latest(ws, account_ids)


@router.get("/posts", summary="Each post's newest metrics, optionally collected since a time")
async def posts(
    ws: str,
    reader: Reader,
    _: Reading,
    account_ids: AccountIds = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with offset.")] = None,
) -> list[PostMetrics]:
    return await reader.post_metrics_latest(ws, account_ids, since)


class AudienceView(BaseModel):
    """An account's audience shares by dimension; empty when the network gives none."""

    account_id: str
    collected_at: datetime | None = None
    dimensions: dict[str, dict[str, float]] = {}


@router.get("/accounts/{account_id}/audience", summary="Audience demographics on a day")
async def audience(
    ws: str,
    account_id: str,
    reader: Reader,
    _: Reading,
    on: Annotated[date | None, Query(description="UTC day; the newest if absent.")] = None,
) -> AudienceView:
    found = await reader.audience(ws, account_id, on)
    if found is None:
        # Not an error: many networks give no demographics, or not yet.
        return AudienceView(account_id=account_id)
    return AudienceView(**found.model_dump())
