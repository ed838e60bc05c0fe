"""The facts that tell one Siar workload's manifests from another's (generate.py's table).

The five services and the console differ only in a few facts (port, who calls them,
whom they call, whether they reach the social networks, Kafka and MongoDB, how they
scale), so those facts live in SERVICES and every manifest is built from them the same
way (k8s_workloads.py, k8s_network.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PART_OF = "siar"
KAFKA_BOOTSTRAP = "siar-kafka-bootstrap:9092"
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"  # Prometheus and the OpenTelemetry collector
# Private ranges are never "the internet": pods reach the cluster only through the
# explicit rules, and the networks' APIs only over public HTTPS.
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]


@dataclass(frozen=True)
class Service:
    """What distinguishes one workload's manifests from another's."""

    name: str
    port: int
    called_by: tuple[str, ...] = ()  # other Siar workloads that call its HTTP API
    calls: tuple[str, ...] = ("vault",)  # Siar services it calls (JWKS, tokens, credentials)
    internet: bool = False  # calls the social networks' APIs
    backed: bool = True  # uses Kafka and MongoDB (and sends traces); the console does not
    lag_scaled: bool = False  # KEDA scales it on consumer lag (else a CPU HPA)
    tmp_size: str = "256Mi"
    secret_env: dict[str, str] = field(default_factory=dict)  # env var -> key in siar-secrets
    extra_env: dict[str, str] = field(default_factory=dict)


# The console sits in front of every service: the browser's /v1 calls reach the services
# through the Ingress, and the console's own proxy and readiness check call them too.
CONSOLE = "console"
API_SERVICES = (
    Service(
        "vault",
        8105,
        called_by=(CONSOLE, "scheduler", "publisher", "inbox", "analytics"),
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
        called_by=(CONSOLE, "publisher"),  # media for deliveries
        tmp_size="1Gi",  # uploads of up to 512 MiB spool to /tmp
        secret_env={
            "SIAR_SCHEDULER_SERVICE_SECRET": "scheduler-service-secret",
            "SIAR_SCHEDULER_MEDIA_URL_SECRET": "scheduler-media-url-secret",
        },
    ),
    Service(
        "publisher",
        8102,
        called_by=(CONSOLE,),
        calls=("vault", "scheduler"),
        internet=True,
        lag_scaled=True,
        secret_env={"SIAR_PUBLISHER_SERVICE_SECRET": "publisher-service-secret"},
    ),
    Service(
        "inbox",
        8103,
        called_by=(CONSOLE,),
        internet=True,
        lag_scaled=True,
        secret_env={"SIAR_INBOX_SERVICE_SECRET": "inbox-service-secret"},
    ),
    Service(
        "analytics",
        8104,
        called_by=(CONSOLE,),
        lag_scaled=True,
        secret_env={"SIAR_ANALYTICS_SERVICE_SECRET": "analytics-service-secret"},
    ),
)
CONSOLE_SERVICE = Service(
    CONSOLE,
    8100,
    calls=tuple(s.name for s in API_SERVICES),
    backed=False,  # the app's files and a proxy: no data, no events, no secrets
    tmp_size="64Mi",
    extra_env={
        f"SIAR_CONSOLE_{s.name.upper()}_URL": f"http://siar-{s.name}:{s.port}" for s in API_SERVICES
    },
)
SERVICES = (*API_SERVICES, CONSOLE_SERVICE)
BY_NAME = {s.name: s for s in SERVICES}


def labels(svc: Service) -> dict[str, str]:
    """Selector labels of a workload's pods."""
    return {"app.kubernetes.io/name": f"siar-{svc.name}", "app.kubernetes.io/part-of": PART_OF}


def meta(svc: Service, **extra: Any) -> dict[str, Any]:
    """Metadata shared by every object of a workload."""
    return {
        "name": f"siar-{svc.name}",
        "labels": {**labels(svc), "app.kubernetes.io/component": svc.name},
        **extra,
    }
