"""The scheduler's workflow over the whole platform: approval, calendar feed, failure notice, retry.

Real vault tokens carry the roles; the approved post is published on the sandbox; a
post whose account was disconnected fails in the publisher, the scheduler tells the
workspace's webhook (a real HTTP server in this process, checking the signature) and
a retry dispatches the failed account once more.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import icalendar
import pytest

from siar.runtime import webhooks
from tests.e2e.conftest import Stack
from tests.e2e.flows import add_member, eventually, new_tenant

SECRET = "e2e-webhook-secret-" + uuid.uuid4().hex


class Hook:
    """A webhook receiver on a free port: keeps each verified call's JSON body."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.forged = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                ok = webhooks.verify(
                    SECRET,
                    self.headers.get("x-siar-timestamp", ""),
                    body,
                    self.headers.get("x-siar-signature", ""),
                )
                if ok:
                    hook.calls.append(json.loads(body))
                else:
                    hook.forged += 1
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A running receiver."""
    receiver = Hook()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        receiver.thread.join(timeout=5)


async def post_status(
    http: httpx.AsyncClient, url: str, auth: dict[str, str], wanted: str
) -> dict[str, Any] | None:
    r = await http.get(url, headers=auth)
    body: dict[str, Any] = r.json()
    return body if body["status"] == wanted else None


async def test_approval_feed_failure_notice_and_retry(
    stack: Stack, http: httpx.AsyncClient, hook: Hook
) -> None:
    vault, scheduler = stack.urls["vault"], stack.urls["scheduler"]
    owner = await new_tenant(http, vault)
    ws = f"{scheduler}/v1/workspaces/{owner.workspace_id}"
    contributor = await add_member(http, vault, owner, "contributor")
    approver = await add_member(http, vault, owner, "approver")
    r = await http.patch(
        f"{ws}/scheduler-settings",
        json={"approvals_required": True, "failure_webhook": {"url": hook.url, "secret": SECRET}},
        headers=owner.auth,
    )
    assert r.status_code == 200, r.text

    # A contributor drafts and submits; the approver approves; the sandbox publishes it.
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    body = {
        "text": "Approved launch #siar",
        "account_ids": [owner.account_id],
        "scheduled_at": soon,
    }
    r = await http.post(f"{ws}/posts", json=body, headers=contributor)
    assert r.status_code == 403, r.text
    r = await http.post(f"{ws}/posts", json={**body, "draft": True}, headers=contributor)
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    r = await http.post(f"{ws}/posts/{post_id}:submit", json={}, headers=contributor)
    assert r.json()["status"] == "in_review"
    r = await http.get(f"{ws}/approvals", headers=approver)
    assert [p["id"] for p in r.json()["items"]] == [post_id]
    due = datetime.now(UTC) + timedelta(seconds=3)
    r = await http.post(
        f"{ws}/posts/{post_id}:approve",
        json={"comment": "go", "scheduled_at": due.isoformat()},
        headers=approver,
    )
    assert r.status_code == 200, r.text
    await eventually(
        lambda: post_status(http, f"{ws}/posts/{post_id}", owner.auth, "published"), within_s=60
    )

    # The calendar feed, read by a calendar parser over real HTTP.
    r = await http.post(f"{ws}/calendar-feed:rotate", headers=owner.auth)
    feed = await http.get(r.json()["url"])
    assert feed.status_code == 200
    uids = [str(e["uid"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")]
    assert uids == [f"{post_id}@siar"]

    r = await http.post(f"{ws}/posts/{post_id}:retry", headers=contributor)
    assert r.status_code == 403  # approval is required of contributors

    # A post whose account is gone fails; the workspace hears of it; a retry goes once.
    # (A fresh workspace: the publisher may still hold a cached lease of the first one.)
    other = await new_tenant(http, vault)
    ws = f"{scheduler}/v1/workspaces/{other.workspace_id}"
    r = await http.patch(
        f"{ws}/scheduler-settings",
        json={"failure_webhook": {"url": hook.url, "secret": SECRET}},
        headers=other.auth,
    )
    assert r.status_code == 200, r.text
    r = await http.post(
        f"{ws}/posts",
        json={
            "text": "This one will fail",
            "account_ids": [other.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=4)).isoformat(),
        },
        headers=other.auth,
    )
    assert r.status_code == 201, r.text
    failing = r.json()["id"]
    r = await http.delete(
        f"{vault}/v1/workspaces/{other.workspace_id}/accounts/{other.account_id}",
        headers=other.auth,
    )
    assert r.status_code == 204, r.text
    failed = await eventually(
        lambda: post_status(http, f"{ws}/posts/{failing}", other.auth, "failed"), within_s=60
    )
    assert "no longer connected" in failed["targets"][0]["error"]
    notices = await eventually(lambda: _async(hook.calls or None), within_s=60)
    assert notices[0]["kind"] == "post.failed"
    assert notices[0]["data"]["post_id"] == failing
    assert f"{failing}:retry" in notices[0]["text"]
    assert hook.forged == 0

    r = await http.post(f"{ws}/posts/{failing}:retry", headers=other.auth)
    assert r.status_code == 200, r.text
    assert r.json()["retries"] == 1
    again = await eventually(
        lambda: post_status(http, f"{ws}/posts/{failing}", other.auth, "failed"), within_s=60
    )
    assert again["retries"] == 1
    await eventually(lambda: _async(hook.calls[1:] or None), within_s=60)
    assert [c["data"]["post_id"] for c in hook.calls] == [failing, failing]


async def _async(value: Any) -> Any:
    return value
