"""The first slice over real sockets: schedule → publish → comment → inbox → analytics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant


async def test_post_is_published_commented_and_counted(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    ws = tenant.workspace_id
    due = datetime.now(UTC) + timedelta(seconds=3)

    r = await http.post(
        f"{urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "Hello from the first slice #siar",
            "account_ids": [tenant.account_id],
            "scheduled_at": due.isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["status"] == "scheduled"

    async def published() -> dict[str, Any] | None:
        r = await http.get(
            f"{urls['scheduler']}/v1/workspaces/{ws}/posts/{post['id']}", headers=tenant.auth
        )
        body: dict[str, Any] = r.json()
        return body if body["status"] == "published" else None

    done = await eventually(published, within_s=30)
    target = done["targets"][0]
    assert target["network_post_id"].startswith("sbxpost_")
    assert target["permalink"].endswith(target["network_post_id"])
    published_at = datetime.fromisoformat(target["published_at"])
    assert published_at >= due - timedelta(milliseconds=5), "published before its time"

    r = await http.get(
        f"{urls['publisher']}/v1/workspaces/{ws}/deliveries",
        params={"post_id": post["id"]},
        headers=tenant.auth,
    )
    assert r.status_code == 200
    deliveries = r.json()["items"]
    assert [d["status"] for d in deliveries] == ["published"]
    assert deliveries[0]["network_post_id"] == target["network_post_id"]

    async def conversation() -> dict[str, Any] | None:
        r = await http.get(f"{urls['inbox']}/v1/workspaces/{ws}/conversations", headers=tenant.auth)
        items = r.json()["items"]
        # The comment and post.published reach the inbox in either order; the thread is
        # linked to its post whichever comes first, so wait for the link as well.
        return items[0] if items and items[0]["post_id"] else None

    conv = await eventually(conversation, within_s=45)
    assert conv["network_post_id"] == target["network_post_id"]
    assert conv["post_id"] == post["id"]
    r = await http.get(
        f"{urls['inbox']}/v1/workspaces/{ws}/conversations/{conv['id']}/messages",
        headers=tenant.auth,
    )
    messages = r.json()["items"]
    assert len(messages) == 1
    assert messages[0]["author_handle"] == "sandbox_fan"
    assert "Hello from the first slice" in messages[0]["text"]

    # Answer the comment from the inbox: engagement.requested → publisher → network.
    r = await http.post(
        f"{urls['inbox']}/v1/workspaces/{ws}/conversations/{conv['id']}:reply",
        json={"text": "Thank you! 🙏"},
        headers=tenant.auth,
    )
    assert r.status_code == 202, r.text
    reply_id = r.json()["id"]
    assert r.json()["delivery"] == "sending"

    async def reply_sent() -> dict[str, Any] | None:
        r = await http.get(
            f"{urls['inbox']}/v1/workspaces/{ws}/conversations/{conv['id']}/messages",
            headers=tenant.auth,
        )
        mine = [m for m in r.json()["items"] if m["id"] == reply_id]
        return mine[0] if mine and mine[0]["delivery"] != "sending" else None

    sent = await eventually(reply_sent, within_s=30)
    assert sent["delivery"] == "sent", sent
    assert sent["network_message_id"].startswith("sbxcomment_")
    assert sent["in_reply_to"] == messages[0]["id"]

    today = datetime.now(UTC).date().isoformat()

    async def counted() -> dict[str, Any] | None:
        r = await http.get(
            f"{urls['analytics']}/v1/workspaces/{ws}/reports/activity",
            params={"from": today, "to": today},
            headers=tenant.auth,
        )
        body: dict[str, Any] = r.json()
        return body if body["posts_published"] == 1 and body["messages_received"] == 1 else None

    report = await eventually(counted, within_s=30)
    assert report["posts_failed"] == 0


async def test_the_sandbox_comment_is_stored_once(stack: Stack, http: httpx.AsyncClient) -> None:
    """Polling again and again never duplicates a message."""
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    ws = tenant.workspace_id
    r = await http.post(
        f"{urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "Twice?",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text

    async def one_message() -> list[Any] | None:
        r = await http.get(f"{urls['inbox']}/v1/workspaces/{ws}/conversations", headers=tenant.auth)
        items = r.json()["items"]
        return items if items else None

    convs = await eventually(one_message, within_s=30)
    # Several more polling rounds pass; still one conversation with one message.
    import asyncio

    await asyncio.sleep(2.0)
    r = await http.get(f"{urls['inbox']}/v1/workspaces/{ws}/conversations", headers=tenant.auth)
    assert len(r.json()["items"]) == 1
    assert r.json()["items"][0]["message_count"] == 1
    assert convs[0]["id"] == r.json()["items"][0]["id"]


async def test_a_wall_clock_time_in_the_accounts_zone_is_stored_in_utc(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(http, stack.urls["vault"])
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts",
        json={
            "text": "Selamat pagi",
            "account_ids": [tenant.account_id],
            "scheduled_at": "2027-07-01T09:00:00",
            "timezone": "Asia/Jakarta",
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    stored = datetime.fromisoformat(r.json()["scheduled_at"])
    assert stored == datetime(2027, 7, 1, 2, 0, tzinfo=UTC)
