"""Scheduler entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from siar.runtime.app import Runtime, create_service_app, serve
from siar.runtime.auth import ServiceTokenClient
from siar.runtime.vault_client import VaultClient
from siar_scheduler.api.errors import install_error_handlers
from siar_scheduler.api.routes import router as api_router
from siar_scheduler.dispatch import Dispatcher
from siar_scheduler.handlers import register_handlers
from siar_scheduler.service import SchedulerService
from siar_scheduler.settings import Settings
from siar_scheduler.store import INDEXES, SchedulerStore

DESCRIPTION = "Posts, calendar, queues, approvals and precise dispatch."


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the scheduler app; I/O starts in the lifespan."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        vault = VaultClient(
            runtime.http,
            settings.platform.vault_url,
            ServiceTokenClient(
                runtime.http,
                settings.platform.vault_url,
                "scheduler",
                settings.service_secret.get_secret_value(),
            ),
        )
        app.state.service = SchedulerService(
            store=SchedulerStore(runtime.db),
            uow=runtime.uow,
            lookup_account=vault.account,
            min_lead_s=settings.min_lead_s,
        )

    async def after_broker_start(runtime: Runtime) -> None:
        service: SchedulerService = app.state.service
        dispatcher = Dispatcher(
            load_due=service.store.due_before,
            fire=service.dispatch,
            lookahead_s=settings.lookahead_s,
            scan_interval_s=settings.scan_interval_s,
        )
        service.dispatcher = dispatcher
        runtime.spawn("dispatcher", dispatcher.run, dispatcher.stop)

    app, runtime = create_service_app(
        name="scheduler",
        settings=settings,
        description=DESCRIPTION,
        indexes=INDEXES,
        on_startup=on_startup,
        after_broker_start=after_broker_start,
    )
    register_handlers(runtime.broker, settings, lambda: app.state.service)
    install_error_handlers(app)
    app.include_router(api_router)
    return app


def run() -> None:
    """Serve the scheduler (``siar-scheduler`` / ``python -m siar_scheduler``)."""
    serve("scheduler", Settings(), create_app)
