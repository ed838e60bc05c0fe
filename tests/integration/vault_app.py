"""The vault in-process on the real stack, and a signed-in owner of a new workspace.

For the vault's integration tests: the platform settings of the test's Kafka and
MongoDB, an HTTP client on a vault app for the length of its lifespan, and an owner.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from siar.devstack import Infra
from siar.runtime.settings import PlatformSettings
from siar_vault.kek import FileKeks
from siar_vault.main import create_app
from siar_vault.settings import Settings
from tests.integration.conftest import unique

PASSWORD = "a long enough passphrase 42"


def platform_settings(infra: Infra) -> PlatformSettings:
    """The platform part of a service's settings, pointing at the test's infra."""
    return PlatformSettings(
        env="test",
        kafka_bootstrap=infra.kafka_bootstrap,
        mongodb_url=infra.mongodb_url,
        kafka_idempotent_producer=infra.idempotent_producer,
        mongo_serialize_transactions=infra.kind == "embedded",
    )


def keyed_settings(infra: Infra, tmp_path: Path, name: str) -> Settings:
    """A vault's settings on a database of its own, its KEKs in a key file, and the
    publisher's client credentials (for the internal routes)."""
    key_file = tmp_path / "keks.json"
    FileKeks(key_file).add_version()
    return Settings(
        database=unique(f"siar_it_{name}"),
        consumer_group=unique(f"it-{name}"),
        kek_file=key_file,
        service_clients={"publisher": "publisher-secret"},
        platform=platform_settings(infra),
    )


@contextlib.asynccontextmanager
async def vault_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a vault app built from ``settings``, started and stopped around it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://vault") as client:
            yield client


async def new_owner(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """A new user owning a new workspace: its id and the user's authorization header."""
    email = f"{unique('owner')}@example.com"
    r = await client.post("/v1/users", json={"email": email, "password": PASSWORD, "name": "O"})
    assert r.status_code == 201, r.text
    form = {"grant_type": "password", "username": email, "password": PASSWORD}
    token = (await client.post("/v1/auth/token", data=form)).json()["access_token"]
    r = await client.post(
        "/v1/workspaces", json={"name": "W"}, headers={"authorization": f"Bearer {token}"}
    )
    assert r.status_code == 201, r.text
    # A token issued after the workspace exists carries the owner role in it.
    token = (await client.post("/v1/auth/token", data=form)).json()["access_token"]
    return r.json()["id"], {"authorization": f"Bearer {token}"}
