"""Publisher entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from fastapi import FastAPI

from siar.runtime.app import Runtime, create_service_app, serve
from siar_publisher.api.routes import router as api_router
from siar_publisher.domain import RetryPolicy
from siar_publisher.engagement import EngagementService
from siar_publisher.handlers import register_handlers
from siar_publisher.metrics import start_at_zero
from siar_publisher.ratelimit import INDEXES as RATE_INDEXES
from siar_publisher.ratelimit import RateLimiter
from siar_publisher.service import PublisherService
from siar_publisher.settings import Settings
from siar_publisher.store import INDEXES, PublisherStore

DESCRIPTION = "Delivers posts and engagement actions to the networks, exactly once."


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the publisher app; I/O starts in the lifespan."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        vault = runtime.vault_client("publisher", lease_cache_s=settings.credential_cache_s)
        connectors = runtime.connectors()
        start_at_zero(connectors)
        retry = RetryPolicy(
            max_attempts=settings.max_attempts,
            base_s=settings.backoff_base_s,
            cap_s=settings.backoff_max_s,
        )
        service = PublisherService(
            store=PublisherStore(runtime.db),
            uow=runtime.uow,
            vault=vault,
            connectors=connectors,
            media=runtime.media_client("publisher"),
            limiter=RateLimiter(runtime.db, max_wait_s=settings.rate_limit_max_wait_s),
            claim_lease_s=settings.claim_lease_s,
            fault=crash_injector(settings),
            retry=retry,
        )
        service.engagement = EngagementService(
            db=runtime.db, uow=runtime.uow, vault=vault, connectors=connectors, retry=retry
        )
        app.state.service = service

    app, _ = create_service_app(
        name="publisher",
        settings=settings,
        description=DESCRIPTION,
        indexes=(*INDEXES, *RATE_INDEXES),
        on_startup=on_startup,
        subscribe=lambda broker, service: register_handlers(broker, settings, service),
        routers=[api_router],
    )
    return app


def crash_injector(settings: Settings) -> Callable[[str], None]:
    """The fault hook of the never-twice tests: die like a SIGKILL at one step, once."""

    def fault(step: str) -> None:
        marker = settings.crash_once_file
        if step != settings.crash_at or (marker is not None and marker.exists()):
            return
        if marker is not None:
            marker.write_text(step, encoding="utf-8")
        logging.getLogger(__name__).error("crash injected at %s", step)
        os._exit(137)

    return fault


def run() -> None:
    """Serve the publisher (``siar-publisher`` / ``python -m siar_publisher``)."""
    serve("publisher", Settings, create_app)
