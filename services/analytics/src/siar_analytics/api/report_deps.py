"""Dependencies of the report, research and export routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from siar_analytics.monthly import MonthlyReports
from siar_analytics.report_service import ReportService, Scope
from siar_analytics.research_service import ResearchService


def get_reports(request: Request) -> ReportService:
    """The report service wired at start-up."""
    service: ReportService = request.app.state.reports
    return service


def get_research(request: Request) -> ResearchService:
    """The research service wired at start-up."""
    service: ResearchService = request.app.state.research
    return service


def get_monthly(request: Request) -> MonthlyReports:
    """Branding, PDFs and monthly reports, wired at start-up."""
    service: MonthlyReports = request.app.state.monthly
    return service


def get_scope(
    account_id: Annotated[str | None, Query(max_length=100, description="One account.")] = None,
    network: Annotated[str | None, Query(max_length=40, description="One network.")] = None,
) -> Scope:
    """What a report covers: the whole workspace unless an account or network is given."""
    return Scope(account_id=account_id, network=network)


Reports = Annotated[ReportService, Depends(get_reports)]
Research = Annotated[ResearchService, Depends(get_research)]
Monthly = Annotated[MonthlyReports, Depends(get_monthly)]
ReportScope = Annotated[Scope, Depends(get_scope)]
Start = Annotated[date, Query(alias="from", description="First day (UTC), inclusive.")]
End = Annotated[date, Query(alias="to", description="Last day (UTC), inclusive.")]
TimeZone = Annotated[
    str, Query(alias="tz", max_length=64, description="IANA zone for hours and the heatmap.")
]
CSV = "text/csv; charset=utf-8"


def attachment(name: str, start: date, end: date, ext: str = "csv") -> dict[str, str]:
    """A Content-Disposition header that saves the export under a telling name."""
    return {"content-disposition": f'attachment; filename="{name}-{start}-{end}.{ext}"'}
