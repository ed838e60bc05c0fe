"""Each workload's NetworkPolicy: only the flows of docs/operations.md."""

from __future__ import annotations

from typing import Any

from k8s_services import (
    BY_NAME,
    INGRESS_NAMESPACE,
    MONITORING_NAMESPACE,
    PRIVATE,
    Service,
    labels,
    meta,
)


def peers(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Selectors of other Siar workloads' pods."""
    return [{"podSelector": {"matchLabels": labels(BY_NAME[n])}} for n in names]


def namespace(name: str) -> dict[str, Any]:
    """Selector of a namespace by the name label Kubernetes sets on every namespace."""
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def backing_egress() -> list[dict[str, Any]]:
    """Kafka, MongoDB and the trace collector, for the services that use them."""
    return [
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


def network_policy(svc: Service) -> dict[str, Any]:
    """Only the flows of docs/operations.md: everything else is denied by default-deny."""
    ingress_from = [
        namespace(INGRESS_NAMESPACE),
        namespace(MONITORING_NAMESPACE),  # Prometheus scrapes /metrics
        *peers(svc.called_by),
    ]
    egress = backing_egress() if svc.backed else []
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
