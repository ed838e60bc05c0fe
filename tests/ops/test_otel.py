"""The OpenTelemetry collector config is complete and wired to compose and Kubernetes.

No collector binary is available offline, so its config is checked for what the
collector itself refuses at start: a pipeline naming a component that is not defined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.ops.kustomize import render

ROOT = Path(__file__).resolve().parents[2]


def load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    return data


def test_every_pipeline_component_is_defined() -> None:
    config = load("deploy/otel/collector.yaml")
    pipelines = config["service"]["pipelines"]
    assert "traces" in pipelines
    for pipeline in pipelines.values():
        for kind in ("receivers", "processors", "exporters"):
            for name in pipeline.get(kind, []):
                assert name in config[kind], f"{name} is not defined under {kind}"
    for name in config["service"].get("extensions", []):
        assert name in config["extensions"]


def test_services_send_to_the_collectors_otlp_http_port() -> None:
    config = load("deploy/otel/collector.yaml")
    http_port = int(config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].split(":")[1])
    compose = load("docker-compose.yml")
    endpoint = urlsplit(compose["x-service-env"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname in compose["services"]
    assert endpoint.port == http_port
    platform = next(
        o
        for o in render(ROOT / "deploy/k8s/base")
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "siar-platform"
    )
    assert urlsplit(platform["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]).port == http_port


def test_traces_reach_jaeger() -> None:
    config = load("deploy/otel/collector.yaml")
    exporter = config["exporters"]["otlp/jaeger"]["endpoint"]
    host = exporter.split(":")[0]
    assert host in load("docker-compose.yml")["services"]
    assert "otlp/jaeger" in config["service"]["pipelines"]["traces"]["exporters"]
