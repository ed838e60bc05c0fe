"""The proxy table sends every public route of every service to that service."""

from __future__ import annotations

import base64
import importlib
import json
import re

import pytest

from siar_console.routing import service_for

SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")
# Ops and docs pages of each service are not the console's to proxy.
NOT_PROXIED = re.compile(r"^/(healthz|readyz|metrics|asyncapi|asyncapi\.json)$")


def _routes(service: str) -> list[str]:
    app = importlib.import_module(f"siar_{service}.main").create_app()
    return [p for p in app.openapi()["paths"] if not NOT_PROXIED.match(p)]


@pytest.fixture(scope="module")
def published() -> dict[str, list[str]]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SIAR_ENV", "dev")
        key = base64.b64encode(b"k" * 32).decode()
        env.setenv("SIAR_VAULT_KEK_KEYS", json.dumps({"1": key}))
        return {service: _routes(service) for service in SERVICES}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_every_public_route_reaches_its_service(published: dict[str, list[str]]) -> None:
    wrong = {
        path: (service, service_for(_concrete(path)))
        for service, paths in published.items()
        for path in paths
        if not path.startswith("/v1/internal/") and service_for(_concrete(path)) != service
    }
    assert not wrong, f"path → (owner, routed to): {wrong}"
    assert sum(len(p) for p in published.values()) > 80  # the documents were really read


def test_internal_routes_are_never_proxied(published: dict[str, list[str]]) -> None:
    internal = [p for paths in published.values() for p in paths if p.startswith("/v1/internal/")]
    assert internal
    assert all(service_for(_concrete(p)) is None for p in internal)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/workspaces/ws1/calendar.ics", "scheduler"),  # hidden from OpenAPI
        ("/v1/public/media/ws1/m1", "scheduler"),
        ("/v1/workspaces/ws1/accounts/a1", "vault"),
        ("/v1/workspaces/ws1/accounts/a1/queue", "scheduler"),
        ("/v1/workspaces", "vault"),
        ("/webhooks/facebook", "inbox"),
        ("/v1/workspaces/ws1/unknown", None),
        ("/v1/workspaces//posts", None),
        ("/v1/internal", None),
        ("/v2/anything", None),
    ],
)
def test_paths(path: str, service: str | None) -> None:
    assert service_for(path) == service
