"""Tenant isolation helpers: the routes to attack and the requests to attack them with.

The routes come from each service's live OpenAPI document; a request for one is built from
its parameters and body schema, with the victim's real ids where they fit.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.flows import Tenant

SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")
WORKSPACE_PREFIX = "/v1/workspaces/{ws}"
INTERNAL_PREFIX = "/v1/internal/"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete"})

# A 1x1 transparent PNG, for multipart (media upload) routes.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Route:
    """One operation of one service, from its OpenAPI document."""

    service: str
    method: str
    path: str
    operation: dict[str, Any] = field(repr=False, compare=False)
    schemas: dict[str, Any] = field(repr=False, compare=False)  # the document's components

    @property
    def internal(self) -> bool:
        """Service-only (``/v1/internal/...``)."""
        return self.path.startswith(INTERNAL_PREFIX)

    @property
    def label(self) -> str:
        """How a failing case names the route."""
        return f"{self.service} {self.method} {self.path}"


@dataclass
class World:
    """The victim, the attackers, their tokens and the routes, shared by the module."""

    urls: dict[str, str]
    routes: list[Route]
    victim: Tenant
    attacker: Tenant
    path_ids: dict[str, str]
    victim_strings: set[str]
    tokens: dict[str, str | None]
    seen_tokens: set[str]


# --- building requests from the OpenAPI document ---------------------------------------


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(schema: dict[str, Any], world: World, schemas: dict[str, Any], name: str = "") -> Any:
    """A minimal valid value for ``schema``, using the victim's real ids where they fit."""
    schema = _resolve(schema, schemas)
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            options = [o for o in schema[union] if _resolve(o, schemas).get("type") != "null"]
            return example(options[0] if options else schema[union][0], world, schemas, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props: dict[str, Any] = schema.get("properties", {})
        return {k: example(props.get(k, {}), world, schemas, k) for k in schema.get("required", [])}
    if kind == "array":
        singular = name[:-1] if name.endswith("s") else name
        count = max(int(schema.get("minItems", 0)), 1 if singular in world.path_ids else 0)
        return [example(schema.get("items", {}), world, schemas, singular) for _ in range(count)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _string(schema, world, name)


def _string(schema: dict[str, Any], world: World, name: str) -> str:
    if name in world.path_ids:
        return world.path_ids[name]
    fmt = schema.get("format", "")
    soon = datetime.now(UTC) + timedelta(days=30)
    # A range ("from", "to") wide enough to hold the victim's far-future post.
    edges = {"from": datetime.now(UTC) - timedelta(days=1), "to": soon + timedelta(days=330)}
    if name in edges and fmt in ("date", "date-time"):
        return edges[name].date().isoformat() if fmt == "date" else edges[name].isoformat()
    if fmt == "date-time":
        return soon.isoformat()
    if fmt == "date":
        return datetime.now(UTC).date().isoformat()
    if fmt == "email" or name == "email":
        return world.attacker.email  # the attacker adding themselves
    hints = {"network": "sandbox", "handle": f"intruder_{uuid.uuid4().hex[:6]}"}
    value = hints.get(name, "isolation probe")
    return value.ljust(int(schema.get("minLength", 0)), "x")


def _is_binary(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


@dataclass
class Call:
    """A concrete request for a route."""

    method: str
    url: str
    kwargs: dict[str, Any]


def build_call(route: Route, world: World) -> Call:
    """The victim-workspace request an attacker makes on ``route``."""
    path = re.sub(
        r"\{(\w+)\}",
        lambda m: world.path_ids.get(m.group(1)) or _plausible_id(world, m.group(1)),
        route.path,
    )
    kwargs: dict[str, Any] = {"params": {}, "headers": {}}
    for param in route.operation.get("parameters", []):
        name, where = param["name"], param["in"]
        wanted = param.get("required") or name in world.path_ids
        if where == "query" and wanted:
            kwargs["params"][name] = example(param.get("schema", {}), world, route.schemas, name)
        elif where == "header" and param.get("required"):
            kwargs["headers"][name] = uuid.uuid4().hex
    content: dict[str, Any] = route.operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        kwargs["json"] = example(
            content["application/json"].get("schema", {}), world, route.schemas
        )
    elif "multipart/form-data" in content:
        schema = _resolve(content["multipart/form-data"].get("schema", {}), route.schemas)
        files, data = {}, {}
        for prop, sub in schema.get("properties", {}).items():
            sub = _resolve(sub, route.schemas)
            if _is_binary(sub) or (sub.get("type") == "array" and _is_binary(sub.get("items", {}))):
                files[prop] = ("pixel.png", TINY_PNG, "image/png")
            elif prop in schema.get("required", []):
                data[prop] = str(example(sub, world, route.schemas, prop))
        kwargs["files"], kwargs["data"] = (
            files or {"file": ("pixel.png", TINY_PNG, "image/png")},
            data,
        )
    elif "application/x-www-form-urlencoded" in content:
        form = example(
            content["application/x-www-form-urlencoded"].get("schema", {}), world, route.schemas
        )
        kwargs["data"] = {k: str(v) for k, v in form.items()}
    elif content:
        media_type = next(iter(content))
        kwargs["content"] = b"isolation probe\n"
        kwargs["headers"]["content-type"] = media_type
    elif route.method in MUTATING and route.method != "DELETE":
        kwargs["json"] = {}
    return Call(route.method, world.urls[route.service] + path, kwargs)


def _plausible_id(world: World, name: str) -> str:
    value = f"{name.removesuffix('_id')[:4]}_{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:20]}"
    world.path_ids.setdefault(name, value)
    return world.path_ids[name]


# --- finding the routes -----------------------------------------------------------------


async def discover(http: httpx.AsyncClient, urls: dict[str, str]) -> list[Route]:
    """Every workspace-scoped and internal operation in the services' OpenAPI documents."""
    routes: list[Route] = []
    for service in SERVICES:
        r = await http.get(f"{urls[service]}/openapi.json")
        assert r.status_code == 200, f"{service}: no OpenAPI document ({r.status_code})"
        doc = r.json()
        schemas = doc.get("components", {}).get("schemas", {})
        for path, item in doc["paths"].items():
            if not (path.startswith(WORKSPACE_PREFIX) or path.startswith(INTERNAL_PREFIX)):
                continue
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    routes.append(Route(service, method.upper(), path, operation, schemas))
    return routes


def bearer(token: str | None) -> dict[str, str]:
    """The authorization header for ``token``; none without one."""
    return {"authorization": f"Bearer {token}"} if token else {}
