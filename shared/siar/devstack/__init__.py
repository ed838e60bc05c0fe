"""The whole Siar platform on one machine, for development, tests and benchmarks.

Kafka and MongoDB come from ``SIAR_KAFKA_BOOTSTRAP``/``SIAR_MONGODB_URL`` if set, else
testcontainers if a Docker engine answers, else embedded Tansu and nx-27017 child
processes (:func:`start_infra`). :class:`Platform` runs every service as its own process
and :func:`seed_demo` creates a demo login through the vault's API. ``siar-dev`` (or
``python -m siar.devstack``) wires them together.
"""

from siar.devstack._proc import free_port
from siar.devstack.infra import (
    Infra,
    InfraError,
    InfraKind,
    PortBusyError,
    kafka_answers_metadata,
    mongo_pings,
    start_embedded,
    start_infra,
)
from siar.devstack.seed import DemoLogin, SeedError, seed_demo
from siar.devstack.services import (
    ALL_SERVICES,
    CONSOLE,
    DEFAULT_PORTS,
    SERVICES,
    DevSecrets,
    Platform,
    PlatformError,
)

__all__ = [
    "ALL_SERVICES",
    "CONSOLE",
    "DEFAULT_PORTS",
    "SERVICES",
    "DemoLogin",
    "DevSecrets",
    "Infra",
    "InfraError",
    "InfraKind",
    "Platform",
    "PlatformError",
    "PortBusyError",
    "SeedError",
    "free_port",
    "kafka_answers_metadata",
    "mongo_pings",
    "seed_demo",
    "start_embedded",
    "start_infra",
]
