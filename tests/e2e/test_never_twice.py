"""Kill the publisher at each step of a delivery: the post still lands exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from siar.connectors.sandbox import SANDBOX_DATABASE
from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant

CRASH_ENV = ("SIAR_PUBLISHER_CRASH_AT", "SIAR_PUBLISHER_CRASH_ONCE_FILE")


def _restart_publisher(stack: Stack, env: dict[str, str]) -> None:
    platform = stack.platform
    for name in CRASH_ENV:
        platform.extra_env.pop(name, None)
    platform.extra_env.update(env)
    if "publisher" not in platform.exited():
        platform.kill("publisher")
    platform.start_one("publisher")
    platform.wait_ready(timeout=60)


@pytest.fixture
def crashing_publisher(stack: Stack) -> Iterator[None]:
    """Leave the shared stack with a normal publisher whatever the test did."""
    stack.platform.extra_env["SIAR_PUBLISHER_CLAIM_LEASE_S"] = "3"
    yield
    stack.platform.extra_env.pop("SIAR_PUBLISHER_CLAIM_LEASE_S", None)
    _restart_publisher(stack, {})


@pytest.mark.timeout(180)
@pytest.mark.parametrize("step", ["claimed", "published", "recorded"])
async def test_a_publisher_killed_mid_delivery_posts_once(
    step: str,
    stack: Stack,
    http: httpx.AsyncClient,
    tmp_path: Path,
    crashing_publisher: None,
) -> None:
    marker_file = tmp_path / f"crashed-{step}"
    _restart_publisher(
        stack,
        {"SIAR_PUBLISHER_CRASH_AT": step, "SIAR_PUBLISHER_CRASH_ONCE_FILE": str(marker_file)},
    )
    tenant = await new_tenant(http, stack.urls["vault"])
    ws = tenant.workspace_id
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": f"Survives a crash at {step}",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]

    async def crashed() -> bool | None:
        return True if "publisher" in stack.platform.exited() else None

    await eventually(crashed, within_s=30)
    assert marker_file.read_text() == step
    assert stack.platform.exited()["publisher"] == 137
    await asyncio.to_thread(_restart_publisher, stack, {})

    async def published() -> dict[str, Any] | None:
        r = await http.get(
            f"{stack.urls['scheduler']}/v1/workspaces/{ws}/posts/{post_id}", headers=tenant.auth
        )
        body: dict[str, Any] = r.json()
        return body if body["status"] == "published" else None

    post = await eventually(published, within_s=60)
    r = await http.get(
        f"{stack.urls['publisher']}/v1/workspaces/{ws}/deliveries",
        params={"post_id": post_id},
        headers=tenant.auth,
    )
    deliveries = r.json()["items"]
    assert [d["status"] for d in deliveries] == ["published"]
    delivery = deliveries[0]

    network: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.infra.mongodb_url, tz_aware=True
    )
    try:
        on_network = (
            await network[SANDBOX_DATABASE].posts.find({"marker": delivery["id"]}).to_list()
        )
    finally:
        await network.close()
    assert len(on_network) == 1, f"the network holds {len(on_network)} posts for one delivery"
    assert on_network[0]["_id"] == delivery["network_post_id"]
    assert post["targets"][0]["network_post_id"] == delivery["network_post_id"]

    # The restarted publisher took the path each crash point calls for.
    metrics = (await http.get(f"{stack.urls['publisher']}/metrics")).text
    expected = {"claimed": "published", "published": "reconciled", "recorded": "duplicate"}
    line = f'siar_publish_outcomes_total{{network="sandbox",outcome="{expected[step]}"}} 1.0'
    assert line in metrics, [m for m in metrics.splitlines() if "publish_outcomes" in m]
