"""The embedded dev stack: real Tansu and nx-27017 processes over loopback sockets."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import MongoClient

from siar.devstack import (
    DevSecrets,
    Infra,
    Platform,
    PlatformError,
    PortBusyError,
    free_port,
    kafka_answers_metadata,
    mongo_pings,
    start_embedded,
    start_infra,
)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    infra = start_embedded(tmp_path_factory.mktemp("devstack"))
    try:
        yield infra
    finally:
        infra.stop()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it has exited all the same.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_dev_secrets_persist_with_owner_only_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dev-secrets.json"
    first = DevSecrets.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(first.service_secrets) == {"scheduler", "publisher", "inbox", "analytics"}
    assert DevSecrets.load_or_create(path) == first


def test_dev_secrets_completes_a_file_missing_a_service(tmp_path: Path) -> None:
    path = tmp_path / "dev-secrets.json"
    first = DevSecrets.load_or_create(path)
    raw = json.loads(path.read_text())
    del raw["service_secrets"]["inbox"]
    path.write_text(json.dumps(raw))
    path.chmod(0o644)
    again = DevSecrets.load_or_create(path)
    assert again.kek_b64 == first.kek_b64
    assert again.service_secrets["scheduler"] == first.service_secrets["scheduler"]
    assert again.service_secrets["inbox"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_dev_secrets_refuse_to_overwrite_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "dev-secrets.json"
    path.write_text("{not json")
    with pytest.raises(PlatformError, match="cannot read dev secrets"):
        DevSecrets.load_or_create(path)
    assert path.read_text() == "{not json"


def test_platform_environment_of_vault_and_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIAR_VAULT_KEK_KEYS", raising=False)
    infra = Infra("127.0.0.1:1", "mongodb://127.0.0.1:2/", "embedded", idempotent_producer=False)
    secrets = DevSecrets.generate()
    platform = Platform(infra, secrets, tmp_path, ports={"vault": 9999}, extra_env={"X_Y": "z"})
    vault = platform.env_for("vault")
    assert json.loads(vault["SIAR_VAULT_KEK_KEYS"]) == {"1": secrets.kek_b64}
    assert json.loads(vault["SIAR_VAULT_SERVICE_CLIENTS"]) == secrets.service_secrets
    assert vault["SIAR_VAULT_PORT"] == "9999"
    inbox = platform.env_for("inbox")
    assert inbox["SIAR_INBOX_SERVICE_SECRET"] == secrets.service_secrets["inbox"]
    assert inbox["SIAR_INBOX_PORT"] == "8103"
    assert inbox["SIAR_INBOX_HOST"] == "127.0.0.1"
    assert inbox["SIAR_VAULT_URL"] == "http://127.0.0.1:9999"
    assert inbox["SIAR_KAFKA_IDEMPOTENT_PRODUCER"] == "false"
    assert inbox["SIAR_ENV"] == "dev"
    assert inbox["X_Y"] == "z"
    assert "SIAR_VAULT_KEK_KEYS" not in inbox
    assert platform.urls["scheduler"] == "http://127.0.0.1:8101"


def test_external_urls_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIAR_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SIAR_MONGODB_URL", "mongodb://mongo:27017/?replicaSet=rs0")
    monkeypatch.delenv("SIAR_KAFKA_IDEMPOTENT_PRODUCER", raising=False)
    infra = start_infra(tmp_path)
    assert (infra.kind, infra.kafka_bootstrap, infra.idempotent_producer) == (
        "external",
        "kafka:9092",
        True,
    )
    assert not infra.processes
    infra.stop()
    assert not list(tmp_path.iterdir())


def test_a_busy_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortBusyError, match=f"port {port} for Kafka"):
            start_embedded(tmp_path, kafka_port=port)
    assert not (tmp_path / "logs").exists()


def test_probes_say_no_to_a_closed_port() -> None:
    port = free_port()
    assert not kafka_answers_metadata("127.0.0.1", port, timeout=0.5)
    assert not mongo_pings(f"mongodb://127.0.0.1:{port}/?directConnection=true", timeout=0.3)


def test_embedded_mongo_answers_pymongo(embedded: Infra) -> None:
    assert embedded.kind == "embedded"
    assert not embedded.idempotent_producer
    client: MongoClient[dict[str, Any]] = MongoClient(embedded.mongodb_url)
    with client:
        assert client.admin.command("ping")["ok"] == 1
        client.devstack_test.items.insert_one({"_id": "a", "n": 1})
        assert client.devstack_test.items.find_one({"_id": "a"}) == {"_id": "a", "n": 1}


async def test_embedded_kafka_round_trips_a_message(embedded: Infra) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=embedded.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("devstack.test", 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=embedded.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("devstack.test", b"hello", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=embedded.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition("devstack.test", 0)])
        message = await asyncio.wait_for(consumer.getone(), timeout=10)
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"k", b"hello")


def test_stop_leaves_no_process_and_data_survives_a_restart(tmp_path: Path) -> None:
    infra = start_embedded(tmp_path)
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongodb_url)
    with client:
        client.keep.items.insert_one({"_id": "kept"})
    pids = [proc.pid for proc in infra.processes.values()]
    infra.stop()
    assert all(proc.returncode is not None for proc in infra.processes.values())
    assert all(_gone(pid) for pid in pids)

    again = start_embedded(tmp_path)
    try:
        reopened: MongoClient[dict[str, Any]] = MongoClient(again.mongodb_url)
        with reopened:
            assert reopened.keep.items.find_one({"_id": "kept"}) == {"_id": "kept"}
    finally:
        again.stop()


def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from siar.devstack import start_embedded
        infra = start_embedded(Path({str(tmp_path)!r}))
        print(*(p.pid for p in infra.processes.values()), flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert not any(_gone(pid) for pid in pids)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in pids)
