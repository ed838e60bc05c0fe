"""A token revoked while the account is only polled turns the account ``needs_reconnect``;
a reconnect starts polling again.

Nothing is posted: the inbox, polling the Mastodon instance's notifications
(tests/e2e/fake_mastodon.py), meets the 401 and asks the vault to refresh, as the
publisher does; Mastodon tokens cannot be refreshed, so the vault marks the account.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Stack
from tests.e2e.flows import event_on, events_on, eventually, new_tenant
from tests.e2e.test_oauth_connect import accounts_of, connect

NOTIFICATIONS = "/api/v1/notifications"


async def test_a_token_revoked_while_only_polled_asks_for_a_reconnect(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault, mastodon = stack.urls["vault"], stack.mastodon
    tenant = await new_tenant(http, vault)
    account, token = await connect(http, vault, tenant, mastodon)
    bearer = f"Bearer {token}"

    def polls() -> int:
        return sum(s.authorization == bearer for s in mastodon.requests(NOTIFICATIONS))

    async def polled() -> bool | None:
        return polls() > 0 or None

    # The inbox reads the instance with the account's token (account.connected started it).
    await eventually(polled, within_s=60)
    assert (await accounts_of(http, vault, tenant))[account["id"]]["status"] == "healthy"

    r = await http.post(f"{mastodon.base}/oauth/revoke", data=mastodon.revoke_form(token))
    assert r.status_code == 200

    async def needs_reconnect() -> dict[str, Any] | None:
        found = (await accounts_of(http, vault, tenant))[account["id"]]
        return found if found["status"] == "needs_reconnect" else None

    await eventually(needs_reconnect, within_s=60)
    # It was the inbox that asked (nothing was posted); each later poll asks no more
    # (services/inbox/tests/test_inbox_poll_auth.py).
    audit = await http.get(
        f"{vault}/v1/workspaces/{tenant.workspace_id}/audit",
        params={"action": "credential.refresh_failed", "target": account["id"]},
        headers=tenant.auth,
    )
    assert audit.status_code == 200, audit.text
    assert [e["actor"] for e in audit.json()["items"]] == ["service:inbox"]
    assert not mastodon.requests("/api/v1/statuses")

    # Announced once, as a reconnect-needing account: the inbox stops reading it, the
    # scheduler keeps it (posts may still be planned for it).
    kafka = stack.infra.kafka_bootstrap
    gone = await eventually(
        lambda: event_on(kafka, "account.disconnected", account_id=account["id"]), within_s=60
    )
    assert gone["needs_reconnect"] is True
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts",
        json={"text": "Planned while it waits", "account_ids": [account["id"]], "draft": True},
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text

    # A person reconnects it: announced again, so the inbox reads with the fresh token.
    again, fresh = await connect(http, vault, tenant, mastodon)
    assert (again["id"], again["status"]) == (account["id"], "healthy")

    async def announced_twice() -> bool | None:
        found = await events_on(kafka, "account.connected", account_id=account["id"])
        return len(found) == 2 or None

    await eventually(announced_twice, within_s=60)

    async def polled_fresh() -> bool | None:
        calls = mastodon.requests(NOTIFICATIONS)
        return any(c.authorization == f"Bearer {fresh}" for c in calls) or None

    await eventually(polled_fresh, within_s=60)
    assert len(await events_on(kafka, "account.disconnected", account_id=account["id"])) == 1
