"""Publisher entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from siar.connectors.registry import build_connectors
from siar.runtime.app import Runtime, create_service_app, serve
from siar.runtime.auth import ServiceTokenClient
from siar.runtime.vault_client import VaultClient
from siar_publisher.api.routes import router as api_router
from siar_publisher.handlers import register_handlers
from siar_publisher.service import PublisherService, RetryPolicy
from siar_publisher.settings import Settings
from siar_publisher.store import INDEXES, PublisherStore

DESCRIPTION = "Delivers posts and engagement actions to the networks, exactly once."


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the publisher app; I/O starts in the lifespan."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        tokens = ServiceTokenClient(
            runtime.http,
            settings.platform.vault_url,
            "publisher",
            settings.service_secret.get_secret_value(),
        )
        app.state.service = PublisherService(
            store=PublisherStore(runtime.db),
            uow=runtime.uow,
            vault=VaultClient(runtime.http, settings.platform.vault_url, tokens),
            connectors=build_connectors(
                runtime.mongo, sandbox_comment_delay_s=settings.sandbox_comment_delay_s
            ),
            retry=RetryPolicy(
                max_attempts=settings.max_attempts,
                base_s=settings.backoff_base_s,
                cap_s=settings.backoff_max_s,
            ),
        )

    app, runtime = create_service_app(
        name="publisher",
        settings=settings,
        description=DESCRIPTION,
        indexes=INDEXES,
        on_startup=on_startup,
    )
    register_handlers(runtime.broker, settings, lambda: app.state.service)
    app.include_router(api_router)
    return app


def run() -> None:
    """Serve the publisher (``siar-publisher`` / ``python -m siar_publisher``)."""
    serve("publisher", Settings(), create_app)
