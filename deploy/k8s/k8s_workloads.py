"""Each workload's pods and what serves and scales them: Deployment, Service, PDB, autoscaler."""

from __future__ import annotations

from typing import Any

from k8s_services import KAFKA_BOOTSTRAP, Service, labels, meta


def env(svc: Service) -> list[dict[str, Any]]:
    """Environment: bind address and port, then secrets by reference, never by value."""
    prefix = f"SIAR_{svc.name.upper()}_"
    items: list[dict[str, Any]] = [
        {"name": f"{prefix}HOST", "value": "0.0.0.0"},  # noqa: S104 (a pod's own address)
        {"name": f"{prefix}PORT", "value": str(svc.port)},
    ]
    if svc.backed:
        items.append(
            {
                "name": "SIAR_MONGODB_URL",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": "siar-mongodb-admin-siar",
                        "key": "connectionString.standard",
                    }
                },
            }
        )
    items += [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": "siar-secrets", "key": key}}}
        for var, key in svc.secret_env.items()
    ]
    items += [{"name": k, "value": v} for k, v in svc.extra_env.items()]
    return items


def probe(path: str, **timing: int) -> dict[str, Any]:
    """An HTTP probe on the workload's port."""
    return {"httpGet": {"path": path, "port": "http"}, "timeoutSeconds": 3, **timing}


def container(svc: Service) -> dict[str, Any]:
    """The one container of a workload's pods, locked down."""
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
    """The workload's Deployment; replicas come from its autoscaler."""
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
