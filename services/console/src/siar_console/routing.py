"""Which service answers a path: the console's proxy table (pure, no I/O).

Paths are routed by their first segments, the way the services' routers are laid out:
``/v1/workspaces/{ws}/<resource>`` by ``<resource>`` (without a ``:action`` or
``.csv``-style suffix), everything else by its top-level prefix. ``/v1/internal/...``
is for service tokens only and is never proxied. A unit test checks every route of
every service's OpenAPI document against this table, so a new resource fails that
test until it is added here.
"""

from __future__ import annotations

import re

# The resource right after /v1/workspaces/{ws}/ → the service that owns it.
WORKSPACE_RESOURCES: dict[str, str] = {
    "accounts": "vault",
    "audit": "vault",
    "invitations": "vault",
    "members": "vault",
    "webhook": "vault",
    "approvals": "scheduler",
    "calendar": "scheduler",
    "calendar-feed": "scheduler",
    "labels": "scheduler",
    "media": "scheduler",
    "posts": "scheduler",
    "scheduler-settings": "scheduler",
    "deliveries": "publisher",
    "conversations": "inbox",
    "inbox": "inbox",
    "inbox-rules": "inbox",
    "inbox-settings": "inbox",
    "saved-replies": "inbox",
    "metrics": "analytics",
    "reports": "analytics",
    "research": "analytics",
}

# Paths outside a workspace, by their leading segments.
TOP_LEVEL: tuple[tuple[str, str], ...] = (
    ("/v1/auth/", "vault"),
    ("/v1/users", "vault"),
    ("/v1/me", "vault"),
    ("/v1/invitations/", "vault"),
    ("/v1/oauth/", "vault"),
    ("/v1/workspaces", "vault"),
    ("/v1/reports/", "analytics"),
    ("/v1/public/", "scheduler"),
    ("/v1/networks", "scheduler"),
    ("/.well-known/jwks.json", "vault"),
    ("/webhooks/", "inbox"),
)

# An account's own sub-resources (its queue, best times) are the scheduler's.
_ACCOUNT_SUBRESOURCE = re.compile(r"^accounts/[^/]+/[^/]")
_SUFFIX = re.compile(r"[:.].*$")


def service_for(path: str) -> str | None:
    """The service answering ``path``, or ``None`` when the console proxies nothing there."""
    if path.startswith("/v1/internal/") or path == "/v1/internal" or "/../" in path:
        return None
    if path.startswith("/v1/workspaces/"):
        rest = path.removeprefix("/v1/workspaces/")
        workspace, _, inner = rest.partition("/")
        if not workspace:
            return None
        if not inner:
            return "vault"
        if _ACCOUNT_SUBRESOURCE.match(inner):
            return "scheduler"
        resource = _SUFFIX.sub("", inner.partition("/")[0])
        return WORKSPACE_RESOURCES.get(resource)
    for prefix, service in TOP_LEVEL:
        if path == prefix.rstrip("/") or path.startswith(prefix):
            return service
    return None
