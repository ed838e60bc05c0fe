"""Prometheus metrics of the HTTP edge, and the /metrics exposition."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

HTTP_REQUESTS = Counter(
    "siar_http_requests",
    "HTTP requests by service, method, route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "siar_http_request_duration_seconds",
    "HTTP request latency by service, method and route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def install_http_metrics(app: FastAPI, service: str) -> None:
    """Count and time every request by its route template (bounded label values)."""

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(service, request.method, template, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, template).observe(
            time.perf_counter() - started
        )
        return response


def metrics_response(*registries: CollectorRegistry) -> Response:
    """Prometheus text exposition of the process-wide and the app's own registries."""
    body = b"".join(generate_latest(r) for r in (REGISTRY, *registries))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
