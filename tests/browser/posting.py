"""Helpers for the posting browser tests: data set up and checked through the services."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from playwright.sync_api import Page, ViewportSize

from tests.browser.conftest import Console
from tests.browser.tenants import PASSWORD, Person, token

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
# A datetime-local value `seconds` from now, in the browser's own time zone.
LOCAL_IN = """(seconds) => {
  const d = new Date(Date.now() + seconds * 1000);
  const p = (n) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${day}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}"""
LOCAL_DAY = """(iso) => {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}"""


def workspace_of(page: Page) -> str:
    """The workspace id in the page's address."""
    found = re.search(r"#/w/([^/]+)/", page.url)
    assert found, page.url
    return found.group(1)


@contextmanager
def api(console: Console, person: Person) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """An HTTP client and ``person``'s bearer header, for setting up and checking data."""
    with httpx.Client(timeout=30.0) as http:
        yield http, {"authorization": f"Bearer {token(http, console.vault, person.email)}"}


def get_post(console: Console, person: Person, ws: str, post_id: str) -> dict[str, Any]:
    """One post as the scheduler has it."""
    with api(console, person) as (http, auth):
        r = http.get(
            f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}/posts/{post_id}", headers=auth
        )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def schedule_post(console: Console, person: Person, ws: str, text: str, at: datetime) -> str:
    """A post of ``text`` on the workspace's first account at ``at``, made through the API."""
    with api(console, person) as (http, auth):
        accounts = http.get(f"{console.vault}/v1/workspaces/{ws}/accounts", headers=auth).json()
        r = http.post(
            f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
            json={
                "text": text,
                "account_ids": [accounts["items"][0]["id"]],
                "scheduled_at": at.isoformat(),
            },
            headers=auth,
        )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def png(width: int = 40, height: int = 30) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\x0b\x5c\xad" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def member(console: Console, owner: Person, ws: str, role: str) -> Person:
    someone = Person(email=f"{role}-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    with api(console, owner) as (http, auth):
        r = http.post(
            f"{console.vault}/v1/users",
            json={"email": someone.email, "password": PASSWORD, "name": role.title()},
        )
        assert r.status_code == 201, r.text
        r = http.post(
            f"{console.vault}/v1/workspaces/{ws}/members",
            json={"email": someone.email, "role": role},
            headers=auth,
        )
        assert r.status_code == 201, r.text
    return someone
