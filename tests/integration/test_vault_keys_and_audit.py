"""Envelope encryption at rest, KEK rotation without downtime, and the audit chain."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pymongo import AsyncMongoClient

from siar.devstack import Infra, free_port
from siar.runtime import webhooks
from siar.runtime.mongo import Document
from siar_vault.cli import rotate_kek, rotate_signing_key, verify_audit
from siar_vault.settings import Settings
from siar_vault.workspace_webhook import webhook_target
from tests.integration.conftest import unique
from tests.integration.vault_app import keyed_settings, new_owner, vault_client


@pytest.fixture
async def vault(infra: Infra, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """A vault app in-process on the real stack, with its KEKs in a key file."""
    settings = keyed_settings(infra, tmp_path, "vault")
    async with vault_client(settings) as client:
        yield client, settings


_OWNER_TOKENS: dict[str, dict[str, str]] = {}


async def _owner_token_for(client: httpx.AsyncClient, ws: str) -> dict[str, str]:
    return _OWNER_TOKENS[ws]


async def _owner_with_accounts(client: httpx.AsyncClient, n: int) -> tuple[str, list[str]]:
    ws, auth = await new_owner(client)
    _OWNER_TOKENS[ws] = auth
    accounts = []
    for _ in range(n):
        r = await client.post(
            f"/v1/workspaces/{ws}/accounts",
            json={"network": "sandbox", "handle": unique("brand")},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        accounts.append(r.json()["id"])
    return ws, accounts


async def _lease(client: httpx.AsyncClient, ws: str, account_id: str) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": "publisher",
        "client_secret": "publisher-secret",
    }
    token = (await client.post("/v1/auth/token", data=form)).json()["access_token"]
    return await client.post(
        f"/v1/internal/workspaces/{ws}/accounts/{account_id}:lease",
        json={"purpose": "test"},
        headers={"authorization": f"Bearer {token}"},
    )


async def test_no_plaintext_at_rest_and_ciphertexts_are_bound_to_their_account(
    vault: tuple[httpx.AsyncClient, Settings], mongo: AsyncMongoClient[Document]
) -> None:
    client, settings = vault
    ws, (first, second) = await _owner_with_accounts(client, 2)
    lease = await _lease(client, ws, first)
    token = lease.json()["access_token"]
    assert token.startswith("sbx_")

    db = mongo[settings.database]
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            assert token not in repr(doc), f"plaintext token in {name}"
            assert token.encode() not in json.dumps(doc, default=repr).encode()

    # Move the first account's ciphertext onto the second: it must not decrypt there.
    moved = await db["credentials"].find_one({"_id": first})
    assert moved is not None
    await db["credentials"].update_one({"_id": second}, {"$set": {"envelope": moved["envelope"]}})
    r = await _lease(client, ws, second)
    assert r.status_code == 500
    assert r.json()["type"] == "urn:siar:problem:decryption-failed"
    assert token not in r.text


async def test_rotating_the_kek_rewraps_everything_while_the_vault_runs(
    vault: tuple[httpx.AsyncClient, Settings], mongo: AsyncMongoClient[Document]
) -> None:
    client, settings = vault
    ws, accounts = await _owner_with_accounts(client, 2)
    before = {a: (await _lease(client, ws, a)).json()["access_token"] for a in accounts}
    owner = await _owner_token_for(client, ws)
    assert (await client.post("/v1/me/totp", headers=owner)).status_code == 201
    hook = {"url": "https://hooks.example/siar", "secret": "a webhook secret of some length"}
    assert (await client.put(f"/v1/workspaces/{ws}/webhook", json=hook, headers=owner)).is_success

    counts = await rotate_kek(settings)

    assert counts["credentials"] == 2
    assert counts["signing_keys"] >= 1
    db = mongo[settings.database]
    versions = {d["envelope"]["kek_version"] async for d in db["credentials"].find({})}
    assert versions == {2}
    assert counts["other_secrets"] == 2
    user = await db["users"].find_one({"totp": {"$exists": True}})
    workspace = await db["workspaces"].find_one({"_id": ws})
    assert user is not None
    assert workspace is not None
    assert user["totp"]["envelope"]["kek_version"] == 2
    assert workspace["webhook"]["envelope"]["kek_version"] == 2
    app: Any = client._transport.app  # type: ignore[attr-defined]
    assert await webhook_target(app.state.service, ws) == (hook["url"], hook["secret"])
    # The running vault, configured before the rotation, still reads every secret.
    after = {a: (await _lease(client, ws, a)).json()["access_token"] for a in accounts}
    assert after == before
    # Version 1 can now be retired from the file without losing anything.
    assert settings.kek_file is not None
    raw: dict[str, Any] = json.loads(settings.kek_file.read_text())
    assert raw["active"] == 2
    assert len(base64.b64decode(raw["keys"]["2"])) == 32


async def test_verify_audit_detects_edits_deletions_and_truncation(
    vault: tuple[httpx.AsyncClient, Settings], mongo: AsyncMongoClient[Document]
) -> None:
    client, settings = vault
    ws, (account,) = await _owner_with_accounts(client, 1)
    for _ in range(4):
        assert (await _lease(client, ws, account)).status_code == 200
    assert await verify_audit(settings) == []
    audit = mongo[settings.database]["audit"]

    await audit.update_one({"workspace_id": ws, "seq": 2}, {"$set": {"actor": "someone else"}})
    assert any("entry 2 was altered" in p for p in await verify_audit(settings))
    await audit.delete_one({"workspace_id": ws, "seq": 2})
    problems = await verify_audit(settings)
    assert any("entries 2..2 are missing" in p for p in problems)

    await audit.delete_one({"workspace_id": ws, "seq": 5})
    problems = await verify_audit(settings)
    assert any("cut off the end" in p for p in problems)


async def test_a_rotated_signing_key_is_published_first_and_used_after_its_grace(
    vault: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, settings = vault
    app: Any = client._transport.app  # type: ignore[attr-defined]
    issuer = app.state.service.issuer
    old_kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert len(old_kids) == 1

    async def reload() -> None:
        # What the vault's SigningKeyReloader does every few seconds.
        await issuer.load(app.state.service.store.signing_keys)
        app.state.token_verifier.jwks.set_keys(issuer.jwks())

    new_kid, retired = await rotate_signing_key(settings, activate_after_s=0.5)
    assert retired == 0
    await reload()
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert published == old_kids | {new_kid}
    assert issuer.active_kid in old_kids  # still in its grace period

    await asyncio.sleep(0.6)
    await reload()
    assert issuer.active_kid == new_kid
    ws, (account,) = await _owner_with_accounts(client, 1)
    assert (await _lease(client, ws, account)).status_code == 200


async def test_a_manual_token_connects_any_network_and_is_never_shown_back(
    vault: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, _ = vault
    ws, _accounts = await _owner_with_accounts(client, 0)
    email_token = await _owner_token_for(client, ws)
    body = {
        "network": "mastodon",
        "handle": "brand@mastodon.example",
        "manual_token": {
            "access_token": "mastodon-token-123",
            "network_account_id": "109876",
            "extra": {"instance": "https://mastodon.example"},
        },
    }
    r = await client.post(f"/v1/workspaces/{ws}/accounts", json=body, headers=email_token)
    assert r.status_code == 201, r.text
    assert "mastodon-token-123" not in r.text
    account = r.json()["id"]
    lease = (await _lease(client, ws, account)).json()
    assert lease["access_token"] == "mastodon-token-123"
    assert lease["extra"] == {"instance": "https://mastodon.example"}
    assert lease["network_account_id"] == "109876"

    r = await client.post(
        f"/v1/workspaces/{ws}/accounts",
        json={"network": "x", "handle": "brand"},
        headers=email_token,
    )
    assert r.status_code == 422
    assert "OAuth or a manual token" in r.json()["detail"]


async def test_the_audit_log_filters_and_exports_as_csv(
    vault: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, _ = vault
    ws, (account,) = await _owner_with_accounts(client, 1)
    for _ in range(3):
        assert (await _lease(client, ws, account)).status_code == 200
    owner = await _owner_token_for(client, ws)
    r = await client.get(
        f"/v1/workspaces/{ws}/audit", params={"action": "credential.leased"}, headers=owner
    )
    leased = r.json()["items"]
    assert [e["action"] for e in leased] == ["credential.leased"] * 3
    assert {e["actor"] for e in leased} == {"service:publisher"}

    r = await client.get(f"/v1/workspaces/{ws}/audit.csv", headers=owner)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "seq,at,actor,action,target,details,prev_hash,hash"
    assert len(lines) == 1 + 4  # account.connected and three leases
    assert lines[2].split(",")[3] == "credential.leased"


async def _expire_soon(mongo: AsyncMongoClient[Document], settings: Settings, account: str) -> None:
    accounts = mongo[settings.database]["accounts"]
    doc = await accounts.find_one({"_id": account})
    assert doc is not None
    doc["token_expires_at"] = datetime.now(UTC) + timedelta(minutes=5)
    await accounts.replace_one({"_id": account}, doc)


async def test_tokens_are_refreshed_ahead_of_expiry_and_failures_reach_the_workspace(
    vault: tuple[httpx.AsyncClient, Settings], mongo: AsyncMongoClient[Document]
) -> None:
    client, settings = vault
    app: Any = client._transport.app  # type: ignore[attr-defined]
    ws, (sandbox,) = await _owner_with_accounts(client, 1)
    owner = await _owner_token_for(client, ws)
    r = await client.post(
        f"/v1/workspaces/{ws}/accounts",
        json={
            "network": "mastodon",
            "handle": "brand@mastodon.example",
            "manual_token": {"access_token": "no-refresh-here", "network_account_id": "7"},
        },
        headers=owner,
    )
    stuck = r.json()["id"]
    await _expire_soon(mongo, settings, sandbox)
    await _expire_soon(mongo, settings, stuck)

    received: list[tuple[dict[str, str], bytes]] = []

    async def receiver(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):  # uvicorn offers no event for "listening"
            if server.started:
                break
            await asyncio.sleep(0.05)
        secret = "a webhook secret of some length"
        r = await client.put(
            f"/v1/workspaces/{ws}/webhook",
            json={"url": f"http://127.0.0.1:{port}/hook", "secret": secret},
            headers=owner,
        )
        assert r.status_code == 200, r.text
        assert secret not in r.text

        counts = await app.state.refresher.refresh_due()
    finally:
        server.should_exit = True
        await serving

    assert counts == {"refreshed": 1, "failed": 1}
    accounts = {
        a["id"]: a
        for a in (await client.get(f"/v1/workspaces/{ws}/accounts", headers=owner)).json()["items"]
    }
    assert accounts[stuck]["status"] == "needs_reconnect"
    assert accounts[sandbox]["status"] == "healthy"
    assert datetime.fromisoformat(accounts[sandbox]["token_expires_at"]) > datetime.now(
        UTC
    ) + timedelta(days=30)

    [(headers, body)] = received
    assert webhooks.verify(secret, headers["x-siar-timestamp"], body, headers["x-siar-signature"])
    message = json.loads(body)
    assert message["kind"] == "account.needs_reconnect"
    assert "must be reconnected" in message["text"]
    assert message["data"]["account_id"] == stuck
    outbox = mongo[settings.database]["outbox"]
    events = [
        json.loads(d["payload"]) async for d in outbox.find({"topic": "account.disconnected"})
    ]
    assert [e["account_id"] for e in events] == [stuck]


async def test_account_settings_change_encrypted_and_a_disconnect_is_announced(
    vault: tuple[httpx.AsyncClient, Settings], mongo: AsyncMongoClient[Document]
) -> None:
    client, settings = vault
    ws, (account,) = await _owner_with_accounts(client, 1)
    owner = await _owner_token_for(client, ws)
    r = await client.patch(
        f"/v1/workspaces/{ws}/accounts/{account}",
        json={"settings": {"board_id": "board-42"}},
        headers=owner,
    )
    assert r.status_code == 200, r.text
    lease = (await _lease(client, ws, account)).json()
    assert lease["extra"]["board_id"] == "board-42"
    assert lease["extra"]["handle"]  # what was there is kept

    r = await client.delete(f"/v1/workspaces/{ws}/accounts/{account}", headers=owner)
    assert r.status_code == 204
    assert (await _lease(client, ws, account)).status_code == 404
    db = mongo[settings.database]
    assert await db["credentials"].count_documents({"_id": account}) == 0
    topics = [d["topic"] async for d in db["outbox"].find({"workspace_id": ws})]
    assert topics.count("account.disconnected") == 1
