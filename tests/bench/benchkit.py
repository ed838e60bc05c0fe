"""What the benchmarks share: a stack started and always stopped, CPU sampling, percentiles.

Each benchmark starts infra (embedded Tansu + nx-27017 by default) and some services
with :func:`running`, bounds its measurement with :func:`run_bounded`, samples
``/proc`` CPU with :func:`cpu_s`, moves Kafka records with :func:`produce` and
:func:`drain`, and summarises latencies with :func:`stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from siar.devstack import SERVICES, DevSecrets, Infra, Platform, free_port, start_embedded

TICK = os.sysconf("SC_CLK_TCK")
StartInfra = Callable[..., Infra]
# A plain consumer reading a topic from its start, with no group join (Tansu: ~3 s each).
FROM_START: dict[str, Any] = {
    "group_id": None,
    "auto_offset_reset": "earliest",
    "metadata_max_age_ms": 1000,
}
Handler = Callable[[ConsumerRecord[bytes, bytes]], None]
Done = Callable[[], bool]


def cpu_s(pids: dict[str, int]) -> dict[str, float]:
    """utime+stime (s) of each named process group, over its live processes."""
    ticks = dict.fromkeys(pids.values(), 0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # after "(comm)" f[0] is field 3: pgrp is field 5, utime 14, stime 15
            f = stat.read_text().rpartition(")")[2].split()
            if int(f[2]) in ticks:
                ticks[int(f[2])] += int(f[11]) + int(f[12])
    return {name: ticks[pid] / TICK for name, pid in pids.items()}


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    """Send every (key, value) to ``topic``; returns the wall time of the first send."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        first = time.time()
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return first


async def drain(source: AIOKafkaConsumer, handle: Handler, done: Done, within_s: float) -> None:
    """Hand every record to ``handle`` until ``done()`` or ``within_s`` seconds pass."""
    deadline = time.monotonic() + within_s
    while not done() and time.monotonic() < deadline:
        for records in (await source.getmany(timeout_ms=200)).values():
            for rec in records:
                handle(rec)


def stack_pids(infra: Infra, platform: Platform, names: Sequence[str]) -> dict[str, int]:
    """Process-group ids of the named services, nx and Tansu, for :func:`cpu_s`."""
    pids = {name: platform.processes[name].pid for name in names}
    return pids | {"nx": infra.processes["mongo"].pid, "tansu": infra.processes["kafka"].pid}


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def stats(values: list[float]) -> dict[str, float | int]:
    """Count, p50/p95/p99, max and min of ``values`` in ms (rounded)."""
    if not values:
        return {"n": 0}
    out: dict[str, float | int] = {"n": len(values)}
    for q in (50, 95, 99):
        out[f"p{q}"] = round(percentile(values, q), 1)
    out["max"] = round(max(values), 1)
    out["min"] = round(min(values), 1)
    return out


def print_figures(figures: Mapping[str, float], width: int) -> None:
    """One ``label value`` line per figure, the value to 4 significant digits."""
    for label, value in figures.items():
        print(f"{label:{width}} {value:>10.4g}")


@contextlib.contextmanager
def running(
    log_dir: Path,
    extra_env: Mapping[str, str],
    *,
    services: Sequence[str] = SERVICES,
    secrets: DevSecrets | None = None,
    start_infra: StartInfra = start_embedded,
    ready: str | None = None,
) -> Iterator[tuple[Infra, Platform]]:
    """Infra and ``services`` started and ready; everything stopped on the way out.

    Old logs in ``log_dir`` are removed first. With ``ready`` (e.g. ``"vault"``), prints
    ``<infra> infra + <ready> ready in N s`` and where the logs are.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="siar-bench-") as tmp:
        t0 = time.monotonic()
        infra = start_infra(Path(tmp) / "data", log_dir=log_dir)
        platform = Platform(
            infra,
            secrets or DevSecrets.generate(),
            log_dir,
            ports={n: free_port() for n in services},
            extra_env=extra_env,
            services=services,
        )
        try:
            platform.start()
            platform.wait_ready(timeout=120)
            if ready is not None:
                print(f"{infra.kind} infra + {ready} ready in {time.monotonic() - t0:.1f} s")
                print(f"logs: {log_dir}", flush=True)
            yield infra, platform
        finally:
            platform.stop()  # a no-op for services that were never started
            infra.stop()


def run_bounded(job: Coroutine[Any, Any, None], timeout: float) -> int:
    """Run ``job`` to completion within ``timeout`` s: 0, or 1 (said so) when it took longer."""
    try:
        asyncio.run(asyncio.wait_for(job, timeout))
    except TimeoutError:
        print(f"gave up: the measurement took longer than --timeout {timeout:g} s")
        return 1
    return 0
