"""Inbox entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from siar.runtime.app import Runtime, create_service_app, serve
from siar.runtime.leases import Leases
from siar_inbox.actions import INDEXES as ACTION_INDEXES
from siar_inbox.api.act_routes import router as act_router
from siar_inbox.api.query_routes import router as query_router
from siar_inbox.api.routes import ERRORS
from siar_inbox.api.routes import router as api_router
from siar_inbox.api.rules_routes import router as rules_router
from siar_inbox.api.triage_routes import router as triage_router
from siar_inbox.api.webhook_routes import router as webhook_router
from siar_inbox.automation import INDEXES as RULE_INDEXES
from siar_inbox.automation import Automation
from siar_inbox.errors import InboxError
from siar_inbox.handlers import register_handlers
from siar_inbox.listing import INDEXES as LISTING_INDEXES
from siar_inbox.listing import ConversationQueries
from siar_inbox.metrics import BacklogSampler, start_at_zero
from siar_inbox.polling import POLL_LEASE_S, Poller
from siar_inbox.service import InboxService
from siar_inbox.settings import Settings
from siar_inbox.snooze import INDEXES as SNOOZE_INDEXES
from siar_inbox.snooze import Snoozer
from siar_inbox.store import INDEXES, POLL_LEASES, InboxStore
from siar_inbox.stream import ConversationFeed
from siar_inbox.triage import INDEXES as TRIAGE_INDEXES
from siar_inbox.triage import Triage
from siar_inbox.webhooks import INDEXES as WEBHOOK_INDEXES
from siar_inbox.webhooks import WebhookReceiver

DESCRIPTION = "Comments, mentions and DMs from every network in one inbox."


ALL_INDEXES = (
    *INDEXES,
    *TRIAGE_INDEXES,
    *LISTING_INDEXES,
    *SNOOZE_INDEXES,
    *ACTION_INDEXES,
    *RULE_INDEXES,
    *WEBHOOK_INDEXES,
)


async def wire_conversations(app: FastAPI, settings: Settings) -> None:
    """Working and reading conversations: triage, the listing (its sort key backfilled
    for threads stored before it existed) and the live feed."""
    store = app.state.service.store
    app.state.triage = Triage(app.state.service)
    app.state.queries = ConversationQueries(store)
    await app.state.queries.backfill_sort_key()
    app.state.feed = ConversationFeed(
        store, heartbeat_s=settings.stream_heartbeat_s, max_s=settings.stream_max_s
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the inbox app; I/O starts in the lifespan."""
    settings = settings or Settings()

    async def on_startup(runtime: Runtime) -> None:
        app.state.automation = Automation(runtime.db)
        app.state.service = InboxService(
            store=InboxStore(runtime.db), uow=runtime.uow, rules=app.state.automation
        )
        app.state.webhooks = WebhookReceiver.configured(
            app.state.service, runtime.connectors(), settings
        )
        await wire_conversations(app, settings)

    async def after_broker_start(runtime: Runtime) -> None:
        poller = Poller(
            service=app.state.service,
            vault=runtime.vault_client("inbox", lease_cache_s=settings.credential_cache_s),
            connectors=runtime.connectors(),
            interval_s=settings.poll_interval_s,
            min_interval_s=settings.poll_min_interval_s,
            leases=Leases(runtime.db[POLL_LEASES], lease_s=POLL_LEASE_S),
        )
        runtime.spawn("poller", poller.run, poller.stop)
        snoozer = Snoozer(app.state.service, interval_s=settings.snooze_check_s)
        runtime.spawn("snoozer", snoozer.run, snoozer.stop)
        networks = list(runtime.connectors())
        start_at_zero(networks)
        backlog = BacklogSampler(runtime.db["conversations"], networks)
        runtime.spawn("backlog-gauge", backlog.run, backlog.stop)

    app, _ = create_service_app(
        name="inbox",
        settings=settings,
        description=DESCRIPTION,
        indexes=ALL_INDEXES,
        on_startup=on_startup,
        after_broker_start=after_broker_start,
        subscribe=lambda broker, service: register_handlers(broker, settings, service),
        # The query routes first: /conversations:counts is not a conversation id.
        routers=[query_router, act_router, api_router, triage_router, rules_router, webhook_router],
        domain_errors=(InboxError, ERRORS),
    )
    return app


def run() -> None:
    """Serve the inbox (``siar-inbox`` / ``python -m siar_inbox``)."""
    serve("inbox", Settings, create_app)
