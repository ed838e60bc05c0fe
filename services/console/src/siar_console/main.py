"""The console's app: the web app's files, its settings document and the API proxy.

The console owns no data and consumes no events, so it is not built with
``create_service_app`` (which wires MongoDB and Kafka); it has the same ops routes
(``/healthz``, ``/readyz``, ``/metrics``), problem+json errors and HTTP metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import siar
from siar.runtime.metrics import install_http_metrics, metrics_response
from siar.runtime.problems import install_problem_handlers
from siar.runtime.settings import refusal
from siar_console.catalogue import console_config
from siar_console.proxy import Proxy
from siar_console.qr import install_qr_route
from siar_console.settings import Settings

STATIC = Path(__file__).parent / "static"
PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Only our own files and API; inline script is never allowed. Images may come from the
# networks' CDNs (avatars, media previews), so https: is allowed for img-src only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the console app; its HTTP client is opened in the lifespan."""
    settings = settings or Settings()
    registry = CollectorRegistry(auto_describe=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=40)
        async with httpx.AsyncClient(limits=limits, trust_env=False) as http:
            app.state.proxy = Proxy(settings.upstreams(), http, settings.upstream_timeout_s)
            yield

    app = FastAPI(
        title="Siar console",
        description="The web app and a proxy of /v1 to the Siar services.",
        version=siar.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_problem_handlers(app)
    install_http_metrics(app, "console")
    # Plain ASGI rather than @app.middleware, which wraps every answer (streams included)
    # in an extra task and queue that the proxy's latency would pay for.
    app.add_middleware(SecurityHeaders)
    _install_ops(app, settings, registry)
    _install_app_routes(app)
    install_qr_route(app)

    async def forward(request: Request) -> Response:
        proxy: Proxy = request.app.state.proxy
        return await proxy.forward(request)

    for prefix in ("/v1/{rest:path}", "/webhooks/{rest:path}", "/.well-known/jwks.json"):
        app.add_api_route(prefix, forward, methods=PROXIED_METHODS, include_in_schema=False)
    return app


def _install_app_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    @app.get("/console/config.json", include_in_schema=False)
    async def config() -> JSONResponse:
        # The one permission matrix (siar.runtime.roles) and the connectors' facts, so the
        # app hides what a role cannot do exactly as the services refuse it.
        return JSONResponse(console_config())

    @app.get("/oauth/callback/{network}", include_in_schema=False)
    async def oauth_return(network: str) -> FileResponse:
        # Networks send people back here (a redirect URI cannot hold a #fragment); the app
        # then finishes the flow with the vault's /v1/oauth/callback/{network}.
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


class SecurityHeaders:
    """CSP and friends on the app's own pages and files; proxied answers pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/v1/", "/webhooks/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CSP)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "no-referrer")
                if path.startswith("/static/"):
                    # Modules change with every deploy and carry no version in their names.
                    headers["cache-control"] = "no-cache"
            await send(message)

        await self.app(scope, receive, with_headers)


def _install_ops(app: FastAPI, settings: Settings, registry: CollectorRegistry) -> None:
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "console"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        http: httpx.AsyncClient = request.app.state.proxy.http
        names = list(settings.upstreams())
        answers = await asyncio.gather(
            *(_healthy(http, url) for url in settings.upstreams().values())
        )
        checks = dict(zip(names, answers, strict=True))
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unready", "service": "console", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return metrics_response(registry)


async def _healthy(http: httpx.AsyncClient, base: str) -> str:
    try:
        answer = await http.get(base + "/healthz", timeout=2.0)
    except httpx.HTTPError as err:
        return f"down: {type(err).__name__}"
    return "ok" if answer.status_code == 200 else f"down: {answer.status_code}"


def run() -> None:
    """Serve the console (``siar-console`` / ``python -m siar_console``)."""
    import uvicorn

    from siar.runtime.telemetry import configure_logging

    try:
        settings = Settings()
    except ValidationError as err:
        print(f"siar-console: {refusal(err, Settings)}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(
        "console", level=settings.platform.log_level, fmt=settings.platform.log_format
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
    )
