"""Structure of the custom resources Siar uses, from each operator's documented fields.

kubernetes-validate bundles only Kubernetes' own schemas, so Strimzi's, KEDA's and the
MongoDB Community operator's kinds are checked against these: the fields Siar sets must
be ones the CRD documents, with the documented types and values, and the required
fields must be there. Sources: Strimzi 0.45 API reference (kafka.strimzi.io/v1beta2),
KEDA 2.16 ScaledObject spec and Kafka/CPU scaler docs, mongodb-kubernetes-operator
MongoDBCommunity CRD (mongodbcommunity.mongodb.com/v1), prometheus-operator API reference
(monitoring.coreos.com/v1 PrometheusRule and PodMonitor).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
        "namespace": _STR,
        "labels": {"type": "object", "additionalProperties": _STR},
        "annotations": {"type": "object", "additionalProperties": _STR},
    },
    "additionalProperties": False,
}


def _resource(api_version: str, kind: str, spec: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _META,
            "spec": spec,
        },
        "additionalProperties": False,
    }


def _obj(required: list[str], props: Schema) -> Schema:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": False,
    }


_KAFKA_TOPIC = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaTopic",
    _obj(
        ["partitions", "replicas"],
        {
            "topicName": _STR,
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {"type": "object"},
        },
    ),
)

_VOLUME = _obj(
    ["type"],
    {
        "id": _INT,
        "type": {"enum": ["ephemeral", "persistent-claim"]},
        "size": _STR,
        "deleteClaim": {"type": "boolean"},
        "kraftMetadata": {"enum": ["shared"]},
        "class": _STR,
    },
)
_KAFKA_NODE_POOL = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaNodePool",
    _obj(
        ["replicas", "roles", "storage"],
        {
            "replicas": _INT,
            "roles": {
                "type": "array",
                "minItems": 1,
                "items": {"enum": ["controller", "broker"]},
            },
            "storage": _obj(
                ["type"],
                {
                    "type": {"enum": ["jbod", "ephemeral", "persistent-claim"]},
                    "volumes": {"type": "array", "items": _VOLUME},
                },
            ),
            "resources": {"type": "object"},
        },
    ),
)

_LISTENER = _obj(
    ["name", "port", "type", "tls"],
    {
        "name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
        "port": {"type": "integer", "minimum": 9092},
        "type": {
            "enum": ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"]
        },
        "tls": {"type": "boolean"},
        "authentication": {"type": "object"},
        "networkPolicyPeers": {
            "type": "array",
            "items": _obj(
                [],
                {
                    "podSelector": {"type": "object"},
                    "namespaceSelector": {"type": "object"},
                    "ipBlock": {"type": "object"},
                },
            ),
        },
    },
)
_KAFKA = _resource(
    "kafka.strimzi.io/v1beta2",
    "Kafka",
    _obj(
        ["kafka"],
        {
            "kafka": _obj(
                ["listeners"],
                {
                    "version": _STR,
                    "metadataVersion": _STR,
                    "listeners": {"type": "array", "minItems": 1, "items": _LISTENER},
                    "config": {"type": "object"},
                    "resources": {"type": "object"},
                },
            ),
            "entityOperator": _obj(
                [], {"topicOperator": {"type": "object"}, "userOperator": {"type": "object"}}
            ),
        },
    ),
)

_TRIGGER = {
    "oneOf": [
        _obj(
            ["type", "metadata", "metricType"],
            {
                "type": {"const": "cpu"},
                "metricType": {"enum": ["Utilization", "AverageValue"]},
                "metadata": _obj(["value"], {"value": _STR}),
            },
        ),
        _obj(
            ["type", "metadata"],
            {
                "type": {"const": "kafka"},
                "metadata": _obj(
                    ["bootstrapServers", "consumerGroup", "lagThreshold"],
                    {
                        "bootstrapServers": _STR,
                        "consumerGroup": _STR,
                        "topic": _STR,
                        "lagThreshold": {"type": "string", "pattern": "^[0-9]+$"},
                        "activationLagThreshold": {"type": "string", "pattern": "^[0-9]+$"},
                        "offsetResetPolicy": {"enum": ["latest", "earliest"]},
                        "allowIdleConsumers": {"enum": ["true", "false"]},
                    },
                ),
            },
        ),
    ]
}
_SCALED_OBJECT = _resource(
    "keda.sh/v1alpha1",
    "ScaledObject",
    _obj(
        ["scaleTargetRef", "triggers"],
        {
            "scaleTargetRef": _obj(["name"], {"apiVersion": _STR, "kind": _STR, "name": _STR}),
            "minReplicaCount": _INT,
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "cooldownPeriod": _INT,
            "pollingInterval": _INT,
            "triggers": {"type": "array", "minItems": 1, "items": _TRIGGER},
        },
    ),
)

_MONGO_USER = _obj(
    ["name", "db", "passwordSecretRef", "roles", "scramCredentialsSecretName"],
    {
        "name": _STR,
        "db": _STR,
        "passwordSecretRef": _obj(["name"], {"name": _STR, "key": _STR}),
        "scramCredentialsSecretName": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "roles": {
            "type": "array",
            "minItems": 1,
            "items": _obj(["name", "db"], {"name": _STR, "db": _STR}),
        },
        "connectionStringSecretName": _STR,
    },
)
_MONGODB_COMMUNITY = _resource(
    "mongodbcommunity.mongodb.com/v1",
    "MongoDBCommunity",
    _obj(
        ["members", "type", "version", "security", "users"],
        {
            "members": {"type": "integer", "minimum": 1, "maximum": 50},
            "type": {"const": "ReplicaSet"},
            "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+$"},
            "security": _obj(
                ["authentication"],
                {
                    "authentication": _obj(
                        ["modes"],
                        {
                            "modes": {
                                "type": "array",
                                "items": {
                                    "enum": ["SCRAM", "SCRAM-SHA-256", "SCRAM-SHA-1", "X509"]
                                },
                            }
                        },
                    ),
                    "tls": {"type": "object"},
                },
            ),
            "users": {"type": "array", "minItems": 1, "items": _MONGO_USER},
            "additionalMongodConfig": {"type": "object"},
            "statefulSet": _obj(["spec"], {"spec": {"type": "object"}}),
        },
    ),
)

_RULE = _obj(
    ["expr"],
    {
        "alert": _STR,
        "record": _STR,
        "expr": _STR,
        "for": {"type": "string", "pattern": r"^(0|(\d+(ms|s|m|h|d|w|y))+)$"},
        "keep_firing_for": _STR,
        "labels": {"type": "object", "additionalProperties": _STR},
        "annotations": {"type": "object", "additionalProperties": _STR},
    },
)
_PROMETHEUS_RULE = _resource(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    _obj(
        ["groups"],
        {
            "groups": {
                "type": "array",
                "items": _obj(
                    ["name", "rules"],
                    {"name": _STR, "interval": _STR, "rules": {"type": "array", "items": _RULE}},
                ),
            }
        },
    ),
)
_POD_MONITOR = _resource(
    "monitoring.coreos.com/v1",
    "PodMonitor",
    _obj(
        ["selector", "podMetricsEndpoints"],
        {
            "namespaceSelector": _obj(
                [], {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": _STR}}
            ),
            "selector": {"type": "object"},
            "podMetricsEndpoints": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    [],
                    {"port": _STR, "path": _STR, "interval": _STR, "scheme": _STR},
                ),
            },
        },
    ),
)

SCHEMAS: dict[tuple[str, str], Schema] = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): _KAFKA_TOPIC,
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"): _KAFKA_NODE_POOL,
    ("kafka.strimzi.io/v1beta2", "Kafka"): _KAFKA,
    ("keda.sh/v1alpha1", "ScaledObject"): _SCALED_OBJECT,
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): _MONGODB_COMMUNITY,
    ("monitoring.coreos.com/v1", "PrometheusRule"): _PROMETHEUS_RULE,
    ("monitoring.coreos.com/v1", "PodMonitor"): _POD_MONITOR,
}
"""JSON Schema per (apiVersion, kind) of every custom resource in deploy/k8s."""
