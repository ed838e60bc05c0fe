"""Benchmark: how long does ``python -m siar.devstack --once`` take to get every /readyz green?

Runs the dev stack CLI several times (default 3) in one temporary working directory, so
the first run starts from an empty ``.siar/`` (cold-ish) and the next ones reuse its data
and secrets (warm). Kafka, MongoDB and every service get free ports through
``SIAR_DEV_KAFKA_PORT``, ``SIAR_DEV_MONGO_PORT`` and ``SIAR_DEV_<SERVICE>_PORT``.

Per run it prints the CLI's own "Siar is ready in X s" figure (start → every /readyz 200),
each service's "ready after", when that line appeared as seen from outside (includes
interpreter start and imports), and the wall time of the whole command (with seeding and
stopping). Prints figures only, never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_dev_startup.py [--runs 3] [--no-seed]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from siar.devstack import SERVICES, free_port

READY_LINE = re.compile(r"Siar is ready in ([\d.]+) s")
SERVICE_ROW = re.compile(r"^\s+(\w+)\s+http://\S+/docs\s+\S+/readyz\s+([\d.]+) s\s*$")
INFRA_LINE = re.compile(r"^Kafka \S+ and MongoDB \S+ \((\w+)\)")


def run_once(workdir: Path, *, seed: bool, timeout: float) -> dict[str, Any]:
    """Run the CLI with ``--once`` in ``workdir``; its figures and exit code."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["SIAR_DEV_KAFKA_PORT"] = str(free_port())
    env["SIAR_DEV_MONGO_PORT"] = str(free_port())
    for name in SERVICES:
        env[f"SIAR_DEV_{name.upper()}_PORT"] = str(free_port())
    command = [sys.executable, "-m", "siar.devstack", "--once"]
    if not seed:
        command.append("--no-seed")

    result: dict[str, Any] = {"ready_s": None, "ready_seen_s": None, "services": {}}
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timed_out = threading.Event()

    def stop_it() -> None:
        # SIGTERM lets the CLI stop its own children; SIGKILL only if it will not go.
        timed_out.set()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    watchdog = threading.Timer(timeout, stop_it)
    watchdog.start()
    output: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            if (m := READY_LINE.search(line)) is not None:
                result["ready_s"] = float(m.group(1))
                result["ready_seen_s"] = round(time.monotonic() - started, 2)
            elif (m := SERVICE_ROW.match(line)) is not None:
                result["services"][m.group(1)] = float(m.group(2))
            elif (m := INFRA_LINE.match(line)) is not None:
                result["infra"] = m.group(1)
        proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            stop_it()
    result["wall_s"] = round(time.monotonic() - started, 2)
    result["exit_code"] = proc.returncode
    result["timed_out"] = timed_out.is_set()
    if proc.returncode != 0 or result["ready_s"] is None:
        print("  CLI output (last 20 lines):", *output[-20:], sep="\n    ", flush=True)
    return result


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return round(statistics.median(values), 2) if values else None


def main() -> int:
    """Run the CLI ``--runs`` times and print per-run figures and medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="how many starts (first is cold-ish)")
    parser.add_argument("--no-seed", action="store_true", help="pass --no-seed to the CLI")
    parser.add_argument("--timeout", type=float, default=180.0, help="bound per run, seconds")
    args = parser.parse_args()
    if not 1 <= args.runs <= 10:
        parser.error("--runs must be between 1 and 10")

    command = "python -m siar.devstack --once" + (" --no-seed" if args.no_seed else "")
    print(f"command: {command} (fresh ports per run, one temp working dir)", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="siar-bench-dev-") as tmp:
        for i in range(args.runs):
            kind = "cold-ish" if i == 0 else "warm"
            print(f"run {i + 1}/{args.runs} ({kind})…", flush=True)
            result = run_once(Path(tmp), seed=not args.no_seed, timeout=args.timeout)
            result["run"] = i + 1
            result["kind"] = kind
            results.append(result)

    names = list(SERVICES)
    header = f"{'run':>3} {'kind':8} {'ready_s':>8} {'seen_s':>7} {'wall_s':>7} {'exit':>4}"
    print("\n" + header + "".join(f" {n:>9}" for n in names))
    for r in results:
        ready = "-" if r["ready_s"] is None else f"{r['ready_s']:.1f}"
        seen = "-" if r["ready_seen_s"] is None else f"{r['ready_seen_s']:.2f}"
        svc = "".join(
            f" {r['services'][n]:>9.1f}" if n in r["services"] else f" {'-':>9}" for n in names
        )
        line = f"{r['run']:>3} {r['kind']:8} {ready:>8} {seen:>7} {r['wall_s']:>7.2f}"
        note = "  (timed out, stopped)" if r["timed_out"] else ""
        print(f"{line} {r['exit_code']:>4}{svc}{note}")

    ok = [r for r in results if r["exit_code"] == 0 and r["ready_s"] is not None]
    summary = {
        "bench": "dev_startup",
        "command": command,
        "infra": sorted({r.get("infra", "?") for r in results}),
        "runs": len(results),
        "ok_runs": len(ok),
        "median_ready_s": median([r["ready_s"] for r in ok]),
        "median_ready_seen_s": median([r["ready_seen_s"] for r in ok]),
        "median_wall_s": median([r["wall_s"] for r in ok]),
        "warm_median_ready_s": median([r["ready_s"] for r in ok if r["kind"] == "warm"]),
        "per_run": [
            {
                k: r.get(k)
                for k in (
                    "run",
                    "kind",
                    "ready_s",
                    "ready_seen_s",
                    "wall_s",
                    "exit_code",
                    "timed_out",
                )
            }
            for r in results
        ],
    }
    print(
        f"\nmedian over {len(ok)} ok runs: ready {summary['median_ready_s']} s "
        f"(seen from outside {summary['median_ready_seen_s']} s), "
        f"whole command {summary['median_wall_s']} s"
    )
    print(json.dumps(summary, separators=(",", ":")))
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
