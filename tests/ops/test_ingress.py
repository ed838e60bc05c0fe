"""The Ingress routes every public route of every service to that service, and no other.

The routes come from each service's own app (create_app, the same object that serves
/openapi.json), so a route added without its Ingress rule fails here. The console is
checked the same way: its app's pages and files go to the console, while the /v1 calls
it would proxy go straight to the services (the rules above say which).
"""

from __future__ import annotations

import base64
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from tests.ops.kustomize import Obj, render

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics", "console")
# What the console's own proxy forwards: the Ingress sends these to the services directly.
CONSOLE_PROXIED = re.compile(r"^/(v1/|webhooks/|\.well-known/)")
NOT_PUBLIC = re.compile(r"^/(healthz|readyz|metrics|asyncapi|docs|redoc|openapi)|^/v1/internal/")
# Resources DESIGN.md §8 assigns to a service that its app does not serve yet: their
# rules may match no route today.
PLANNED = {"/v1/workspaces/ws-1/calendar.ics", "/webhooks/x"}


def routes_of(service: str, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every HTTP route the service's app declares, with example path parameters."""
    monkeypatch.setenv("SIAR_ENV", "test")
    monkeypatch.setenv("SIAR_VAULT_KEK_KEYS", f'{{"1": "{base64.b64encode(bytes(32)).decode()}"}}')
    module = importlib.import_module(f"siar_{service}.main")
    app = module.create_app()
    paths = set(walk(app.routes)) | set(app.openapi()["paths"])
    if service == "console":
        # Its files too (a mounted directory, not routes), and not what it proxies.
        static: Path = module.STATIC
        paths |= {f"/static/{p.relative_to(static).as_posix()}" for p in static.rglob("*.*")}
        paths = {p for p in paths if not CONSOLE_PROXIED.match(p)}
    return {re.sub(r"\{[^}]+\}", "x1", p).replace("/x1/", "/ws-1/", 1) for p in paths}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[str]:
    """Paths of API routes, hidden ones (include_in_schema=False) included.

    FastAPI 0.165 keeps included routers as wrappers instead of copying their routes
    into the app, so those are walked into with the prefix they were included with.
    """
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path
        if isinstance(route, Mount) and route.path:
            yield prefix + route.path + "/"
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from walk(inner.routes, prefix + getattr(context, "prefix", ""))


@pytest.fixture(scope="module")
def ingress_rules() -> list[tuple[re.Pattern[str], str]]:
    objects = render(ROOT / "deploy" / "k8s" / "base")
    ingress: Obj = next(o for o in objects if o["kind"] == "Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    return [
        # ingress-nginx regex locations are case-insensitive and anchored at the start.
        (re.compile(p["path"], re.IGNORECASE), p["backend"]["service"]["name"])
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]


def routed_to(path: str, rules: list[tuple[re.Pattern[str], str]]) -> set[str]:
    return {service for pattern, service in rules if pattern.match(path)}


def test_every_public_route_reaches_its_own_service_only(
    ingress_rules: list[tuple[re.Pattern[str], str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    used: set[re.Pattern[str]] = set()
    checked = 0
    for service in SERVICES:
        for path in routes_of(service, monkeypatch):
            targets = routed_to(path, ingress_rules)
            if NOT_PUBLIC.match(path):
                assert not targets, f"{path} ({service}) must not be public"
                continue
            assert targets == {f"siar-{service}"}, f"{path} of {service} routes to {targets}"
            used |= {p for p, _ in ingress_rules if p.match(path)}
            checked += 1
    assert checked >= 30
    for path in PLANNED:
        used |= {p for p, _ in ingress_rules if p.match(path)}
    unused = [p.pattern for p, _ in ingress_rules if p not in used]
    assert not unused, f"rules matching no route: {unused}"


def test_a_route_without_a_rule_would_be_caught(
    ingress_rules: list[tuple[re.Pattern[str], str]],
) -> None:
    assert routed_to("/v1/workspaces/ws-1/posts:import", ingress_rules) == {"siar-scheduler"}
    assert routed_to("/v1/workspaces/ws-1/brand-kits", ingress_rules) == set()
    assert routed_to("/v1/internal/workspaces/ws-1/accounts/a:lease", ingress_rules) == set()
    # The console has the app's own paths, never another's and never its ops routes.
    assert routed_to("/", ingress_rules) == {"siar-console"}
    assert routed_to("/static/app.js", ingress_rules) == {"siar-console"}
    assert routed_to("/v1/oauth/callback/x", ingress_rules) == {"siar-vault"}
    assert routed_to("/metrics", ingress_rules) == set()
    assert routed_to("/anything-else", ingress_rules) == set()
