"""Working a conversation: close and reopen, assign, tag, notes, saved replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant


async def test_a_conversation_is_worked_and_answered_with_a_saved_reply(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    inbox = stack.urls["inbox"]
    handle = f"triage_{datetime.now(UTC):%H%M%S%f}"
    tenant = await new_tenant(http, stack.urls["vault"], handle=handle)
    ws, auth = tenant.workspace_id, tenant.auth
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "Triage me",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text

    async def conversation() -> dict[str, Any] | None:
        items = (await http.get(f"{inbox}/v1/workspaces/{ws}/conversations", headers=auth)).json()
        return items["items"][0] if items["items"] else None

    conv = await eventually(conversation, within_s=30)
    url = f"{inbox}/v1/workspaces/{ws}/conversations/{conv['id']}"

    r = await http.patch(
        url,
        json={"status": "closed", "assignee": "usr_teammate", "tags": ["Praise", " vip "]},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["assignee"], r.json()["tags"]) == (
        "closed",
        "usr_teammate",
        ["praise", "vip"],
    )
    r = await http.patch(url, json={"unassign": True, "status": "open"}, headers=auth)
    assert (r.json()["status"], r.json()["assignee"]) == ("open", None)

    r = await http.post(f"{url}/notes", json={"text": "Loyal customer, be nice"}, headers=auth)
    assert r.status_code == 201
    notes = (await http.get(f"{url}/notes", headers=auth)).json()
    assert [n["text"] for n in notes] == ["Loyal customer, be nice"]

    r = await http.post(
        f"{inbox}/v1/workspaces/{ws}/saved-replies",
        json={"name": "thanks", "text": "Thank you {{first_name}}! — {{account}}"},
        headers=auth,
    )
    saved = r.json()["id"]
    r = await http.post(f"{url}:reply", json={"saved_reply_id": saved}, headers=auth)
    assert r.status_code == 202, r.text
    assert r.json()["text"] == f"Thank you Sandbox! — {handle}"
    r = await http.post(f"{url}:reply", json={"text": "x", "saved_reply_id": saved}, headers=auth)
    assert r.status_code == 422
    # Notes are internal: nothing of them reached the messages of the thread.
    messages = (await http.get(f"{url}/messages", headers=auth)).json()["items"]
    assert all("Loyal customer" not in m["text"] for m in messages)
