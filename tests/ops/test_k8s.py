"""deploy/k8s: rendered overlays valid against Kubernetes' schemas and Siar's rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.ops.crd_schemas import SCHEMAS
from tests.ops.kustomize import Obj, render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# Every kustomization a user applies: the two overlays and the monitoring objects.
TARGETS = {
    "dev": K8S / "overlays/dev",
    "prod": K8S / "overlays/prod",
    "monitoring": K8S / "monitoring",
}
SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")
# Every Deployment: the five services and the web console in front of them.
WORKLOADS = (*SERVICES, "console")
K8S_VERSION = "1.33.0"
SECRETISH = ("SECRET", "KEK", "PASSWORD", "TOKEN", "CLIENTS", "APPS", "MONGODB_URL")


def key(obj: Obj) -> tuple[str, str | None, str]:
    return (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[Obj]:
    return render(K8S / "overlays" / request.param)


@pytest.fixture(scope="module", params=sorted(TARGETS))
def any_target(request: pytest.FixtureRequest) -> list[Obj]:
    return render(TARGETS[request.param])


def by_kind(objects: list[Obj], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_generated_manifests_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(K8S / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("overlay", sorted(TARGETS))
def test_renderer_agrees_with_kubectl_kustomize(overlay: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl binary here; the Python renderer alone renders the overlays")
    out = subprocess.run(
        [kubectl, "kustomize", str(TARGETS[overlay])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    real = {key(o): o for o in yaml.safe_load_all(out) if o}
    mine = {key(o): o for o in render(TARGETS[overlay])}
    assert set(mine) == set(real)
    for k, obj in mine.items():
        assert obj == real[k], k


def test_builtin_kinds_are_valid_kubernetes_strictly(any_target: list[Obj]) -> None:
    for obj in any_target:
        if (obj["apiVersion"], obj["kind"]) not in SCHEMAS:
            # Raises ValidationError on unknown fields (strict) or wrong types.
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_only_the_known_custom_kinds_are_used(rendered: list[Obj]) -> None:
    custom = set()
    for obj in rendered:
        if (obj["apiVersion"], obj["kind"]) in SCHEMAS:
            custom.add(obj["kind"])
    assert custom == {"Kafka", "KafkaNodePool", "KafkaTopic", "ScaledObject", "MongoDBCommunity"}


def test_custom_resources_match_their_documented_fields(any_target: list[Obj]) -> None:
    for obj in any_target:
        schema = SCHEMAS.get((obj["apiVersion"], obj["kind"]))
        if schema is not None:
            jsonschema.validate(obj, schema)


def test_crd_check_rejects_an_undocumented_field() -> None:
    topic = next(o for o in render(K8S / "base") if o["kind"] == "KafkaTopic")
    topic["spec"]["partitionz"] = 3
    with pytest.raises(jsonschema.ValidationError, match="partitionz"):
        jsonschema.validate(topic, SCHEMAS[(topic["apiVersion"], topic["kind"])])


def _container(deployment: Obj) -> Obj:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def test_every_service_has_its_objects_and_a_locked_down_pod(rendered: list[Obj]) -> None:
    deployments = by_kind(rendered, "Deployment")
    assert set(deployments) == {f"siar-{s}" for s in WORKLOADS}
    for kind in ("ServiceAccount", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        assert {f"siar-{s}" for s in WORKLOADS} <= set(by_kind(rendered, kind)), kind
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == name
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        c = _container(dep)
        assert c["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
        }
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"cpu", "memory"} <= set(c["resources"]["requests"])
        assert {"cpu", "memory"} <= set(c["resources"]["limits"])
        assert ":" in c["image"]
        assert not c["image"].endswith(":latest")


def test_secrets_are_referenced_never_inlined(rendered: list[Obj]) -> None:
    assert not by_kind(rendered, "Secret"), "secrets are created out of band"
    for dep in by_kind(rendered, "Deployment").values():
        for item in _container(dep)["env"]:
            if any(word in item["name"] for word in SECRETISH) and not item["name"].endswith(
                "_FILE"
            ):
                assert "valueFrom" in item, item["name"]
                assert "value" not in item, item["name"]
    for cm in by_kind(rendered, "ConfigMap").values():
        for name in cm["data"]:
            assert not any(word in name for word in SECRETISH if word != "APPS"), name


def test_each_deployment_has_exactly_one_autoscaler(rendered: list[Obj]) -> None:
    targets: dict[str, list[str]] = {}
    for obj in rendered:
        if obj["kind"] in ("HorizontalPodAutoscaler", "ScaledObject"):
            targets.setdefault(obj["spec"]["scaleTargetRef"]["name"], []).append(obj["kind"])
    assert set(targets) == {f"siar-{s}" for s in WORKLOADS}
    assert all(len(kinds) == 1 for kinds in targets.values()), targets
    lag = {n for n, k in targets.items() if k == ["ScaledObject"]}
    assert lag == {"siar-publisher", "siar-inbox", "siar-analytics"}
    for so in by_kind(rendered, "ScaledObject").values():
        types = {t["type"] for t in so["spec"]["triggers"]}
        assert types == {"cpu", "kafka"}


def _allowed_peers(policy: Obj, direction: str) -> set[str]:
    """Siar services named by podSelector in a policy's ingress ``from`` / egress ``to``."""
    field = "from" if direction == "ingress" else "to"
    names = set()
    for rule in policy["spec"].get(direction, []):
        for peer in rule.get(field, []):
            labels: dict[str, Any] = peer.get("podSelector", {}).get("matchLabels", {})
            name = labels.get("app.kubernetes.io/name", "")
            if name.startswith("siar-") and "namespaceSelector" not in peer:
                names.add(name.removeprefix("siar-"))
    return names


# The HTTP calls between services (docs/operations.md): everyone verifies tokens with the
# vault's JWKS and takes service tokens from it; the publisher fetches media from the
# scheduler; the console proxies to (and checks the health of) all five. Everything else
# goes through Kafka.
FLOWS = {
    ("scheduler", "vault"),
    ("publisher", "vault"),
    ("inbox", "vault"),
    ("analytics", "vault"),
    ("publisher", "scheduler"),
    *(("console", s) for s in SERVICES),
}


def test_network_policies_allow_only_the_designed_flows(rendered: list[Obj]) -> None:
    policies = by_kind(rendered, "NetworkPolicy")
    deny = policies["siar-services-default-deny"]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    # Exactly Siar's workloads: Kafka's and MongoDB's pods must keep talking to each other.
    (selected,) = deny["spec"]["podSelector"]["matchExpressions"]
    assert set(selected["values"]) == {f"siar-{s}" for s in WORKLOADS}
    (dns,) = policies["siar-services-allow-dns"]["spec"]["podSelector"]["matchExpressions"]
    assert set(dns["values"]) == {f"siar-{s}" for s in WORKLOADS}
    for policy in policies.values():
        if policy["spec"]["podSelector"] == {}:
            raise AssertionError(f"{policy['metadata']['name']} selects every pod")
    egress = {(s, t) for s in WORKLOADS for t in _allowed_peers(policies[f"siar-{s}"], "egress")}
    ingress = {(s, t) for t in WORKLOADS for s in _allowed_peers(policies[f"siar-{t}"], "ingress")}
    assert egress == FLOWS
    assert ingress == FLOWS
    internet = {
        s
        for s in WORKLOADS
        for rule in policies[f"siar-{s}"]["spec"]["egress"]
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    }
    assert internet == {"vault", "publisher", "inbox"}


def test_the_console_reaches_the_five_services_and_nothing_else(rendered: list[Obj]) -> None:
    policy = by_kind(rendered, "NetworkPolicy")["siar-console"]
    # No Kafka, MongoDB, collector or internet: only the services' pods, on their ports.
    services = by_kind(rendered, "Service")
    allowed = set()
    for rule in policy["spec"]["egress"]:
        [peer] = rule["to"]
        assert set(peer) == {"podSelector"}, peer
        name = peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        assert rule["ports"] == [
            {"protocol": "TCP", "port": services[name]["spec"]["ports"][0]["port"]}
        ]
        allowed.add(name)
    assert allowed == {f"siar-{s}" for s in SERVICES}
    sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert [s["namespaceSelector"]["matchLabels"] for s in sources] == [
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"kubernetes.io/metadata.name": "monitoring"},  # Prometheus scrapes /metrics
    ]
    # Its upstreams are the services' own Service names and ports, and it holds no secret.
    env = {e["name"]: e for e in _container(by_kind(rendered, "Deployment")["siar-console"])["env"]}
    for s in SERVICES:
        port = services[f"siar-{s}"]["spec"]["ports"][0]["port"]
        assert env[f"SIAR_CONSOLE_{s.upper()}_URL"]["value"] == f"http://siar-{s}:{port}"
    assert env["SIAR_CONSOLE_PORT"]["value"] == "8100"
    assert all("valueFrom" not in e for e in env.values())
    # The Ingress sends the app's pages to it.
    [ingress] = by_kind(rendered, "Ingress").values()
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert any(p["backend"]["service"]["name"] == "siar-console" for p in paths)


def test_kafka_and_mongodb_are_operator_resources(rendered: list[Obj]) -> None:
    kafka = by_kind(rendered, "Kafka")["siar"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    mongo = by_kind(rendered, "MongoDBCommunity")["siar-mongodb"]
    assert mongo["spec"]["type"] == "ReplicaSet"
    config = by_kind(rendered, "ConfigMap")["siar-platform"]["data"]
    assert config["SIAR_KAFKA_BOOTSTRAP"].startswith("siar-kafka-bootstrap:")


def test_monitoring_carries_the_same_rules_and_dashboards_as_compose() -> None:
    objects = {o["kind"]: o for o in render(TARGETS["monitoring"])}
    groups = [
        g
        for path in sorted((ROOT / "deploy/prometheus/rules").glob("*.yml"))
        for g in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    ]
    assert objects["PrometheusRule"]["spec"]["groups"] == groups
    dashboards = {
        p.name: p.read_text(encoding="utf-8")
        for p in (ROOT / "deploy/grafana/dashboards").glob("*.json")
    }
    assert objects["ConfigMap"]["data"] == dashboards
    assert objects["ConfigMap"]["metadata"]["labels"] == {"grafana_dashboard": "1"}
    monitored = objects["PodMonitor"]["spec"]
    assert set(monitored["namespaceSelector"]["matchNames"]) == {"siar", "siar-dev"}
