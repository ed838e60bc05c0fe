"""Forward a browser's API call to the service that owns its path, streaming both ways.

Bodies are never buffered: uploads stream to the service as they arrive and answers
(CSV and PDF exports, the inbox's server-sent events) stream back as the service writes
them. A service that cannot be reached answers 502 problem+json naming it, which the
web app shows as "connection lost — retrying".
"""

from __future__ import annotations

import logging

import httpx
from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from siar.runtime.problems import Problem
from siar_console.routing import service_for

log = logging.getLogger(__name__)

# RFC 9110 §7.6.1 connection-specific fields, plus what the client recomputes.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class Proxy:
    """Sends requests on to the services by path; one pooled client for all of them."""

    def __init__(self, upstreams: dict[str, str], http: httpx.AsyncClient, timeout_s: float):
        """``upstreams`` maps a service name to its base URL."""
        self.upstreams = upstreams
        self.http = http
        self.timeout_s = timeout_s

    async def forward(self, request: Request) -> StreamingResponse:
        """The service's answer to ``request``, streamed; 404/502 problems when there is none."""
        path = request.url.path
        service = service_for(path)
        if service is None:
            raise Problem(404, "not-found", "No such API path", f"{path} is not served here")
        upstream = self.upstreams[service]
        url = httpx.URL(upstream + path, query=request.url.query.encode("latin-1"))
        headers = _forward_headers(request)
        streaming = "text/event-stream" in request.headers.get("accept", "")
        # An event stream stays open for as long as the browser listens.
        timeout = httpx.Timeout(self.timeout_s, read=None if streaming else self.timeout_s)
        has_body = request.method not in ("GET", "HEAD", "OPTIONS", "DELETE") or (
            "content-length" in request.headers or "transfer-encoding" in request.headers
        )
        outgoing = self.http.build_request(
            request.method,
            url,
            headers=headers,
            content=request.stream() if has_body else None,
            timeout=timeout,
        )
        try:
            answer = await self.http.send(outgoing, stream=True)
        except httpx.TransportError as err:
            log.warning("%s unreachable for %s %s: %s", service, request.method, path, err)
            raise Problem(
                502,
                "upstream-unavailable",
                "Service unavailable",
                f"the {service} service cannot be reached; try again shortly",
                service=service,
            ) from err
        return StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            headers=_answer_headers(answer),
            background=BackgroundTask(answer.aclose),
        )


def _forward_headers(request: Request) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    kept = [(k, v) for k, v in kept if not k.lower().startswith("x-forwarded-")]
    kept.append(("x-forwarded-for", f"{prior}, {client}" if prior else client))
    kept.append(("x-forwarded-proto", request.url.scheme))
    kept.append(("x-forwarded-host", request.headers.get("host", "")))
    return kept


def _answer_headers(answer: httpx.Response) -> dict[str, str]:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        # Proxies in front of the console must not buffer the stream either.
        headers["x-accel-buffering"] = "no"
        headers["cache-control"] = "no-cache"
    return headers
