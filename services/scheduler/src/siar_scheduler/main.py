"""Scheduler entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

import secrets

from fastapi import FastAPI

from siar.runtime.app import Runtime, create_service_app, serve
from siar.runtime.problems import install_domain_errors
from siar_scheduler.api.approval_routes import router as approval_router
from siar_scheduler.api.calendar_routes import router as calendar_router
from siar_scheduler.api.errors import ERRORS
from siar_scheduler.api.import_routes import router as import_router
from siar_scheduler.api.media_routes import MEDIA_ERRORS
from siar_scheduler.api.media_routes import router as media_router
from siar_scheduler.api.network_routes import router as network_router
from siar_scheduler.api.public_media import router as public_media_router
from siar_scheduler.api.queue_routes import install_timing_errors
from siar_scheduler.api.queue_routes import router as queue_router
from siar_scheduler.api.routes import router as api_router
from siar_scheduler.dispatch import Dispatcher
from siar_scheduler.errors import SchedulerError
from siar_scheduler.firing import FIRING_INDEXES, Firing
from siar_scheduler.handlers import register_handlers
from siar_scheduler.late_sends import LateSends
from siar_scheduler.media import MediaError, MediaLibrary, UploadLimits
from siar_scheduler.media_store import MEDIA_INDEXES, MediaStore
from siar_scheduler.metrics import start_at_zero
from siar_scheduler.service import SchedulerService
from siar_scheduler.settings import Settings
from siar_scheduler.store import INDEXES, SchedulerStore
from siar_scheduler.timing import Timing
from siar_scheduler.timing_store import TIMING_INDEXES, TimingStore
from siar_scheduler.workflow import Workflow
from siar_scheduler.workflow_store import WORKFLOW_INDEXES, WorkflowStore

DESCRIPTION = "Posts, calendar, queues, approvals and precise dispatch."


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the scheduler app; I/O starts in the lifespan."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        media = MediaLibrary(
            MediaStore(runtime.db),
            UploadLimits(settings.media_max_image_bytes, settings.media_max_video_bytes),
        )
        app.state.media = media
        # An unset secret still signs (with a per-process random key) so URLs never verify
        # across restarts by accident; set one to keep them valid across replicas.
        secret = settings.media_url_secret.get_secret_value() or secrets.token_hex(32)
        app.state.public_media = (settings.public_base_url, secret)
        # Before the relay starts: after a crash it sends the dead process's late rows first.
        app.state.late_sends = LateSends(runtime.db["posts"])
        runtime.outbox.on_timed_sent = app.state.late_sends.observe
        app.state.service = SchedulerService(
            store=SchedulerStore(runtime.db),
            uow=runtime.uow,
            lookup_account=runtime.vault_client("scheduler").account,
            min_lead_s=settings.min_lead_s,
            connectors=runtime.connectors(),
            describe_media=media.describe,
        )
        app.state.timing = Timing(TimingStore(runtime.db), app.state.service)
        app.state.workflow = Workflow.wire(
            app.state.service,
            WorkflowStore(runtime.db),
            runtime.http,
            service_secret=settings.service_secret.get_secret_value(),
        )

    async def after_broker_start(runtime: Runtime) -> None:
        service: SchedulerService = app.state.service
        start_at_zero(service.connectors)
        firing = Firing(runtime.db["posts"], runtime.outbox)
        late_sends: LateSends = app.state.late_sends
        runtime.spawn("late-sends", late_sends.run, late_sends.stop)
        dispatcher = Dispatcher(
            load_due=service.store.due_before,
            fire_many=firing.fire_many,
            on_scan=firing.recover,
            lookahead_s=settings.lookahead_s,
            scan_interval_s=settings.scan_interval_s,
            lead_s=settings.gate_lead_s,
        )
        service.dispatcher = dispatcher
        runtime.spawn("dispatcher", dispatcher.run, dispatcher.stop)
        notifier = app.state.workflow.notifier
        runtime.spawn("failure-notices", notifier.run, notifier.stop)

    app, _ = create_service_app(
        name="scheduler",
        settings=settings,
        description=DESCRIPTION,
        indexes=[*INDEXES, *MEDIA_INDEXES, *FIRING_INDEXES, *TIMING_INDEXES, *WORKFLOW_INDEXES],
        on_startup=on_startup,
        after_broker_start=after_broker_start,
        subscribe=lambda broker, service: register_handlers(
            broker, settings, service, lambda: app.state.timing
        ),
        routers=[
            approval_router,
            calendar_router,
            import_router,
            api_router,
            queue_router,
            public_media_router,
            media_router,
            network_router,
        ],  # ":public-url" before "{media_id}",
        domain_errors=(SchedulerError, ERRORS),
    )
    install_domain_errors(app, MediaError, MEDIA_ERRORS)  # found before SchedulerError's (MRO)
    install_timing_errors(app)
    return app


def run() -> None:
    """Serve the scheduler (``siar-scheduler`` / ``python -m siar_scheduler``)."""
    serve("scheduler", Settings, create_app)
