"""The unified inbox over HTTP: filters and their errors, counts, thread actions through the
publisher, snooze, bulk changes, response times, and the live stream served by two replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from siar.devstack import free_port
from tests.e2e.conftest import Stack
from tests.e2e.flows import Tenant, eventually, new_tenant


async def conversation_of(http: httpx.AsyncClient, stack: Stack, tenant: Tenant) -> dict[str, Any]:
    """Schedule a post on the sandbox and wait for the fan's comment to reach the inbox."""
    ws = tenant.workspace_id
    r = await http.post(
        f"{stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "Inbox API probe",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    url = f"{stack.urls['inbox']}/v1/workspaces/{ws}/conversations"

    async def first() -> dict[str, Any] | None:
        items = (await http.get(url, headers=tenant.auth)).json()["items"]
        return items[0] if items else None

    return await eventually(first, within_s=60)


@pytest.fixture(scope="module")
async def tenant(stack: Stack) -> AsyncIterator[tuple[Tenant, dict[str, Any]]]:
    """A workspace with one conversation from the sandbox."""
    async with httpx.AsyncClient(timeout=15.0) as http:
        owner = await new_tenant(http, stack.urls["vault"])
        yield owner, await conversation_of(http, stack, owner)


async def test_filters_search_counts_and_their_errors(
    stack: Stack, http: httpx.AsyncClient, tenant: tuple[Tenant, dict[str, Any]]
) -> None:
    owner, conv = tenant
    base = f"{stack.urls['inbox']}/v1/workspaces/{owner.workspace_id}"

    async def ids(**params: Any) -> list[str]:
        r = await http.get(f"{base}/conversations", params=params, headers=owner.auth)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await ids(status="open", network="sandbox", kind="comment") == [conv["id"]]
    assert await ids(status="closed") == []
    word = conv["last_message_text"].split()[0]
    assert await ids(q=word.upper()) == [conv["id"]]
    assert await ids(q="zzzunlikelyword") == []
    r = await http.get(f"{base}/conversations", params={"counts": "true"}, headers=owner.auth)
    assert r.json()["counts"]["status"] == {"open": 1}
    assert r.json()["counts"]["network"] == {"sandbox": 1}
    r = await http.get(f"{base}/conversations:counts", params={"q": word}, headers=owner.auth)
    assert r.json()["total"] == 1

    for params, status, kind in [
        ({"cursor": "garbage"}, 400, "bad-cursor"),
        ({"status": "archived"}, 422, "validation"),
        ({"priority": "extreme"}, 422, "validation"),
        ({"network": "myspace"}, 422, "validation"),
    ]:
        r = await http.get(f"{base}/conversations", params=params, headers=owner.auth)
        assert (r.status_code, r.json()["type"]) == (status, f"urn:siar:problem:{kind}"), params
    r = await http.get(f"{base}/conversations/cnv_doesnotexist", headers=owner.auth)
    assert r.status_code == 404


async def test_actions_snooze_bulk_and_response_times(
    stack: Stack, http: httpx.AsyncClient, tenant: tuple[Tenant, dict[str, Any]]
) -> None:
    owner, conv = tenant
    base = f"{stack.urls['inbox']}/v1/workspaces/{owner.workspace_id}"
    url = f"{base}/conversations/{conv['id']}"

    r = await http.post(f"{url}/actions", json={"action": "dm", "text": "hi"}, headers=owner.auth)
    assert (r.status_code, r.json()["type"]) == (422, "urn:siar:problem:action-not-supported")
    assert "Sandbox does not support private replies" in r.json()["detail"]
    r = await http.post(f"{url}/actions", json={"action": "hide"}, headers=owner.auth)
    assert r.status_code == 202, r.text

    async def hidden() -> list[dict[str, Any]] | None:
        actions = (await http.get(f"{url}/actions", headers=owner.auth)).json()
        return actions if actions[0]["state"] != "requested" else None

    assert [a["state"] for a in await eventually(hidden, within_s=60)] == ["done"]
    messages = (await http.get(f"{url}/messages", headers=owner.auth)).json()["items"]
    assert messages[0]["moderation"] == "hidden"

    r = await http.post(f"{url}:reply", json={"text": "Thanks!"}, headers=owner.auth)
    assert r.status_code == 202, r.text
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await http.post(f"{url}:snooze", json={"until": past}, headers=owner.auth)
    assert (r.status_code, r.json()["type"]) == (422, "urn:siar:problem:snooze-not-ahead")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    r = await http.post(f"{url}:snooze", json={"until": soon}, headers=owner.auth)
    assert r.json()["status"] == "snoozed"

    async def awake() -> str | None:
        status = (await http.get(url, headers=owner.auth)).json()["status"]
        return status if status == "open" else None

    await eventually(awake, within_s=60)  # the waker runs every few seconds

    many = {"ids": [f"cnv_{i}" for i in range(101)], "action": "close"}
    r = await http.post(f"{base}/conversations:bulk", json=many, headers=owner.auth)
    assert r.status_code == 422
    body = {"ids": [conv["id"], "cnv_missing"], "action": "close"}
    r = await http.post(f"{base}/conversations:bulk", json=body, headers=owner.auth)
    assert [(x["id"], x["status"]) for x in r.json()["results"]] == [
        (conv["id"], 200),
        ("cnv_missing", 404),
    ]

    day = timedelta(days=1)
    params = {
        "from": (datetime.now(UTC) - day).isoformat(),
        "to": (datetime.now(UTC) + day).isoformat(),
    }
    r = await http.get(f"{base}/inbox/response-times", params=params, headers=owner.auth)
    assert r.status_code == 200, r.text
    times = r.json()
    assert (times["conversations"], times["unanswered"]) == (1, 0)
    assert times["first_response"]["count"] == times["resolution"]["count"] == 1
    r = await http.get(
        f"{base}/inbox/response-times",
        params={"from": params["to"], "to": params["from"]},
        headers=owner.auth,
    )
    assert r.status_code == 422


@pytest.fixture(scope="module")
def replica(stack: Stack) -> Iterator[str]:
    """A second inbox process on the same database: what a scaled-out deployment runs."""
    port = free_port()
    env = stack.platform.env_for("inbox")
    env.update(
        SIAR_INBOX_PORT=str(port),
        SIAR_INBOX_STREAM_HEARTBEAT_S="1",
        # Its own consumer group, so its join does not stall the first replica's
        # consumption (a rebalance on Tansu takes seconds) for the other tests.
        SIAR_INBOX_CONSUMER_GROUP="siar-inbox-replica",
    )
    log = stack.platform.log_path("inbox-replica").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "siar_inbox"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=2.0) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"{url}/readyz").status_code == 200:
                        break
                assert process.poll() is None, "the replica exited"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


Event = tuple[str, dict[str, Any]]


def tags_seen(tags: list[str]) -> Callable[[list[Event]], bool]:
    """Until a conversation event shows these tags."""
    return lambda out: any(data["tags"] == tags for _, data in out)


async def read_events(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    until: Callable[[list[Event]], bool],
    seen: list[str],
    out: list[Event] | None = None,
) -> list[Event]:
    """SSE events (id, data) of type conversation until ``until(out)``; ``seen`` gets all."""
    out = [] if out is None else out
    async with http.stream("GET", url, headers=headers, timeout=60) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        block: list[str] = []
        async for line in r.aiter_lines():
            if line:
                block.append(line)
                continue
            seen.append("\n".join(block))
            fields = dict(b.split(": ", 1) for b in block if ": " in b and not b.startswith(":"))
            block = []
            if fields.get("event") == "conversation":
                out.append((fields["id"], json.loads(fields["data"])))
                if until(out):
                    return out
    return out


async def test_the_live_stream_spans_replicas_and_resumes(
    stack: Stack, http: httpx.AsyncClient, tenant: tuple[Tenant, dict[str, Any]], replica: str
) -> None:
    owner, conv = tenant
    path = f"/v1/workspaces/{owner.workspace_id}/conversations"
    first_inbox = stack.urls["inbox"]
    seen: list[str] = []
    events: list[Event] = []
    # Outcomes of the earlier tests' actions (reply, hide) may still bump the thread, so
    # the stream can carry changes besides the two made here; each shows the thread as
    # it is when announced.
    reader = asyncio.create_task(
        read_events(
            http, f"{replica}{path}:stream", owner.auth, tags_seen(["again", "live"]), seen, events
        )
    )
    await eventually(lambda: _true(any("event: ready" in s for s in seen)), within_s=30)
    change = f"{first_inbox}{path}/{conv['id']}"
    r = await http.patch(change, json={"tags": ["live"]}, headers=owner.auth)
    assert r.status_code == 200, r.text
    await eventually(lambda: _true(tags_seen(["live"])(events)))
    r = await http.patch(change, json={"tags": ["live", "again"]}, headers=owner.auth)
    await asyncio.wait_for(reader, 60)
    # A change made through one replica reaches a stream served by the other, in order.
    shown = [data["tags"] for _, data in events]
    assert shown.index(["live"]) < shown.index(["again", "live"]) == len(shown) - 1, shown
    # Reconnecting after the first change replays what came after it.
    after_live = next(i for i, data in events if data["tags"] == ["live"])
    resumed = await read_events(
        http,
        f"{first_inbox}{path}:stream",
        {**owner.auth, "last-event-id": after_live},
        tags_seen(["again", "live"]),
        [],
    )
    assert resumed[-1][1]["tags"] == ["again", "live"]
    # Heartbeats keep a quiet stream open.
    quiet: list[str] = []
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            read_events(http, f"{replica}{path}:stream", owner.auth, lambda _: False, quiet), 4
        )
    assert any(s.startswith(": ping") for s in quiet)

    r = await http.get(f"{replica}{path}:stream", headers={"last-event-id": "x"})
    assert r.status_code == 401
    r = await http.get(
        f"{replica}{path}:stream", headers={**owner.auth, "last-event-id": "bad id!"}
    )
    assert (r.status_code, r.json()["type"]) == (400, "urn:siar:problem:bad-last-event-id")
    stranger = await new_tenant(http, stack.urls["vault"])
    r = await http.get(f"{replica}{path}:stream", headers=stranger.auth)
    assert r.status_code == 404


async def _true(value: bool) -> bool | None:
    return True if value else None
