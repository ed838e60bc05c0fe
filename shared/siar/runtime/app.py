"""The one way to build a Siar service: FastAPI + FastStream + MongoDB + telemetry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

import siar
from siar.connectors import Connector
from siar.connectors.registry import build_connectors
from siar.runtime.auth import JwksCache, ServiceTokenClient, TokenVerifier
from siar.runtime.kafka import create_kafka_broker, kafka_publisher
from siar.runtime.lag import SERVICE_READY, OpsSampler
from siar.runtime.media_client import MediaClient
from siar.runtime.metrics import install_http_metrics, metrics_response
from siar.runtime.mongo import Document, IndexSpec, create_mongo_client, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.outbox_relay import OutboxRelay
from siar.runtime.problems import ErrorMap, install_domain_errors, install_problem_handlers
from siar.runtime.settings import ServiceSettings, SettingError, refusal
from siar.runtime.telemetry import create_tracer_provider
from siar.runtime.timed_send import TimedProducer
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar.runtime.vault_client import VaultClient

log = logging.getLogger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]


UNTRACED_URLS = r"healthz,readyz,metrics,calendar\.ics"
"""URLs kept out of traces: probes, and the calendar feed, whose URL holds its secret token."""


@dataclass
class Runtime:
    """Everything a service's wiring needs; built by :func:`create_service_app`."""

    name: str
    settings: ServiceSettings
    mongo: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    outbox: Outbox
    uow: UnitOfWork
    broker: KafkaBroker
    http: httpx.AsyncClient
    registry: CollectorRegistry
    tracer_provider: TracerProvider
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    def connectors(self) -> dict[str, Connector]:
        """Every network connector, sharing this process's clients."""
        return build_connectors(
            self.mongo,
            self.http,
            sandbox_comment_delay_s=self.settings.platform.sandbox_comment_delay_s,
        )

    def vault_client(self, client_id: str, *, lease_cache_s: float = 0.0) -> VaultClient:
        """The vault's internal API, called with this service's own service token."""
        url = self.settings.platform.vault_url
        tokens = ServiceTokenClient(
            self.http, url, client_id, self.settings.service_secret.get_secret_value()
        )
        return VaultClient(url, tokens, lease_cache_s=lease_cache_s)

    def media_client(self, client_id: str) -> MediaClient:
        """The scheduler's media library, read with this service's own service token."""
        tokens = ServiceTokenClient(
            self.http,
            self.settings.platform.vault_url,
            client_id,
            self.settings.service_secret.get_secret_value(),
        )
        return MediaClient(self.settings.platform.scheduler_url, tokens)

    def spawn(
        self, name: str, run: Callable[[], Awaitable[None]], stop: Callable[[], None]
    ) -> None:
        """Run a background loop from broker start until shutdown."""
        self.tasks.append(asyncio.create_task(run(), name=f"{self.name}:{name}"))  # type: ignore[arg-type]
        self.stoppers.append(stop)

    async def stop_background(self, within_s: float) -> None:
        """Ask every loop to stop and wait for them (cancelling stragglers)."""
        for stop in self.stoppers:
            stop()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=within_s)
            for task in pending:
                task.cancel()
        self.tasks.clear()
        self.stoppers.clear()


async def _wait_for_mongo(runtime: Runtime, indexes: Sequence[IndexSpec]) -> None:
    delay = 0.2
    for attempt in range(1, 40):
        try:
            await ensure_indexes(runtime.db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *indexes])
            return
        except PyMongoError as err:
            log.warning("MongoDB not ready (attempt %d): %s", attempt, err)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)
    raise RuntimeError("MongoDB did not become reachable")


def create_service_app(
    *,
    name: str,
    settings: ServiceSettings,
    description: str,
    indexes: Sequence[IndexSpec] = (),
    on_startup: Hook | None = None,
    after_broker_start: Hook | None = None,
    subscribe: Callable[[KafkaBroker, Callable[[], Any]], None] | None = None,
    routers: Sequence[APIRouter] = (),
    domain_errors: tuple[type[Exception], ErrorMap] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> tuple[FastAPI, Runtime]:
    """Build a service: FastAPI app, Kafka broker, MongoDB, outbox relay and telemetry.

    ``subscribe(broker, service)`` registers the Kafka handlers, where ``service()``
    returns ``app.state.service`` (set by ``on_startup``); ``routers`` are the HTTP
    routes and ``domain_errors`` the service's error base class with its problem map.
    Clients are created here but connect lazily; all I/O happens in the lifespan,
    in this order: MongoDB (indexes), ``on_startup``, broker, background loops. Shutdown
    runs it backwards: loops stop, the broker drains in-flight messages, clients close.
    """
    provider = tracer_provider or create_tracer_provider(name)
    registry = CollectorRegistry(auto_describe=True)
    mongo = create_mongo_client(settings.platform.mongodb_url, app_name=f"siar-{name}")
    db = mongo[settings.database or f"siar_{name}"]
    outbox = Outbox(db)
    broker = create_kafka_broker(
        settings, service=name, tracer_provider=provider, registry=registry
    )
    runtime = Runtime(
        name=name,
        settings=settings,
        mongo=mongo,
        db=db,
        outbox=outbox,
        uow=UnitOfWork(mongo, db, outbox, serialize=settings.platform.mongo_serialize_transactions),
        broker=broker,
        http=httpx.AsyncClient(timeout=10.0),
        registry=registry,
        tracer_provider=provider,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = OutboxRelay(
            outbox,
            db,
            kafka_publisher(lambda: broker),
            poll_s=settings.outbox_poll_s,
            service=name,
            timed=TimedProducer(
                settings.platform.kafka_bootstrap,
                idempotent=settings.platform.kafka_idempotent_producer,
                client_id=f"siar-{name}",
                tracer_provider=provider,
            ),
        )
        relay_task: asyncio.Task[None] | None = None
        try:
            await _wait_for_mongo(runtime, indexes)
            if on_startup:
                await on_startup(runtime)
            await broker.start()
            relay_task = asyncio.create_task(relay.run(), name=f"{name}:outbox-relay")
            _spawn_ops_sampler(runtime)
            if after_broker_start:
                await after_broker_start(runtime)
            yield
        finally:
            # Loops that create work stop first; in-flight handlers then finish (up to
            # graceful_timeout) and the relay publishes what they wrote before it stops.
            await runtime.stop_background(settings.graceful_timeout_s)
            for subscriber in broker.subscribers:
                await subscriber.stop()  # each waits for its in-flight message
            if relay_task is not None:
                relay.stop()
                await asyncio.wait({relay_task}, timeout=settings.graceful_timeout_s)
                try:
                    await asyncio.wait_for(relay.relay_once(), settings.graceful_timeout_s)
                except Exception as err:  # the next start relays whatever is left
                    log.warning("final outbox relay failed: %s", err)
            await broker.stop()
            await runtime.http.aclose()
            await runtime.mongo.close()

    app = FastAPI(
        title=f"Siar {name}",
        description=description,
        version=siar.__version__,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(
        JwksCache(settings.platform.vault_url.rstrip("/") + "/.well-known/jwks.json", runtime.http),
        issuer=settings.platform.jwt_issuer,
        audience=settings.platform.jwt_audience,
    )
    install_problem_handlers(app)
    install_http_metrics(app, name)
    _install_health(app, runtime)
    _install_asyncapi(app, runtime)
    if subscribe:
        subscribe(broker, lambda: app.state.service)
    if domain_errors:
        install_domain_errors(app, *domain_errors)
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_URLS)
    return app, runtime


def _install_asyncapi(app: FastAPI, runtime: Runtime) -> None:
    def spec() -> Any:
        return AsyncAPI(
            runtime.broker, title=app.title, version=app.version, description=app.description
        ).to_specification()

    @app.get("/asyncapi.json", tags=["ops"], summary="AsyncAPI document of this service")
    async def asyncapi_json() -> Response:
        return Response(spec().to_json(), media_type="application/json")

    @app.get("/asyncapi", tags=["ops"], summary="AsyncAPI documentation page")
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(get_asyncapi_html(spec(), try_it_out_path=None))


def serve(
    name: str,
    settings_cls: type[ServiceSettings] | ServiceSettings,
    create_app: Callable[[Any], FastAPI],
) -> None:
    """Serve a service's app with uvicorn, JSON logs and a graceful shutdown.

    A missing or invalid setting ends the process before anything starts, with one
    line on stderr naming the environment variable and exit status 2.
    """
    import uvicorn
    from opentelemetry import trace

    from siar.runtime.telemetry import configure_logging

    # Pass the class, not an instance, so that reading the environment is refused here too.
    cls = settings_cls if isinstance(settings_cls, type) else type(settings_cls)
    try:
        settings = settings_cls() if isinstance(settings_cls, type) else settings_cls
        app = create_app(settings)
    except (ValidationError, SettingError) as err:
        print(f"siar-{name}: {refusal(err, cls)}", file=sys.stderr)
        raise SystemExit(2) from None
    # The process-wide provider, so services' own spans (trace.get_tracer) are exported.
    trace.set_tracer_provider(app.state.runtime.tracer_provider)
    configure_logging(name, level=settings.platform.log_level, fmt=settings.platform.log_format)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
    )


async def readiness(runtime: Runtime) -> dict[str, str]:
    """Each dependency's state: ``ok`` or ``down: <why>`` (what /readyz reports)."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(runtime.db.command("ping"), 2.0)
        checks["mongodb"] = "ok"
    except (PyMongoError, TimeoutError) as err:
        checks["mongodb"] = f"down: {type(err).__name__}"
    try:
        ok = await runtime.broker.ping(timeout=2.0)
        checks["kafka"] = "ok" if ok else "down"
    except Exception as err:
        checks["kafka"] = f"down: {type(err).__name__}"
    return checks


async def _is_ready(runtime: Runtime) -> bool:
    return all(v == "ok" for v in (await readiness(runtime)).values())


def _spawn_ops_sampler(runtime: Runtime) -> None:
    """Keep readiness, outbox backlog and consumer lag gauges fresh in the background."""
    sampler = OpsSampler(
        service=runtime.name,
        group=runtime.settings.consumer_group,
        consumers=lambda: [getattr(s, "consumer", None) for s in runtime.broker.subscribers],
        outbox=runtime.outbox.collection,
        ready=lambda: _is_ready(runtime),
    )
    runtime.spawn("ops-gauges", sampler.run, sampler.stop)


def _install_health(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/healthz", tags=["ops"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @app.get("/readyz", tags=["ops"], summary="MongoDB and Kafka are reachable")
    async def readyz(request: Request) -> JSONResponse:
        checks = await readiness(runtime)
        ready = all(v == "ok" for v in checks.values())
        SERVICE_READY.labels(runtime.name).set(1 if ready else 0)
        return JSONResponse(
            {"status": "ready" if ready else "unready", "service": runtime.name, "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return metrics_response(runtime.registry)
