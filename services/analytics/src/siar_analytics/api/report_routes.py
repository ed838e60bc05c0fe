"""Report routes: the overview of a workspace, an account or a network; the agency view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response

from siar.runtime.auth import CurrentPrincipal, Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission, allows
from siar_analytics.api.report_deps import (
    CSV,
    End,
    Reports,
    ReportScope,
    Start,
    TimeZone,
    attachment,
)
from siar_analytics.exports_csv import agency_csv
from siar_analytics.report_service import AgencyReport, Overview

router = APIRouter(tags=["reports"])


@router.get(
    "/v1/workspaces/{ws}/reports/overview",
    summary="Performance of the workspace, one account or one network, vs the previous period",
)
async def overview(
    ws: str,
    reports: Reports,
    start: Start,
    end: End,
    scope: ReportScope,
    _: Annotated[Principal, require(Permission.REPORTS_READ)],
    tz: TimeZone = "UTC",
) -> Overview:
    return await reports.overview(ws, start, end, scope, tz)


def readable_workspaces(principal: Principal) -> list[str]:
    """The workspaces whose reports the caller may read (an API key's scope included)."""
    if principal.kind != "user":
        raise Problem(403, "forbidden", "Not allowed", "the agency view is for people")
    if principal.scopes and Permission.REPORTS_READ.value not in principal.scopes:
        raise Problem(403, "forbidden", "Not allowed", "this API key does not allow reports.read")
    return [ws for ws, role in principal.roles.items() if allows(role, Permission.REPORTS_READ)]


@router.get("/v1/reports/agency", summary="Headline figures of every client workspace you can read")
async def agency(
    reports: Reports, start: Start, end: End, principal: CurrentPrincipal
) -> AgencyReport:
    return await reports.agency(readable_workspaces(principal), start, end)


@router.get(
    "/v1/reports/agency.csv",
    summary="The agency view as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def agency_export(
    reports: Reports, start: Start, end: End, principal: CurrentPrincipal
) -> Response:
    report = await reports.agency(readable_workspaces(principal), start, end)
    return Response(agency_csv(report), media_type=CSV, headers=attachment("agency", start, end))
