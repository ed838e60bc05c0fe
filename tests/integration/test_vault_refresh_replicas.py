"""Two vault replicas' token refreshers: each expiring account is refreshed once.

A network that rotates refresh tokens refuses a second refresh with the old one, so a
double refresh would wrongly mark a healthy account ``needs_reconnect``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from siar.connectors import AppCredentials, Credential
from siar.runtime.leases import Leases
from siar.runtime.mongo import Document
from siar_vault.refresher import REFRESH_LEASES, TokenRefresher
from siar_vault.settings import Settings
from tests.integration.test_vault_keys_and_audit import (
    _expire_soon,
    _owner_with_accounts,
    vault,
)

__all__ = ["vault"]  # the fixture, shared with the key and audit tests


async def test_two_refresher_replicas_refresh_each_account_once(
    vault: tuple[httpx.AsyncClient, Settings],
    mongo: AsyncMongoClient[Document],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, settings = vault
    app: Any = client._transport.app  # type: ignore[attr-defined]
    service = app.state.service
    _ws, accounts = await _owner_with_accounts(client, 3)
    for account in accounts:
        await _expire_soon(mongo, settings, account)

    sandbox = service.connectors["sandbox"]
    original = sandbox.refresh_credential
    calls: list[str] = []

    async def counted(credential: Credential, app_creds: AppCredentials | None) -> Credential:
        calls.append(str(credential.extra.get("handle")))
        await asyncio.sleep(0)  # let the other replica run in between
        return await original(credential, app_creds)

    monkeypatch.setattr(sandbox, "refresh_credential", counted)
    db = mongo[settings.database]
    replicas = [
        TokenRefresher(
            service,
            ahead_s=3600,
            every_s=60,
            leases=Leases(db[REFRESH_LEASES], lease_s=60.0, holder=holder),
        )
        for holder in ("vault-a", "vault-b")
    ]
    counts = await asyncio.gather(*(r.refresh_due() for r in replicas))

    assert sum(c["refreshed"] for c in counts) == 3
    assert sum(c["failed"] for c in counts) == 0
    assert len(calls) == 3
    assert len(set(calls)) == 3
    stored = await db["accounts"].find({"_id": {"$in": accounts}}).to_list()
    assert {d["status"] for d in stored} == {"healthy"}
    leases = await db[REFRESH_LEASES].find().to_list()
    assert {d["_id"] for d in leases} == set(accounts)
    assert all(d["holder"] is None for d in leases)
