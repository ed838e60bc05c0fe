"""Analytics entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from siar.runtime.app import Runtime, create_service_app, serve
from siar_analytics.api.metrics_routes import router as metrics_router
from siar_analytics.api.routes import ERRORS
from siar_analytics.api.routes import router as api_router
from siar_analytics.collector_schedule import SCHEDULE_INDEXES, CollectorSchedule
from siar_analytics.collectors import pacing_of, spawn_collector
from siar_analytics.errors import AnalyticsError
from siar_analytics.handlers import register_handlers
from siar_analytics.metrics import start_at_zero
from siar_analytics.metrics_ingest import MetricsIngest
from siar_analytics.report_wiring import (
    REPORT_ERRORS,
    REPORT_INDEXES,
    REPORT_ROUTERS,
    spawn_report_loops,
    start_reports,
)
from siar_analytics.series_store import SERIES_INDEXES, SeriesStore
from siar_analytics.service import AnalyticsService
from siar_analytics.settings import Settings
from siar_analytics.store import INDEXES, AnalyticsStore

DESCRIPTION = "Metrics, reports and research."


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the analytics app; I/O starts in the lifespan."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        start_at_zero(runtime.connectors())
        app.state.service = AnalyticsService(
            store=AnalyticsStore(runtime.db),
            uow=runtime.uow,
            max_range_days=settings.max_range_days,
            metrics=MetricsIngest(
                series=SeriesStore(runtime.db),
                schedule=CollectorSchedule(runtime.db, pacing_of(settings)),
                uow=runtime.uow,
            ),
        )
        if settings.collector_enabled:
            spawn_collector(runtime, settings)
        start_reports(app, runtime, settings)

    async def after_broker_start(runtime: Runtime) -> None:
        if settings.report_loops_enabled:
            spawn_report_loops(app, runtime, settings)

    app, _ = create_service_app(
        name="analytics",
        settings=settings,
        description=DESCRIPTION,
        indexes=(*INDEXES, *SERIES_INDEXES, *SCHEDULE_INDEXES, *REPORT_INDEXES),
        on_startup=on_startup,
        after_broker_start=after_broker_start,
        subscribe=lambda broker, service: register_handlers(
            broker, settings, service, lambda: app.state.reports
        ),
        routers=[api_router, metrics_router, *REPORT_ROUTERS],
        domain_errors=(AnalyticsError, {**ERRORS, **REPORT_ERRORS}),
    )
    return app


def run() -> None:
    """Serve analytics (``siar-analytics`` / ``python -m siar_analytics``)."""
    serve("analytics", Settings, create_app)
