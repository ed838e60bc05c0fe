"""Bad input gets a clear 4xx problem and writes nothing; bad events go to the DLQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.e2e.conftest import Stack
from tests.e2e.flows import Tenant, eventually, new_tenant

REPO = Path(__file__).resolve().parents[2]

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:siar:problem:{kind}", body
    assert body["status"] == status
    return body


async def _posts(http: httpx.AsyncClient, stack: Stack, tenant: Tenant) -> list[Any]:
    now = datetime.now(UTC)
    r = await http.get(
        f"{stack.urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts",
        params={
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=30)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def test_bad_requests_get_problems_and_write_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    tenant = await new_tenant(http, stack.urls["vault"])
    other = await new_tenant(http, stack.urls["vault"])
    posts = f"{stack.urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts"
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    good = {"text": "hi", "account_ids": [tenant.account_id], "scheduled_at": soon}

    r = await http.post(
        posts,
        content=b'{"text": "hi",',
        headers={**tenant.auth, "content-type": "application/json"},
    )
    _assert_problem(r, 400, "malformed-json")

    r = await http.post(posts, json=good)
    _assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"

    tampered = tenant.token[:-4] + ("AAAA" if not tenant.token.endswith("AAAA") else "BBBB")
    r = await http.post(posts, json=good, headers={"authorization": f"Bearer {tampered}"})
    _assert_problem(r, 401, "unauthorized")

    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/ws_unknown/posts", json=good, headers=tenant.auth
    )
    _assert_problem(r, 404, "not-found")

    # Another tenant's workspace looks exactly like an unknown one.
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{other.workspace_id}/posts",
        json=good,
        headers=tenant.auth,
    )
    _assert_problem(r, 404, "not-found")

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await http.post(posts, json={**good, "scheduled_at": past}, headers=tenant.auth)
    body = _assert_problem(r, 422, "invalid-schedule")
    assert "past" in body["detail"]

    r = await http.post(
        posts, json={**good, "scheduled_at": "2030-01-01T09:00:00"}, headers=tenant.auth
    )
    body = _assert_problem(r, 422, "invalid-schedule")
    assert "timezone" in body["detail"]
    spring_forward = {"scheduled_at": "2027-03-14T02:30:00", "timezone": "America/New_York"}
    r = await http.post(posts, json={**good, **spring_forward}, headers=tenant.auth)
    body = _assert_problem(r, 422, "invalid-schedule")
    assert "does not exist in America/New_York" in body["detail"]

    r = await http.post(posts, json={**good, "account_ids": ["acc_nope"]}, headers=tenant.auth)
    body = _assert_problem(r, 422, "unknown-account")
    assert "acc_nope" in body["detail"]

    # An account of another workspace is unknown here too.
    r = await http.post(
        posts, json={**good, "account_ids": [other.account_id]}, headers=tenant.auth
    )
    _assert_problem(r, 422, "unknown-account")

    r = await http.post(posts, json={**good, "surprise": 1}, headers=tenant.auth)
    _assert_problem(r, 422, "validation")

    r = await http.post(posts, json={**good, "text": "x" * 5001}, headers=tenant.auth)
    body = _assert_problem(r, 422, "network-rules")
    assert body["violations"] == [
        {
            "network": "sandbox",
            "rule": "text.length",
            "message": "Sandbox allows 5000 characters; the text has 5001",
        }
    ]

    assert await _posts(http, stack, tenant) == []

    r = await http.post(
        f"{stack.urls['vault']}/v1/users",
        json={"email": "weak@example.com", "password": "short", "name": "W"},
    )
    _assert_problem(r, 422, "weak-password")
    r = await http.post(
        f"{stack.urls['vault']}/v1/auth/token",
        data={"grant_type": "password", "username": tenant.email, "password": "wrong password!!"},
    )
    _assert_problem(r, 401, "invalid-credentials")


def consumer_groups_of(topic: str) -> set[str]:
    """The consumer groups that read ``topic``, from the committed AsyncAPI documents."""
    groups = set()
    for service in ("scheduler", "publisher", "inbox", "analytics", "vault"):
        path = REPO / "services" / service / "asyncapi.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        for op in doc["operations"].values():
            channel = doc["channels"][op["channel"]["$ref"].split("/")[-1]]
            if op["action"] == "receive" and channel["address"] == topic:
                groups.add(f"siar-{service}")
    return groups


async def test_malformed_events_are_dead_lettered_and_the_consumer_goes_on(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    bootstrap = stack.infra.kafka_bootstrap
    marker = uuid.uuid4().hex
    bad = [
        f'{{"not json {marker}'.encode(),
        json.dumps({"event_type": "post.scheduled", "marker": marker}).encode(),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for payload in bad:
            await producer.send_and_wait("post.scheduled", payload, key=b"bad:bad")
    finally:
        await producer.stop()

    groups = consumer_groups_of("post.scheduled")
    consumer = AIOKafkaConsumer(
        "post.scheduled.dlq",
        bootstrap_servers=bootstrap,
        group_id=f"e2e-dlq-{marker}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    letters: list[dict[str, Any]] = []
    try:

        async def both_dead_lettered() -> bool | None:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                letters.extend(
                    json.loads(r.value) for r in records if marker.encode() in (r.value or b"")
                )
            return True if len(letters) >= 2 * len(groups) else None

        await eventually(both_dead_lettered, within_s=30)
    finally:
        await consumer.stop()
    assert {letter["source_topic"] for letter in letters} == {"post.scheduled"}
    # Each consumer group of the topic dead-letters what it cannot read, on its own.
    assert {letter["consumer_group"] for letter in letters} == groups
    assert all(letter["error"] for letter in letters)
    for group in groups:
        mine = [letter["payload"] for letter in letters if letter["consumer_group"] == group]
        assert sorted(mine) == sorted(b.decode() for b in bad), group

    # The publisher still delivers.
    tenant = await new_tenant(http, stack.urls["vault"])
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts",
        json={
            "text": "after the poison",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]

    async def published() -> bool | None:
        r = await http.get(
            f"{stack.urls['scheduler']}/v1/workspaces/{tenant.workspace_id}/posts/{post_id}",
            headers=tenant.auth,
        )
        return True if r.json()["status"] == "published" else None

    await eventually(published, within_s=30)
    await asyncio.sleep(0)
