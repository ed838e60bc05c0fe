"""HTTP steps the end-to-end tests share: sign up, connect an account, wait for things."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer

T = TypeVar("T")


@dataclass
class Tenant:
    """A user with a workspace and a connected sandbox account."""

    token: str
    workspace_id: str
    account_id: str
    email: str
    password: str

    @property
    def auth(self) -> dict[str, str]:
        """Authorization header."""
        return {"authorization": f"Bearer {self.token}"}


async def login(http: httpx.AsyncClient, vault: str, email: str, password: str) -> str:
    """A fresh access token."""
    r = await http.post(
        f"{vault}/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def new_tenant(http: httpx.AsyncClient, vault: str, handle: str | None = None) -> Tenant:
    """Sign up, create a workspace and connect a sandbox account, via HTTP only."""
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    password = "a long enough passphrase 42"
    r = await http.post(
        f"{vault}/v1/users", json={"email": email, "password": password, "name": "E2E"}
    )
    assert r.status_code == 201, r.text
    token = await login(http, vault, email, password)
    r = await http.post(
        f"{vault}/v1/workspaces",
        json={"name": "E2E Brand"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    workspace_id = str(r.json()["id"])
    token = await login(http, vault, email, password)
    r = await http.post(
        f"{vault}/v1/workspaces/{workspace_id}/accounts",
        json={"network": "sandbox", "handle": handle or f"brand_{uuid.uuid4().hex[:8]}"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    return Tenant(token, workspace_id, str(r.json()["id"]), email, password)


async def add_member(
    http: httpx.AsyncClient, vault: str, owner: Tenant, role: str
) -> dict[str, str]:
    """Sign up a new user, give them ``role`` in the owner's workspace: their auth header."""
    email = f"e2e-{role}-{uuid.uuid4().hex[:8]}@example.com"
    password = "a long enough passphrase 42"
    r = await http.post(
        f"{vault}/v1/users", json={"email": email, "password": password, "name": role}
    )
    assert r.status_code == 201, r.text
    r = await http.post(
        f"{vault}/v1/workspaces/{owner.workspace_id}/members",
        json={"email": email, "role": role},
        headers=owner.auth,
    )
    assert r.status_code == 201, r.text
    return {"authorization": f"Bearer {await login(http, vault, email, password)}"}


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within_s: float = 30.0, every: float = 0.2
) -> T:
    """Poll ``probe`` until it returns something, or fail after ``within_s`` seconds."""
    deadline = asyncio.get_running_loop().time() + within_s
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await probe()
        if last is not None:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within_s}s")


async def schedule_soon(
    http: httpx.AsyncClient,
    scheduler: str,
    tenant: Tenant,
    text: str,
    *,
    in_s: float = 3.0,
    account_id: str | None = None,
) -> str:
    """Schedule a post to the tenant's (or another) account ``in_s`` s from now; its id."""
    r = await http.post(
        f"{scheduler}/v1/workspaces/{tenant.workspace_id}/posts",
        json={
            "text": text,
            "account_ids": [account_id or tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=in_s)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def wait_post_status(
    http: httpx.AsyncClient,
    scheduler: str,
    tenant: Tenant,
    post_id: str,
    status: str = "published",
    *,
    within_s: float = 60.0,
) -> dict[str, Any]:
    """Poll the post until it has ``status``; the post as the scheduler returns it."""

    async def probe() -> dict[str, Any] | None:
        r = await http.get(
            f"{scheduler}/v1/workspaces/{tenant.workspace_id}/posts/{post_id}",
            headers=tenant.auth,
        )
        body: dict[str, Any] = r.json()
        return body if body.get("status") == status else None

    return await eventually(probe, within_s=within_s)


async def schedule_post(
    http: httpx.AsyncClient,
    scheduler: str,
    tenant: Tenant,
    text: str,
    *,
    in_s: float = 3.0,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Schedule ``text`` on the tenant's account ``in_s`` seconds from now: the created post."""
    r = await http.post(
        f"{scheduler}/v1/workspaces/{tenant.workspace_id}/posts",
        json={
            "text": text,
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=in_s)).isoformat(),
        },
        headers={**tenant.auth, **(headers or {})},
    )
    assert r.status_code == 201, r.text
    post: dict[str, Any] = r.json()
    return post


async def first_conversation(
    http: httpx.AsyncClient, inbox: str, tenant: Tenant, *, within_s: float = 60.0
) -> dict[str, Any]:
    """The tenant's first inbox conversation, once there is one."""

    async def probe() -> dict[str, Any] | None:
        r = await http.get(
            f"{inbox}/v1/workspaces/{tenant.workspace_id}/conversations", headers=tenant.auth
        )
        items: list[dict[str, Any]] = r.json()["items"]
        return items[0] if items else None

    return await eventually(probe, within_s=within_s)


async def events_on(bootstrap: str, topic: str, **match: Any) -> list[dict[str, Any]]:
    """The events on ``topic`` whose fields equal ``match``, as far as one fetch reads.

    Reads the topic from the start without a consumer group, so it sees every event
    whoever consumed it (poll again for ones not there yet).
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        for records in (await consumer.getmany(timeout_ms=3000)).values():
            for record in records:
                payload = json.loads(record.value or b"{}")
                if all(payload.get(k) == v for k, v in match.items()):
                    found.append(dict(payload))
    finally:
        await consumer.stop()
    return found


async def event_on(bootstrap: str, topic: str, **match: str) -> dict[str, Any] | None:
    """The first event on ``topic`` whose fields equal ``match``, if it is there yet."""
    found = await events_on(bootstrap, topic, **match)
    return found[0] if found else None
