"""``siar-dev``: Kafka, MongoDB and every Siar service on this machine, with a demo login."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from siar.devstack.infra import Infra, InfraError, PortBusyError, start_infra
from siar.devstack.seed import DemoLogin, SeedError, seed_demo
from siar.devstack.services import (
    ALL_SERVICES,
    CONSOLE,
    DEFAULT_PORTS,
    DevSecrets,
    Platform,
    PlatformError,
)

DEFAULT_KAFKA_PORT = 19092
DEFAULT_MONGO_PORT = 27117


class _UsageError(ValueError):
    """A setting given to siar-dev is malformed."""


class _StopRequested(BaseException):
    """Raised by the SIGTERM handler so the stack unwinds like on Ctrl-C."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the dev stack until Ctrl-C or SIGTERM (or once, with ``--once``); the exit code."""
    args = _parse_args(argv)
    root = Path.cwd() / ".siar"
    try:
        return _run(args, root)
    except (InfraError, PlatformError, SeedError, _UsageError) as err:
        print(f"siar-dev: {_explain(err)}", file=sys.stderr, flush=True)
        return 1


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="siar-dev",
        description="Run Kafka, MongoDB and every Siar service locally; data in ./.siar/.",
    )
    parser.add_argument("--no-seed", action="store_true", help="skip creating the demo login")
    parser.add_argument(
        "--once", action="store_true", help="start, report readiness, seed, then stop (tests)"
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=60.0, help="seconds to wait for every /readyz"
    )
    return parser.parse_args(argv)


def _run(args: argparse.Namespace, root: Path) -> int:
    started = time.monotonic()
    log_dir = root / "logs"
    previous_int = signal.getsignal(signal.SIGINT)
    previous_term = signal.signal(signal.SIGTERM, _raise_stop)
    infra: Infra | None = None
    platform: Platform | None = None
    try:
        infra = start_infra(
            root / "data",
            kafka_port=_env_port("SIAR_DEV_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            mongo_port=_env_port("SIAR_DEV_MONGO_PORT", DEFAULT_MONGO_PORT),
            log_dir=log_dir,
        )
        _say(f"Kafka {infra.kafka_bootstrap} and MongoDB {infra.mongodb_url} ({infra.kind})")
        secrets = DevSecrets.load_or_create(root / "dev-secrets.json")
        platform = Platform(infra, secrets, log_dir, ports=_service_ports(), services=ALL_SERVICES)
        platform.start()
        ready = platform.wait_ready(timeout=args.ready_timeout)
        elapsed = time.monotonic() - started
        login = None if args.no_seed else asyncio.run(seed_demo(platform.urls))
        _report(platform, ready, elapsed, login, log_dir)
        if not args.once:
            _say("Press Ctrl-C to stop.")
            _watch(platform)
    except (KeyboardInterrupt, _StopRequested):
        _say("\nStopping…")
    finally:
        # A second Ctrl-C must not abandon children half-stopped; stopping is bounded anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if platform is not None:
            platform.stop()
        if infra is not None:
            infra.stop()
        # None means "not set from Python"; the defaults are right then.
        signal.signal(signal.SIGINT, previous_int or signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous_term or signal.SIG_DFL)
    _say("Stopped.")
    return 0


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequested


def _env_port(variable: str, default: int) -> int:
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as err:
        raise _UsageError(f"{variable}={value!r} is not a port number") from err


def _service_ports() -> dict[str, int]:
    """Default ports, each overridable by ``SIAR_DEV_<SERVICE>_PORT``."""
    return {
        name: _env_port(f"SIAR_DEV_{name.upper()}_PORT", DEFAULT_PORTS[name])
        for name in ALL_SERVICES
    }


def _explain(err: Exception) -> str:
    if isinstance(err, PortBusyError):
        variable = "SIAR_DEV_KAFKA_PORT" if "Kafka" in err.what else "SIAR_DEV_MONGO_PORT"
        return f"{err}. Is another siar-dev running? Choose another port with {variable}=…"
    if isinstance(err, PlatformError) and "ports already in use" in str(err):
        return f"{err}. Is another siar-dev running? Override with SIAR_DEV_<SERVICE>_PORT=…"
    return str(err)


def _report(
    platform: Platform,
    ready: dict[str, float],
    elapsed: float,
    login: DemoLogin | None,
    log_dir: Path,
) -> None:
    _say(f"\nSiar is ready in {elapsed:.1f} s (from start to every /readyz answering 200)\n")
    rows = [("service", "docs", "readyz", "ready after")]
    for name in platform.services:
        url = platform.urls[name]
        docs = f"{url}/" if name == CONSOLE else f"{url}/docs"
        rows.append((name, docs, f"{url}/readyz", f"{ready[name]:.1f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        _say(("  " + "  ".join(cells)).rstrip())
    if login is not None:
        _say(f"\nDemo login: {login.email} / {login.password}")
        _say(f"  workspace {login.workspace_id}, sandbox account {login.account_id}")
    _say(f"\nLogs: {log_dir}/ ({', '.join(sorted(p.name for p in log_dir.glob('*.log')))})")
    if CONSOLE in platform.services:
        _say(f"\nOpen Siar in your browser: {platform.urls[CONSOLE]}/")


def _watch(platform: Platform) -> None:
    """Sleep until a stop signal, telling the developer once about each service that dies."""
    reported: set[str] = set()
    while True:
        time.sleep(1.0)
        for name, code in platform.exited().items():
            if name not in reported:
                reported.add(name)
                _say(f"warning: {name} exited with code {code}; see {platform.log_path(name)}")


def _say(text: str) -> None:
    print(text, flush=True)
