"""docker-compose.yml: valid Compose, the whole stack, secrets required, start order.

No Docker engine here, so the file is checked, not run: against the Compose
specification's JSON schema (check-jsonschema's vendored copy) and for what Siar needs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_file_matches_the_compose_specification() -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  x:\n    image: a\n    imagez: b\n")
    result = check_jsonschema(bad)
    assert result.returncode != 0
    assert "imagez" in result.stdout


def test_the_whole_stack_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {*SERVICES, "kafka", "kafka-init", "mongodb", "prometheus", "grafana"}
    assert expected | {"otel-collector", "jaeger"} <= set(services)
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert "zookeeper" not in str(services).lower()
    assert "--replSet" in services["mongodb"]["command"]


def test_services_start_in_order_and_report_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in (*SERVICES, "kafka", "mongodb"):
        assert "healthcheck" in services[name], name
    for name in SERVICES:
        deps = services[name]["depends_on"]
        assert deps["kafka-init"]["condition"] == "service_completed_successfully"
        assert deps["mongodb"]["condition"] == "service_healthy"
        if name != "vault":
            assert deps["vault"]["condition"] == "service_healthy", name
        assert "/readyz" in str(services[name]["healthcheck"]["test"])
        assert services[name]["read_only"] is True
        assert services[name]["cap_drop"] == ["ALL"]
        assert services[name]["build"]["args"]["SERVICE"] == name
    assert services["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_secrets_are_required_never_defaulted(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for match in re.finditer(r"\$\{([A-Z_]+)([^}]*)\}", text):
        name, rest = match.groups()
        if any(word in name for word in ("SECRET", "KEK", "PASSWORD")):
            assert rest.startswith(":?"), f"{name} must be required with ${{{name}:?}}"
    env = compose["services"]["scheduler"]["environment"]
    assert env["SIAR_ENV"] == "prod"  # prod refuses placeholder secrets at start


def test_the_env_example_names_every_required_variable() -> None:
    lines = COMPOSE.read_text(encoding="utf-8").splitlines()
    text = "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    example = (ROOT / "deploy/docker/compose.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert required
    assert required <= listed, f"missing from compose.env.example: {required - listed}"


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
