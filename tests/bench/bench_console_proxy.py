"""Benchmark: what the console's proxy adds to an API call, an upload and an event stream.

Real sockets on 127.0.0.1: an upstream (a small FastAPI app standing in for a service)
and the console in front of it, both under uvicorn in this process's event loop, with one
pooled httpx client as the browser. Alternating rounds of:

* a small JSON GET, direct to the upstream and through the console (p50/p95 of N calls);
* a 20 MiB upload streamed in 64 KiB chunks, direct and through the console (MiB/s);
* server-sent events: the upstream writes an event every 10 ms; time from the upstream
  writing each event to the client reading it, through the console (p50/p95).

Prints figures; never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_console_proxy.py [--calls 400] [--events 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import StreamingResponse  # noqa: E402

from siar.devstack import free_port  # noqa: E402
from siar_console.main import create_app  # noqa: E402
from siar_console.settings import Settings  # noqa: E402

UPLOAD_BYTES = 20 * 1024 * 1024


def upstream(events: int) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/workspaces/ws1/posts")
    async def posts() -> dict[str, Any]:
        return {"items": [{"id": f"p{i}", "text": "hello " * 10} for i in range(20)]}

    @app.post("/v1/workspaces/ws1/media")
    async def media(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @app.get("/v1/workspaces/ws1/conversations:stream")
    async def stream() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for i in range(events):
                yield f"id: {i}\ndata: {time.perf_counter()}\n\n".encode()
                await asyncio.sleep(0.01)

        return StreamingResponse(body(), media_type="text/event-stream")

    return app


async def serve(app: Any) -> tuple[str, uvicorn.Server, asyncio.Task[None]]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for "listening"
        await asyncio.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, task


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def gets(http: httpx.AsyncClient, base: str, calls: int) -> list[float]:
    took = []
    for _ in range(calls):
        started = time.perf_counter()
        r = await http.get(f"{base}/v1/workspaces/ws1/posts")
        r.raise_for_status()
        took.append((time.perf_counter() - started) * 1000)
    return took


async def upload(http: httpx.AsyncClient, base: str) -> float:
    async def body() -> AsyncIterator[bytes]:
        chunk = b"x" * 65536
        for _ in range(UPLOAD_BYTES // len(chunk)):
            yield chunk

    started = time.perf_counter()
    r = await http.post(f"{base}/v1/workspaces/ws1/media", content=body())
    assert r.json()["size"] == UPLOAD_BYTES
    return UPLOAD_BYTES / 1024 / 1024 / (time.perf_counter() - started)


async def sse(http: httpx.AsyncClient, base: str) -> list[float]:
    delays = []
    headers = {"accept": "text/event-stream"}
    async with http.stream(
        "GET", f"{base}/v1/workspaces/ws1/conversations:stream", headers=headers
    ) as r:
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                delays.append((time.perf_counter() - float(line[6:])) * 1000)
    return delays


async def main(calls: int, events: int) -> None:
    base, up_server, up_task = await serve(upstream(events))
    urls = dict.fromkeys(("vault", "scheduler", "publisher", "inbox", "analytics"), base)
    settings = Settings(**{f"{k}_url": v for k, v in urls.items()})
    console, c_server, c_task = await serve(create_app(settings))
    direct: list[float] = []
    proxied: list[float] = []
    up_direct: list[float] = []
    up_proxied: list[float] = []
    async with httpx.AsyncClient(timeout=60) as http:
        await gets(http, base, 20)  # warm both paths
        await gets(http, console, 20)
        for _ in range(4):
            direct += await gets(http, base, calls // 4)
            proxied += await gets(http, console, calls // 4)
        for _ in range(3):
            up_direct.append(await upload(http, base))
            up_proxied.append(await upload(http, console))
        delays_direct = await sse(http, base)
        delays_proxied = await sse(http, console)
    for server in (c_server, up_server):
        server.should_exit = True
    await asyncio.gather(c_task, up_task)

    print(f"JSON GET ({calls} calls each, ms)      p50      p95")
    row("direct to the service", direct)
    row("through the console", proxied)
    print(f"  added by the proxy (p50)         {pct(proxied, 0.5) - pct(direct, 0.5):7.2f}")
    print("Upload of 20 MiB (MiB/s, median of 3)")
    print(f"  direct {statistics.median(up_direct):8.1f}")
    print(f"  console {statistics.median(up_proxied):7.1f}")
    print(f"SSE, write → read ({events} events, ms)  p50      p95")
    row("direct", delays_direct)
    row("through the console", delays_proxied)


def row(label: str, values: list[float]) -> None:
    print(f"  {label:<32} {pct(values, 0.5):7.2f}  {pct(values, 0.95):7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.events))
