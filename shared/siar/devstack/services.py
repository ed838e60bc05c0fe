"""The five Siar services as separate local processes, with persistent dev secrets."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from secrets import token_bytes, token_urlsafe

import httpx

from siar.devstack._proc import forget, log_tail, port_is_free, signal_group, spawn, terminate
from siar.devstack.infra import Infra

SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")
CLIENT_SERVICES = ("scheduler", "publisher", "inbox", "analytics")
# The web console proxies to the others; started only when asked for (siar-dev does).
CONSOLE = "console"
ALL_SERVICES = (*SERVICES, CONSOLE)
DEFAULT_PORTS: dict[str, int] = {
    "console": 8100,
    "scheduler": 8101,
    "publisher": 8102,
    "inbox": 8103,
    "analytics": 8104,
    "vault": 8105,
}


class PlatformError(RuntimeError):
    """A service could not be started, exited, or did not become ready."""


@dataclass
class DevSecrets:
    """The vault's key-encryption key and each service's client secret, for dev only."""

    kek_b64: str
    service_secrets: dict[str, str]

    @classmethod
    def generate(cls) -> DevSecrets:
        """Fresh random secrets: a 32-byte KEK and one client secret per service."""
        return cls(
            kek_b64=base64.b64encode(token_bytes(32)).decode("ascii"),
            service_secrets={name: token_urlsafe(32) for name in CLIENT_SERVICES},
        )

    @classmethod
    def load_or_create(cls, path: Path) -> DevSecrets:
        """Read secrets from ``path``, creating (or completing) the file with mode 0600."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            created = cls.generate()
            created.save(path)
            return created
        except (OSError, ValueError) as err:
            # Never regenerate over a damaged file: the KEK decrypts stored tokens.
            raise PlatformError(f"cannot read dev secrets at {path}: {err}") from err
        loaded = cls._parse(raw, path)
        missing = [name for name in CLIENT_SERVICES if name not in loaded.service_secrets]
        for name in missing:
            loaded.service_secrets[name] = token_urlsafe(32)
        if missing or (path.stat().st_mode & 0o777) != 0o600:
            loaded.save(path)
        return loaded

    @classmethod
    def _parse(cls, raw: object, path: Path) -> DevSecrets:
        if not isinstance(raw, dict):
            raise PlatformError(f"dev secrets at {path} are not a JSON object")
        kek = raw.get("kek_b64")
        services = raw.get("service_secrets", {})
        if not isinstance(kek, str) or not isinstance(services, dict):
            raise PlatformError(f"dev secrets at {path} lack kek_b64 or service_secrets")
        try:
            valid_kek = len(base64.b64decode(kek, validate=True)) == 32
        except ValueError:
            valid_kek = False
        if not valid_kek:
            raise PlatformError(f"kek_b64 in {path} is not 32 bytes of base64")
        return cls(kek_b64=kek, service_secrets={str(k): str(v) for k, v in services.items()})

    def save(self, path: Path) -> None:
        """Write the secrets as JSON, readable by the owner only, replacing atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        # Created 0600 from the start, so the secrets are never world-readable on disk.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(
                {"kek_b64": self.kek_b64, "service_secrets": self.service_secrets}, out, indent=2
            )
            out.write("\n")
        os.replace(tmp, path)


class Platform:
    """Starts, watches and stops every Siar service as its own child process."""

    def __init__(
        self,
        infra: Infra,
        secrets: DevSecrets,
        log_dir: Path,
        *,
        ports: Mapping[str, int] | None = None,
        log_format: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        services: Sequence[str] = SERVICES,
    ) -> None:
        """Prepare (not start) ``services``; ``ports`` overrides :data:`DEFAULT_PORTS`."""
        unknown = set(services) - set(ALL_SERVICES)
        if unknown:
            known = ", ".join(ALL_SERVICES)
            raise PlatformError(f"unknown services {sorted(unknown)}; known: {known}")
        # Vault first: start() launches in this order.
        self.services = tuple(name for name in ALL_SERVICES if name in services)
        self.infra = infra
        self.secrets = secrets
        self.log_dir = log_dir
        self.ports: dict[str, int] = {**DEFAULT_PORTS, **(ports or {})}
        self.log_format = log_format or os.environ.get("SIAR_LOG_FORMAT", "json")
        self.extra_env = dict(extra_env or {})
        self.cwd = cwd
        self.urls: dict[str, str] = {
            name: f"http://127.0.0.1:{self.ports[name]}" for name in ALL_SERVICES
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._started_at: dict[str, float] = {}

    def log_path(self, name: str) -> Path:
        """The file receiving a service's stdout and stderr."""
        return self.log_dir / f"{name}.log"

    def env_for(self, name: str) -> dict[str, str]:
        """The environment a service process starts with."""
        prefix = f"SIAR_{name.upper()}_"
        env = dict(os.environ)
        # Children write to a file; unbuffered so a crash leaves its last words in the log.
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(
            {
                "SIAR_ENV": "dev",
                "SIAR_KAFKA_BOOTSTRAP": self.infra.kafka_bootstrap,
                "SIAR_MONGODB_URL": self.infra.mongodb_url,
                "SIAR_KAFKA_IDEMPOTENT_PRODUCER": str(self.infra.idempotent_producer).lower(),
                # nx-27017 nests overlapping transactions; see docs/embedded-stack.md.
                "SIAR_MONGO_SERIALIZE_TRANSACTIONS": str(self.infra.kind == "embedded").lower(),
                "SIAR_VAULT_URL": self.urls["vault"],
                "SIAR_SCHEDULER_URL": self.urls["scheduler"],
                "SIAR_LOG_FORMAT": self.log_format,
                f"{prefix}PORT": str(self.ports[name]),
                f"{prefix}HOST": "127.0.0.1",
            }
        )
        if name == "vault":
            env["SIAR_VAULT_KEK_KEYS"] = json.dumps({"1": self.secrets.kek_b64})
            env["SIAR_VAULT_KEK_ACTIVE"] = "1"
            env["SIAR_VAULT_SERVICE_CLIENTS"] = json.dumps(
                {client: self.secrets.service_secrets[client] for client in CLIENT_SERVICES}
            )
        elif name == CONSOLE:
            # The console holds no secret: it forwards the browser's own tokens.
            env.update({f"{prefix}{svc.upper()}_URL": self.urls[svc] for svc in SERVICES})
        else:
            env[f"{prefix}SERVICE_SECRET"] = self.secrets.service_secrets[name]
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        """Start the vault, then the other services, all without waiting for readiness."""
        busy = [
            f"{name} ({self.ports[name]})"
            for name in self.services
            if not port_is_free(self.ports[name])
        ]
        if busy:
            raise PlatformError(f"ports already in use on 127.0.0.1: {', '.join(busy)}")
        # Popen returns at once, so after the vault the others boot in parallel; they fetch
        # the vault's keys lazily, so nobody has to wait for the vault to be ready.
        for name in self.services:
            self.start_one(name)

    def start_one(self, name: str) -> None:
        """Start one service (again, after :meth:`kill`); its log file is appended to."""
        if name not in ALL_SERVICES:
            known = ", ".join(ALL_SERVICES)
            raise PlatformError(f"unknown service {name!r}; known: {known}")
        running = self.processes.get(name)
        if running is not None and running.poll() is None:
            raise PlatformError(f"{name} is already running (pid {running.pid})")
        self._started_at[name] = time.monotonic()
        self.processes[name] = spawn(
            [sys.executable, "-m", f"siar_{name}"],
            log_path=self.log_path(name),
            env=self.env_for(name),
            cwd=self.cwd,
        )

    def wait_ready(self, timeout: float = 60) -> dict[str, float]:
        """Poll each ``/readyz`` until 200; seconds from each start to ready, per service."""
        deadline = time.monotonic() + timeout
        ready: dict[str, float] = {}
        with httpx.Client(timeout=1.0, trust_env=False) as http:
            while True:
                for name, proc in self.processes.items():
                    if name in ready:
                        continue
                    if proc.poll() is not None:
                        raise PlatformError(self._failure(name, f"exited with {proc.returncode}"))
                    if self._is_ready(http, name):
                        ready[name] = time.monotonic() - self._started_at[name]
                if len(ready) == len(self.processes):
                    return ready
                if time.monotonic() > deadline:
                    late = [name for name in self.processes if name not in ready]
                    raise PlatformError(
                        "\n\n".join(
                            self._failure(name, f"not ready in {timeout:g} s") for name in late
                        )
                    )
                time.sleep(0.1)

    def _is_ready(self, http: httpx.Client, name: str) -> bool:
        try:
            return http.get(f"{self.urls[name]}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def _failure(self, name: str, what: str) -> str:
        path = self.log_path(name)
        return f"{name} {what}; log {path}:\n{log_tail(path)}"

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one service (its whole process group); wait if it is SIGKILL."""
        proc = self.processes.get(name)
        if proc is None:
            raise PlatformError(f"{name} was never started")
        signal_group(proc, sig)
        if sig == signal.SIGKILL:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            forget([proc])

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM every service, wait up to ``timeout`` seconds, then SIGKILL stragglers."""
        terminate(self.processes.values(), timeout)

    def exited(self) -> dict[str, int]:
        """Services whose process has ended, with their exit codes."""
        return {
            name: code for name, proc in self.processes.items() if (code := proc.poll()) is not None
        }
