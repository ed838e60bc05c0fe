"""An expired token is refreshed by the vault and the delivery retried once (or, when the
inbox's poller met it first, the delivery finds it refreshed already)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from siar.connectors.sandbox import SANDBOX_DATABASE
from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant


async def _expire_token_on_the_network(stack: Stack, handle: str) -> None:
    network: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        result = await network[SANDBOX_DATABASE].accounts.update_one(
            {"handle": handle}, {"$set": {"token_expires_ts": 0.0}}
        )
        assert result.matched_count == 1
    finally:
        await network.close()


async def test_expired_token_is_refreshed_and_the_post_lands(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    handle = f"refresh_{uuid.uuid4().hex[:8]}"
    tenant = await new_tenant(http, stack.urls["vault"], handle=handle)
    ws = tenant.workspace_id
    await _expire_token_on_the_network(stack, handle)

    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "after a token refresh",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]

    async def delivered() -> dict[str, Any] | None:
        r = await http.get(
            f"{stack.urls['publisher']}/v1/workspaces/{ws}/deliveries",
            params={"post_id": post_id},
            headers=tenant.auth,
        )
        items = r.json()["items"]
        return items[0] if items and items[0]["status"] != "pending" else None

    delivery = await eventually(delivered, within_s=30)
    assert delivery["status"] == "published", delivery
    outcomes = [a["outcome"] for a in delivery["attempts"]]
    r = await http.get(f"{stack.urls['vault']}/v1/workspaces/{ws}/audit", headers=tenant.auth)
    actions = [(e["actor"], e["action"]) for e in r.json()["items"]]
    # The inbox polls the same account and asks for a refresh when it meets the expired
    # token too; whoever asks first, the token is refreshed once it is found expired.
    if outcomes == ["published"]:
        assert ("service:inbox", "credential.refreshed") in actions, actions
    else:
        assert outcomes == ["error", "published"]
        assert delivery["attempts"][0]["error_class"] == "auth_expired"
        assert ("service:publisher", "credential.refreshed") in actions, actions
    r = await http.get(
        f"{stack.urls['vault']}/v1/workspaces/{ws}/accounts/{tenant.account_id}",
        headers=tenant.auth,
    )
    assert r.json()["status"] == "healthy"
    assert "access_token" not in r.text
