"""Export routes: overview CSV sections and PDF, branding, monthly reports and their files."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_analytics.api.deps import Service
from siar_analytics.api.report_deps import (
    CSV,
    End,
    Monthly,
    Reports,
    ReportScope,
    Start,
    TimeZone,
    attachment,
)
from siar_analytics.errors import InvalidReportRequest, NotFound
from siar_analytics.exports_csv import OVERVIEW_SECTIONS, activity_csv, overview_csv
from siar_analytics.monthly import (
    MAX_LOGO_BYTES,
    MonthlyFile,
    MonthlySettings,
    MonthlySettingsPublic,
)

router = APIRouter(prefix="/v1/workspaces/{ws}/reports", tags=["exports"])
PDF = "application/pdf"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
Reader = Annotated[Principal, require(Permission.REPORTS_READ)]
Manager = Annotated[Principal, require(Permission.WORKSPACE_MANAGE)]


@router.get(
    "/overview.csv",
    summary="One section of the overview as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def overview_export(
    ws: str,
    reports: Reports,
    start: Start,
    end: End,
    scope: ReportScope,
    _: Reader,
    section: Annotated[str, Query(description=", ".join(OVERVIEW_SECTIONS))] = "summary",
    tz: TimeZone = "UTC",
) -> Response:
    if section not in OVERVIEW_SECTIONS:
        raise InvalidReportRequest(
            f"unknown section {section!r}; one of: {', '.join(OVERVIEW_SECTIONS)}"
        )
    report = await reports.overview(ws, start, end, scope, tz)
    body = overview_csv(report, section)
    return Response(body, media_type=CSV, headers=attachment(section, start, end))


@router.get(
    "/activity.csv",
    summary="Posts published/failed and messages received as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def activity_export(ws: str, service: Service, start: Start, end: End, _: Reader) -> Response:
    body = activity_csv(await service.summary(ws, start, end))
    return Response(body, media_type=CSV, headers=attachment("activity", start, end))


@router.get(
    "/overview.pdf",
    summary="The overview as a client-ready PDF (logo, charts, tables, commentary)",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
)
async def overview_pdf(
    ws: str,
    monthly: Monthly,
    start: Start,
    end: End,
    scope: ReportScope,
    _: Reader,
    tz: TimeZone = "UTC",
    title: Annotated[str, Query(max_length=200)] = "Social media report",
    commentary: Annotated[str | None, Query(max_length=5000)] = None,
) -> Response:
    pdf = await monthly.render(ws, start, end, scope, tz=tz, title=title, commentary=commentary)
    return Response(pdf, media_type=PDF, headers=attachment("report", start, end, "pdf"))


@router.put("/branding/logo", status_code=204, summary="Set the logo printed on PDF reports")
async def put_logo(ws: str, request: Request, monthly: Monthly, _: Manager) -> Response:
    body = await request.body()
    if len(body) > MAX_LOGO_BYTES:
        raise InvalidReportRequest(f"a logo is at most {MAX_LOGO_BYTES // 1024} KiB")
    await monthly.set_logo(ws, request.headers.get("content-type", ""), body)
    return Response(status_code=204)


@router.get(
    "/branding/logo",
    summary="The logo printed on PDF reports",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
async def get_logo(ws: str, monthly: Monthly, _: Reader) -> Response:
    logo = await monthly.logo(ws)
    if logo is None:
        raise NotFound("logo", "this workspace has no logo")
    return Response(logo[0], media_type=logo[1])


@router.delete("/branding/logo", status_code=204, summary="Print reports without a logo")
async def delete_logo(ws: str, monthly: Monthly, _: Manager) -> Response:
    await monthly.remove_logo(ws)
    return Response(status_code=204)


@router.put("/monthly", summary="Send last month's PDF report to a webhook every month")
async def put_monthly(
    ws: str, body: MonthlySettings, monthly: Monthly, _: Manager
) -> MonthlySettingsPublic:
    return await monthly.configure(ws, body)


@router.get("/monthly", summary="The monthly report settings (never the secret)")
async def get_monthly(ws: str, monthly: Monthly, _: Reader) -> MonthlySettingsPublic:
    return await monthly.configured(ws)


@router.delete("/monthly", status_code=204, summary="Stop monthly reports")
async def delete_monthly(ws: str, monthly: Monthly, _: Manager) -> Response:
    await monthly.disable(ws)
    return Response(status_code=204)


@router.get("/monthly/files", summary="Stored monthly reports, newest first")
async def monthly_files(ws: str, monthly: Monthly, _: Reader) -> list[MonthlyFile]:
    return await monthly.stored(ws)


@router.get(
    "/monthly/files/{month}.pdf",
    summary="A stored monthly report",
    response_class=StreamingResponse,
    responses={200: {"content": {PDF: {}}}},
)
async def monthly_file(ws: str, month: str, monthly: Monthly, _: Reader) -> StreamingResponse:
    if not MONTH.match(month):
        raise InvalidReportRequest("a month is written YYYY-MM")
    chunks = await monthly.open_file(ws, month)
    return StreamingResponse(chunks, media_type=PDF)
