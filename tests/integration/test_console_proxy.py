"""The console's proxy over real sockets: streams both ways, problems when it cannot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from siar.devstack import free_port
from siar_console.main import create_app
from siar_console.settings import Settings
from tests.integration.conftest import serving


def fake_service(second_event: asyncio.Event) -> FastAPI:
    """An upstream that echoes what reached it and streams server-sent events."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/v1/workspaces/ws1/media", methods=["POST"])
    async def echo(request: Request) -> JSONResponse:
        body = b"".join([chunk async for chunk in request.stream()])
        return JSONResponse(
            {"headers": dict(request.headers), "query": str(request.url.query), "size": len(body)},
            status_code=201,
            headers={"x-upstream": "scheduler", "connection": "close"},
        )

    @app.get("/v1/workspaces/ws1/conversations:stream")
    async def stream() -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            yield b'id: 1\ndata: {"n": 1}\n\n'
            # The second event waits for the client to have read the first: a proxy that
            # buffered the stream would never deliver it, and the test would time out.
            await second_event.wait()
            yield b'id: 2\ndata: {"n": 2}\n\n'

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture
async def console() -> AsyncIterator[tuple[str, asyncio.Event]]:
    second_event = asyncio.Event()
    async with serving(fake_service(second_event), free_port()) as upstream:
        closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: the publisher is "down"
        settings = Settings(
            scheduler_url=upstream,
            inbox_url=upstream,
            vault_url=upstream,
            analytics_url=upstream,
            publisher_url=closed,
        )
        async with serving(create_app(settings), free_port()) as url:
            yield url, second_event


async def test_uploads_stream_through_with_query_and_auth(
    console: tuple[str, asyncio.Event],
) -> None:
    url, _ = console

    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 16384

    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{url}/v1/workspaces/ws1/media?tags=a&tags=b",
            content=body(),
            headers={"authorization": "Bearer abc", "content-type": "image/png"},
        )
    assert r.status_code == 201, r.text
    seen = r.json()
    assert seen["size"] == 64 * 16384
    assert seen["query"] == "tags=a&tags=b"
    assert seen["headers"]["authorization"] == "Bearer abc"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["host"] != url.removeprefix("http://")  # the upstream's own host
    assert r.headers["x-upstream"] == "scheduler"
    assert "close" not in r.headers.get("connection", "")  # hop-by-hop fields stay behind


async def test_event_stream_is_passed_on_as_it_is_written(
    console: tuple[str, asyncio.Event],
) -> None:
    url, second_event = console
    seen: list[dict[str, int]] = []
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "GET",
            f"{url}/v1/workspaces/ws1/conversations:stream",
            headers={"accept": "text/event-stream"},
        ) as r,
    ):
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-accel-buffering"] == "no"
        lines = r.aiter_lines()
        async with asyncio.timeout(20):
            async for line in lines:
                if line.startswith("data: "):
                    seen.append(json.loads(line.removeprefix("data: ")))
                    second_event.set()
                    if len(seen) == 2:
                        break
    assert seen == [{"n": 1}, {"n": 2}]


async def test_unreachable_service_is_a_502_problem(console: tuple[str, asyncio.Event]) -> None:
    url, _ = console
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.get(f"{url}/v1/workspaces/ws1/deliveries")
    assert r.status_code == 502
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:siar:problem:upstream-unavailable"
    assert r.json()["service"] == "publisher"


async def test_internal_and_unknown_paths_are_not_proxied(
    console: tuple[str, asyncio.Event],
) -> None:
    url, _ = console
    async with httpx.AsyncClient(timeout=30) as http:
        internal = await http.get(f"{url}/v1/internal/workspaces/ws1/accounts/a1")
        unknown = await http.get(f"{url}/v1/workspaces/ws1/nothing-here")
    for r in (internal, unknown):
        assert r.status_code == 404
        assert r.json()["type"] == "urn:siar:problem:not-found"


async def test_app_files_config_and_security_headers(console: tuple[str, asyncio.Event]) -> None:
    url, _ = console
    async with httpx.AsyncClient(timeout=30) as http:
        index = await http.get(f"{url}/")
        module = await http.get(f"{url}/static/app.js")
        config = await http.get(f"{url}/console/config.json")
        ready = await http.get(f"{url}/readyz")
    assert index.status_code == 200
    assert '<script type="module" src="/static/app.js">' in index.text
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert module.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "audit.read" in config.json()["permissions"]["owner"]
    assert "audit.read" not in config.json()["permissions"]["admin"]
    assert ready.status_code == 503  # the publisher is down
    assert ready.json()["checks"]["publisher"].startswith("down")
    assert ready.json()["checks"]["vault"] == "ok"
