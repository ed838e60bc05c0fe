"""Network webhooks and inbox rules, end to end: routed by account events, stored, triaged."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from siar.contracts import AccountConnected, AccountDisconnected, Event, utcnow
from tests.e2e.conftest import E2E_META_APP_SECRET, Stack
from tests.e2e.flows import add_member, event_on, eventually, new_tenant
from tests.unit.connectors.webhook_fakes import meta_call, meta_signed, page_comment


async def announce(bootstrap: str, event: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            event.topic,
            event.model_dump_json().encode(),
            key=event.partition_key(),
            headers=[("content-type", b"application/json")],
        )
    finally:
        await producer.stop()


async def connect_page(bootstrap: str, workspace_id: str) -> tuple[str, str]:
    """Announce a new Facebook Page connected to the workspace: (page id, account id)."""
    page, account = str(uuid.uuid4().int % 10**15), f"acc_fb_{uuid.uuid4().hex[:8]}"
    await announce(
        bootstrap,
        AccountConnected.new(
            workspace_id=workspace_id,
            account_id=account,
            network="facebook",
            handle="brand.page",
            network_account_id=page,
        ),
    )
    return page, account


async def received(bootstrap: str, network_message_id: str) -> dict[str, Any] | None:
    return await event_on(bootstrap, "message.received", network_message_id=network_message_id)


async def test_a_signed_comment_is_routed_stored_triaged_and_announced(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    inbox, bootstrap = stack.urls["inbox"], stack.infra.kafka_bootstrap
    tenant = await new_tenant(http, stack.urls["vault"])
    page, account = await connect_page(bootstrap, tenant.workspace_id)
    text = "Pesanan saya rusak, sangat kecewa 😡 — 日本語も"
    body, headers = meta_signed(
        meta_call("page", page_comment(page, f"c_{page}", text, utcnow())), E2E_META_APP_SECRET
    )
    url = f"{inbox}/webhooks/facebook"

    async def accepted() -> httpx.Response | None:
        # 404 unknown-account until the inbox has handled account.connected.
        response = await http.post(url, content=body, headers=headers)
        return response if response.status_code == 200 else None

    first = await eventually(accepted, within_s=90)
    assert first.json()["stored"] == 1
    replay = await http.post(url, content=body, headers=headers)
    assert replay.status_code == 403
    assert (await http.post(url, content=body)).status_code == 401

    listing = await http.get(
        f"{inbox}/v1/workspaces/{tenant.workspace_id}/conversations", headers=tenant.auth
    )
    [conv] = [c for c in listing.json()["items"] if c["account_id"] == account]
    assert (conv["sentiment"], conv["language"], conv["priority"]) == ("negative", "id", "high")
    messages = await http.get(
        f"{inbox}/v1/workspaces/{tenant.workspace_id}/conversations/{conv['id']}/messages",
        headers=tenant.auth,
    )
    assert [m["text"] for m in messages.json()["items"]] == [text]
    event = await eventually(lambda: received(bootstrap, f"c_{page}"), within_s=60)
    assert (event["sentiment"], event["language"], event["influencer"]) == ("negative", "id", False)

    await announce(
        bootstrap,
        AccountDisconnected.new(
            workspace_id=tenant.workspace_id, account_id=account, network="facebook"
        ),
    )

    async def refused() -> httpx.Response | None:
        # A new comment each time: one accepted before the disconnect is not a replay.
        later = page_comment(page, f"c_{uuid.uuid4().hex[:8]}", "halo?", utcnow())
        fresh_body, fresh_headers = meta_signed(meta_call("page", later), E2E_META_APP_SECRET)
        response = await http.post(url, content=fresh_body, headers=fresh_headers)
        return response if response.status_code == 404 else None

    gone = await eventually(refused, within_s=90)
    assert gone.json()["accounts"] == [page]


async def test_rules_are_managed_by_admins_and_applied_at_ingest(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    inbox, bootstrap = stack.urls["inbox"], stack.infra.kafka_bootstrap
    owner = await new_tenant(http, stack.urls["vault"])
    editor = await add_member(http, stack.urls["vault"], owner, "editor")
    rules = f"{inbox}/v1/workspaces/{owner.workspace_id}/inbox-rules"
    refund = {
        "name": "refunds",
        "keywords": ["refund", "uang kembali"],
        "actions": {"tags": ["Billing"], "assign": "usr_billing", "priority": "urgent"},
    }

    unsafe = await http.post(rules, json={**refund, "regex": "(a+)+$"}, headers=owner.auth)
    assert unsafe.status_code == 422
    assert "nested quantifiers" in unsafe.text
    assert (await http.post(rules, json=refund, headers=editor)).status_code == 403
    created = await http.post(rules, json=refund, headers=owner.auth)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    listed = await http.get(rules, headers=editor)  # reading needs only inbox.read
    assert [r["id"] for r in listed.json()["items"]] == [rule_id]
    assert listed.json()["items"][0]["actions"]["tags"] == ["billing"]
    settings = await http.put(
        f"{inbox}/v1/workspaces/{owner.workspace_id}/inbox-settings",
        json={"timezone": "Asia/Jakarta", "influencer_followers": 500},
        headers=owner.auth,
    )
    assert settings.status_code == 200, settings.text

    page, account = await connect_page(bootstrap, owner.workspace_id)
    comment = page_comment(page, f"c_{page}", "Saya minta uang kembali sekarang", utcnow())
    body, headers = meta_signed(meta_call("page", comment), E2E_META_APP_SECRET)

    async def accepted() -> httpx.Response | None:
        response = await http.post(f"{inbox}/webhooks/facebook", content=body, headers=headers)
        return response if response.status_code == 200 else None

    await eventually(accepted, within_s=90)
    listing = await http.get(
        f"{inbox}/v1/workspaces/{owner.workspace_id}/conversations", headers=owner.auth
    )
    [conv] = [c for c in listing.json()["items"] if c["account_id"] == account]
    assert (conv["tags"], conv["assignee"], conv["priority"]) == (
        ["billing"],
        "usr_billing",
        "urgent",
    )

    assert (await http.delete(f"{rules}/{rule_id}", headers=editor)).status_code == 403
    assert (await http.delete(f"{rules}/{rule_id}", headers=owner.auth)).status_code == 204
    missing = await http.delete(f"{rules}/{rule_id}", headers=owner.auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
