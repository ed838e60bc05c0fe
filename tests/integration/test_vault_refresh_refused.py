"""The vault's on-demand refresh on a real MongoDB: what a refused token leads to.

A service names the token the network refused. If the vault holds another by now (a
person reconnected the account meanwhile), that one is handed over and nothing is
marked; a token that cannot be refreshed marks the account ``needs_reconnect`` and is
announced once, however many services ask; a reconnect announces the account again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_vault.settings import Settings
from tests.integration.vault_app import keyed_settings, new_owner, vault_client


@pytest.fixture
async def vault(infra: Infra, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """A vault app in-process on the real stack."""
    settings = keyed_settings(infra, tmp_path, "vault")
    async with vault_client(settings) as client:
        yield client, settings


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def test_a_refused_token_is_announced_once_and_a_newer_one_is_handed_over(
    vault: tuple[httpx.AsyncClient, Settings], mongo: AsyncMongoClient[Document]
) -> None:
    client, settings = vault
    ws, owner = await new_owner(client)

    async def connect(token: str) -> str:
        manual = {"access_token": token, "network_account_id": "7"}
        r = await client.post(
            f"/v1/workspaces/{ws}/accounts",
            json={"network": "mastodon", "handle": "kopi@mastodon.example", "manual_token": manual},
            headers=owner,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    form = {
        "grant_type": "client_credentials",
        "client_id": "publisher",
        "client_secret": "publisher-secret",
    }
    service = (await client.post("/v1/auth/token", data=form)).json()["access_token"]

    async def refresh(refused: str | None) -> httpx.Response:
        return await client.post(
            f"/v1/internal/workspaces/{ws}/accounts/{account_id}:refresh",
            json={"refused_sha256": sha256(refused)} if refused else {},
            headers={"authorization": f"Bearer {service}"},
        )

    async def announced(topic: str) -> list[dict[str, Any]]:
        outbox = mongo[settings.database]["outbox"]
        found = [json.loads(d["payload"]) async for d in outbox.find({"topic": topic})]
        return [e for e in found if e["account_id"] == account_id]

    async def status() -> str:
        r = await client.get(f"/v1/workspaces/{ws}/accounts/{account_id}", headers=owner)
        return str(r.json()["status"])

    account_id = await connect("old-token")
    assert await connect("new-token") == account_id  # reconnected: announced again
    assert len(await announced("account.connected")) == 2

    # A service still holding the old token: the newer one, nothing marked.
    r = await refresh("old-token")
    assert r.status_code == 200, r.text
    assert r.json()["access_token"] == "new-token"
    assert await status() == "healthy"
    assert await announced("account.disconnected") == []

    # The current token refused and Mastodon tokens cannot be refreshed: marked, once.
    for refused in ("new-token", None, "new-token"):
        r = await refresh(refused)
        assert r.status_code == 422, r.text
    assert await status() == "needs_reconnect"
    [gone] = await announced("account.disconnected")
    assert gone["needs_reconnect"] is True

    assert await connect("third-token") == account_id
    assert await status() == "healthy"
    assert len(await announced("account.connected")) == 3
    r = await refresh("new-token")
    assert (r.status_code, r.json()["access_token"]) == (200, "third-token")
