"""What the app needs to know about the platform, from the one place each fact lives."""

from __future__ import annotations

from typing import Any

import siar
from siar.connectors.registry import NETWORK_CONNECTORS
from siar.connectors.sandbox import SandboxConnector
from siar.runtime.roles import PERMISSIONS


def networks() -> list[dict[str, Any]]:
    """Each network with how an account of it is connected: oauth, app_password or handle."""
    found: list[dict[str, Any]] = []
    for cls in NETWORK_CONNECTORS:
        # Bluesky signs in with an app password; every other real network has a consent
        # screen (OAuth) when Siar has an app registered for it.
        connect = "oauth" if cls.oauth is not None else "app_password"
        found.append({"network": cls.network, "display_name": cls.display_name, "connect": connect})
    found.append(
        {
            "network": SandboxConnector.network,
            "display_name": SandboxConnector.display_name,
            "connect": "handle",
        }
    )
    return found


def console_config() -> dict[str, Any]:
    """The document served as ``/console/config.json``."""
    matrix = {role.value: sorted(p.value for p in perms) for role, perms in PERMISSIONS.items()}
    return {"version": siar.__version__, "permissions": matrix, "networks": networks()}
