"""Wiring of reports, research and exports into the analytics app (called by main)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI

from siar.contracts import ConversationUpdated, Event, MessageReceived, PostPublished, PostScheduled
from siar.runtime.app import Runtime
from siar.runtime.problems import ErrorMap
from siar.runtime.sealing import sealing_key
from siar_analytics import errors
from siar_analytics.api.export_routes import router as export_router
from siar_analytics.api.report_routes import router as report_router
from siar_analytics.api.research_routes import router as research_router
from siar_analytics.inbox_stats import INBOX_INDEXES
from siar_analytics.monthly import MONTHLY_INDEXES, SEALING_PURPOSE, MonthlyReports
from siar_analytics.post_catalog import CATALOG_INDEXES
from siar_analytics.post_scores import SCORE_INDEXES
from siar_analytics.report_service import ReportService
from siar_analytics.research_service import ResearchService
from siar_analytics.research_store import RESEARCH_INDEXES, ResearchStore
from siar_analytics.score_backfill import run_backfill
from siar_analytics.settings import Settings

Handler = Callable[[Any], Awaitable[None]]

REPORT_INDEXES = (
    *CATALOG_INDEXES,
    *SCORE_INDEXES,
    *INBOX_INDEXES,
    *RESEARCH_INDEXES,
    *MONTHLY_INDEXES,
)
REPORT_ROUTERS: list[APIRouter] = [report_router, research_router, export_router]
REPORT_ERRORS: ErrorMap = {
    errors.InvalidResearchItem: (422, "invalid-research-item", "Invalid research item"),
    errors.ResearchUnsupported: (422, "research-unsupported", "Network offers no research"),
    errors.TooManyItems: (409, "too-many-items", "Too many tracked items"),
    errors.NotFound: (404, "not-found", "Not found"),
    errors.InvalidReportRequest: (422, "invalid-report-request", "Invalid report request"),
}


def start_reports(app: FastAPI, runtime: Runtime, settings: Settings) -> None:
    """Create the report, research and monthly services (on start-up)."""
    app.state.reports = ReportService(
        db=runtime.db, uow=runtime.uow, max_range_days=settings.max_range_days
    )
    app.state.research = ResearchService(
        store=ResearchStore(runtime.db),
        vault=runtime.vault_client("analytics"),
        connectors=runtime.connectors(),
        poll_interval_s=settings.research_poll_s,
        max_range_days=settings.max_range_days,
    )
    key = sealing_key(settings.service_secret.get_secret_value(), SEALING_PURPOSE)
    app.state.monthly = MonthlyReports(runtime.db, app.state.reports, runtime.http, key)


def spawn_report_loops(app: FastAPI, runtime: Runtime, settings: Settings) -> None:
    """Run the research collector and the monthly reports (once the broker runs)."""
    research: ResearchService = app.state.research
    monthly: MonthlyReports = app.state.monthly
    runtime.spawn("research", lambda: research.run(settings.research_tick_s), research.stop)
    runtime.spawn("monthly", lambda: monthly.run(settings.monthly_tick_s), monthly.stop)
    runtime.spawn("scores-backfill", lambda: run_backfill(runtime.db), lambda: None)


def report_handlers(reports: Callable[[], ReportService], group: str) -> dict[type[Event], Handler]:
    """Kafka handlers that keep the post catalog and the inbox roll-ups."""

    async def ingest(event: Any) -> None:
        await reports().ingest(event, group)

    return dict.fromkeys(
        (PostScheduled, PostPublished, MessageReceived, ConversationUpdated), ingest
    )


def merge_handlers(*maps: Mapping[type[Event], Handler]) -> dict[type[Event], Handler]:
    """One handler per event type, running every given handler of that type in order."""
    chains: dict[type[Event], list[Handler]] = {}
    for handlers in maps:
        for model, handler in handlers.items():
            chains.setdefault(model, []).append(handler)

    def chain(steps: list[Handler]) -> Handler:
        async def run(event: Any) -> None:
            for step in steps:
                await step(event)

        return run

    return {model: steps[0] if len(steps) == 1 else chain(steps) for model, steps in chains.items()}
