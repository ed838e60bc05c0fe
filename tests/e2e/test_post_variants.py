"""A post's per-network variant reaches the network: its own caption, then its first comment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from siar.connectors.sandbox import SANDBOX_DATABASE
from tests.e2e.conftest import Stack
from tests.e2e.flows import new_tenant, wait_post_status


async def test_the_variant_caption_is_posted_and_its_first_comment_follows(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    scheduler, publisher = stack.urls["scheduler"], stack.urls["publisher"]
    tenant = await new_tenant(http, stack.urls["vault"])
    ws = tenant.workspace_id
    due = datetime.now(UTC) + timedelta(seconds=3)
    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/posts",
        json={
            "text": "The main text, for every other network",
            "account_ids": [tenant.account_id],
            "scheduled_at": due.isoformat(),
            "variants": {
                "sandbox": {"text": "Sandbox's own caption", "first_comment": "Menu: siar.test"}
            },
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]

    done = await wait_post_status(http, scheduler, tenant, post_id, within_s=90)
    network_post_id = done["targets"][0]["network_post_id"]
    assert done["targets"][0]["warnings"] == []
    network: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        sandbox = network[SANDBOX_DATABASE]
        on_network = await sandbox.posts.find_one({"_id": network_post_id})
        replies = await sandbox.replies.find({"in_reply_to": network_post_id}).to_list()
    finally:
        await network.close()
    assert on_network is not None
    assert on_network["text"] == "Sandbox's own caption"
    assert [reply["text"] for reply in replies] == ["Menu: siar.test"]

    r = await http.get(
        f"{publisher}/v1/workspaces/{ws}/deliveries",
        params={"post_id": post_id},
        headers=tenant.auth,
    )
    (delivery,) = r.json()["items"]
    assert delivery["first_comment"]["status"] == "posted"
    assert delivery["first_comment"]["via"] == "reply"
    assert delivery["first_comment"]["network_id"] == replies[0]["_id"]
    assert delivery["warnings"] == []
