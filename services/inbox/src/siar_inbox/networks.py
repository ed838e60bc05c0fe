"""What each network can do, read from the connector classes (no client is built)."""

from __future__ import annotations

from siar.connectors.base import Connector
from siar.connectors.registry import NETWORK_CONNECTORS
from siar.connectors.rules import Capability
from siar.connectors.sandbox import SandboxConnector

_ALL: tuple[type[Connector], ...] = (*NETWORK_CONNECTORS, SandboxConnector)

CAPABILITIES: dict[str, frozenset[Capability]] = {cls.network: cls.capabilities for cls in _ALL}
"""Capabilities by network name."""

DISPLAY_NAMES: dict[str, str] = {cls.network: cls.display_name for cls in _ALL}
"""How a person calls each network."""

NETWORKS = frozenset(CAPABILITIES)
"""Every network the inbox can hold conversations from."""
