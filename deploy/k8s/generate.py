"""Writes deploy/k8s/base/services/*.yaml (one file per service) and the topic files.

The five services differ only in a few facts (port, who may call them, whether they
reach the social networks, how they scale), so those facts live in SERVICES below and
every manifest is built from them the same way. Run `python deploy/k8s/generate.py`
after changing this file; tests/ops/test_k8s.py fails while the committed YAML differs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A script beside its helper module, also loaded by path from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import k8s_monitoring
from k8s_topics import GENERATED, compose_topics_script, kafka_topics

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "k8s" / "base" / "services"
PART_OF = "siar"
KAFKA_BOOTSTRAP = "siar-kafka-bootstrap:9092"
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"  # Prometheus and the OpenTelemetry collector
# Private ranges are never "the internet": pods reach the cluster only through the
# explicit rules, and the networks' APIs only over public HTTPS.
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]


@dataclass(frozen=True)
class Service:
    """What distinguishes one service's manifests from another's."""

    name: str
    port: int
    called_by: tuple[str, ...] = ()  # other Siar services that call its HTTP API
    calls: tuple[str, ...] = ("vault",)  # Siar services it calls (JWKS, tokens, credentials)
    internet: bool = False  # calls the social networks' APIs
    lag_scaled: bool = False  # KEDA scales it on consumer lag (else a CPU HPA)
    tmp_size: str = "256Mi"
    secret_env: dict[str, str] = field(default_factory=dict)  # env var -> key in siar-secrets
    extra_env: dict[str, str] = field(default_factory=dict)


SERVICES = (
    Service(
        "vault",
        8105,
        called_by=("scheduler", "publisher", "inbox", "analytics"),
        calls=(),
        internet=True,  # OAuth code exchange and token refresh
        secret_env={
            "SIAR_VAULT_SERVICE_CLIENTS": "vault-service-clients",
            "SIAR_VAULT_APPS": "vault-apps",
        },
        extra_env={"SIAR_VAULT_KEK_FILE": "/etc/siar/kek/keks.json"},
    ),
    Service(
        "scheduler",
        8101,
        called_by=("publisher",),  # media for deliveries
        tmp_size="1Gi",  # uploads of up to 512 MiB spool to /tmp
        secret_env={
            "SIAR_SCHEDULER_SERVICE_SECRET": "scheduler-service-secret",
            "SIAR_SCHEDULER_MEDIA_URL_SECRET": "scheduler-media-url-secret",
        },
    ),
    Service(
        "publisher",
        8102,
        calls=("vault", "scheduler"),
        internet=True,
        lag_scaled=True,
        secret_env={"SIAR_PUBLISHER_SERVICE_SECRET": "publisher-service-secret"},
    ),
    Service(
        "inbox",
        8103,
        internet=True,
        lag_scaled=True,
        secret_env={"SIAR_INBOX_SERVICE_SECRET": "inbox-service-secret"},
    ),
    Service(
        "analytics",
        8104,
        lag_scaled=True,
        secret_env={"SIAR_ANALYTICS_SERVICE_SECRET": "analytics-service-secret"},
    ),
)
BY_NAME = {s.name: s for s in SERVICES}


def labels(svc: Service) -> dict[str, str]:
    """Selector labels of a service's pods."""
    return {"app.kubernetes.io/name": f"siar-{svc.name}", "app.kubernetes.io/part-of": PART_OF}


def meta(svc: Service, **extra: Any) -> dict[str, Any]:
    """Metadata shared by every object of a service."""
    return {
        "name": f"siar-{svc.name}",
        "labels": {**labels(svc), "app.kubernetes.io/component": svc.name},
        **extra,
    }


def env(svc: Service) -> list[dict[str, Any]]:
    """Environment: bind address and port, then secrets by reference, never by value."""
    prefix = f"SIAR_{svc.name.upper()}_"
    items: list[dict[str, Any]] = [
        {"name": f"{prefix}HOST", "value": "0.0.0.0"},  # noqa: S104 (a pod's own address)
        {"name": f"{prefix}PORT", "value": str(svc.port)},
        {
            "name": "SIAR_MONGODB_URL",
            "valueFrom": {
                "secretKeyRef": {
                    "name": "siar-mongodb-admin-siar",
                    "key": "connectionString.standard",
                }
            },
        },
    ]
    items += [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": "siar-secrets", "key": key}}}
        for var, key in svc.secret_env.items()
    ]
    items += [{"name": k, "value": v} for k, v in svc.extra_env.items()]
    return items


def probe(path: str, **timing: int) -> dict[str, Any]:
    """An HTTP probe on the service's port."""
    return {"httpGet": {"path": path, "port": "http"}, "timeoutSeconds": 3, **timing}


def container(svc: Service) -> dict[str, Any]:
    """The one container of a service's pods, locked down."""
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 (an emptyDir)
    if svc.name == "vault":
        mounts.append({"name": "kek", "mountPath": "/etc/siar/kek", "readOnly": True})
    return {
        "name": svc.name,
        "image": f"siar/{svc.name}:0.1.0",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": svc.port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": "siar-platform"}}],
        "env": env(svc),
        "startupProbe": probe("/healthz", periodSeconds=2, failureThreshold=30),
        "livenessProbe": probe("/healthz", periodSeconds=10, failureThreshold=3),
        "readinessProbe": probe("/readyz", periodSeconds=5, failureThreshold=3),
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": mounts,
    }


def deployment(svc: Service) -> dict[str, Any]:
    """The service's Deployment; replicas come from its autoscaler."""
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": svc.tmp_size}}]
    if svc.name == "vault":
        # Readable by the service's group only (fsGroup 10001), never by others.
        volumes.append(
            {"name": "kek", "secret": {"secretName": "siar-vault-kek", "defaultMode": 0o440}}
        )
    annotations = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(svc.port),
        "prometheus.io/path": "/metrics",
    }
    pod_spec = {
        "serviceAccountName": f"siar-{svc.name}",
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 30,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(svc)],
        "volumes": volumes,
        # Replicas on different nodes (and zones where there are any), so one node's loss
        # never takes a whole service; preferred, so a small cluster still schedules them.
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels(svc)},
            }
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(svc),
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": labels(svc)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": meta(svc)["labels"], "annotations": annotations},
                "spec": pod_spec,
            },
        },
    }


def service_objects(svc: Service) -> list[dict[str, Any]]:
    """ServiceAccount, Service and PodDisruptionBudget."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta(svc),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(svc),
            "spec": {
                "selector": labels(svc),
                "ports": [{"name": "http", "port": svc.port, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta(svc),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(svc)}},
        },
    ]


def autoscaler(svc: Service) -> dict[str, Any]:
    """A CPU HPA, or for consumers a KEDA ScaledObject on CPU and consumer lag.

    Never both for one Deployment: KEDA makes its own HPA, and two would fight.
    """
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"siar-{svc.name}"}
    if not svc.lag_scaled:
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta(svc),
            "spec": {
                "scaleTargetRef": target,
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        }
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": meta(svc),
        "spec": {
            "scaleTargetRef": target,
            "minReplicaCount": 2,
            # More consumers than partitions would idle; the smallest topic it reads has 6.
            "maxReplicaCount": 6,
            "cooldownPeriod": 300,
            "triggers": [
                {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
                {
                    "type": "kafka",
                    "metadata": {
                        "bootstrapServers": KAFKA_BOOTSTRAP,
                        "consumerGroup": f"siar-{svc.name}",
                        "lagThreshold": "100",
                        "offsetResetPolicy": "earliest",
                    },
                },
            ],
        },
    }


def peers(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Selectors of other Siar services' pods."""
    return [{"podSelector": {"matchLabels": labels(BY_NAME[n])}} for n in names]


def namespace(name: str) -> dict[str, Any]:
    """Selector of a namespace by the name label Kubernetes sets on every namespace."""
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def network_policy(svc: Service) -> dict[str, Any]:
    """Only the flows of docs/operations.md: everything else is denied by default-deny."""
    ingress_from = [
        namespace(INGRESS_NAMESPACE),
        namespace(MONITORING_NAMESPACE),  # Prometheus scrapes /metrics
        *peers(svc.called_by),
    ]
    egress: list[dict[str, Any]] = [
        {
            "to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": "siar"}}}],
            "ports": [{"protocol": "TCP", "port": 9092}],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"app": "siar-mongodb-svc"}}}],
            "ports": [{"protocol": "TCP", "port": 27017}],
        },
        {
            "to": [namespace(MONITORING_NAMESPACE)],
            "ports": [{"protocol": "TCP", "port": 4318}],  # OTLP traces
        },
    ]
    for callee in svc.calls:
        egress.append(
            {
                "to": peers((callee,)),
                "ports": [{"protocol": "TCP", "port": BY_NAME[callee].port}],
            }
        )
    if svc.internet:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}],
                "ports": [{"protocol": "TCP", "port": 443}],
            }
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(svc),
        "spec": {
            "podSelector": {"matchLabels": labels(svc)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": ingress_from, "ports": [{"protocol": "TCP", "port": svc.port}]}],
            "egress": egress,
        },
    }


def render(svc: Service) -> str:
    """Every object of one service as a YAML stream."""
    objects = [
        *service_objects(svc),
        deployment(svc),
        autoscaler(svc),
        network_policy(svc),
    ]
    header = GENERATED.format(what=f"its SERVICES entry for {svc.name}")
    return header + yaml.safe_dump_all(objects, sort_keys=False, width=100)


def outputs() -> dict[Path, str]:
    """Every generated file and its content."""
    files = {OUT / f"{svc.name}.yaml": render(svc) for svc in SERVICES}
    files[ROOT / "deploy" / "k8s" / "base" / "kafka" / "topics.yaml"] = kafka_topics()
    files[ROOT / "deploy" / "docker" / "kafka-topics.sh"] = compose_topics_script()
    files.update(k8s_monitoring.outputs())
    return files


def main(argv: list[str]) -> int:
    """Write the files, or with --check report whether the committed ones are current."""
    check = "--check" in argv
    stale = []
    for path, text in outputs().items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python deploy/k8s/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
