"""The publisher with the sandbox network on a real MongoDB: variant caption, first comment.

The vault is stood in for by a class that leases the sandbox account's credential (the
vault has its own tests); the network, the ledger and the outbox are the real ones.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import AccountRef, Credential
from siar.connectors.sandbox import SandboxConnector
from siar.contracts import PostScheduled
from siar.devstack import Infra
from siar.runtime.auth import ServiceTokenClient
from siar.runtime.media_client import MediaClient
from siar.runtime.mongo import Document
from siar.runtime.outbox import Outbox
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import VaultClient
from siar_publisher.domain import RetryPolicy
from siar_publisher.service import PublisherService
from siar_publisher.store import PublisherStore

from .conftest import unique


class OneAccountVault:
    """Leases one account's credential, as the vault would."""

    def __init__(self, account: AccountRef, credential: Credential) -> None:
        self.leased = (account, credential)

    async def lease(
        self, workspace_id: str, account_id: str, purpose: str
    ) -> tuple[AccountRef, Credential] | None:
        return self.leased

    async def refresh(
        self, workspace_id: str, account_id: str, refused: Credential | None = None
    ) -> tuple[AccountRef, Credential] | None:
        return None


async def publisher(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> tuple[PublisherService, SandboxConnector, AccountRef]:
    sandbox = SandboxConnector(mongo, database=unique("sbx"), comment_delay_s=3600)
    handle = unique("brand").replace("-", "_")
    signed_in = await sandbox.sign_in(handle)
    account = AccountRef(
        workspace_id="ws_variants",
        account_id="acc_box",
        network="sandbox",
        handle=signed_in.handle,
        network_account_id=signed_in.network_account_id,
    )
    http = httpx.AsyncClient()
    service = PublisherService(
        store=PublisherStore(db),
        uow=UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded"),
        vault=cast(VaultClient, OneAccountVault(account, signed_in.credential)),
        connectors={"sandbox": sandbox},
        retry=RetryPolicy(max_attempts=1, base_s=0.0, cap_s=0.0),
        # No media in these posts: the client is never called.
        media=MediaClient("http://scheduler.invalid", ServiceTokenClient(http, "", "", "")),
    )
    return service, sandbox, account


def scheduled(post_id: str) -> PostScheduled:
    at = datetime.now(UTC)
    return PostScheduled.new(
        workspace_id="ws_variants",
        post_id=post_id,
        account_id="acc_box",
        network="sandbox",
        occurrence=at.isoformat(),
        due_at=at,
        text="The sandbox's own caption",
        first_comment="Menu at siar.test",
    )


async def published_event(db: AsyncDatabase[Document], post_id: str) -> dict[str, Any]:
    """The ``post.published`` recorded in the outbox for ``post_id`` (payloads are JSON)."""
    rows = await db["outbox"].find({"topic": "post.published"}).to_list()
    events = [json.loads(row["payload"]) for row in rows]
    (event,) = [e for e in events if e["post_id"] == post_id]
    payload: dict[str, Any] = event
    return payload


async def test_the_caption_is_posted_then_the_first_comment_as_a_reply(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> None:
    service, sandbox, _ = await publisher(mongo, db, infra)
    done = await service.deliver(scheduled("pst_ok"))
    assert done.status.value == "published"
    on_network = await sandbox.db.posts.find_one({"_id": done.network_post_id})
    assert on_network is not None
    assert on_network["text"] == "The sandbox's own caption"
    replies = await sandbox.db.replies.find({"in_reply_to": done.network_post_id}).to_list()
    assert [r["text"] for r in replies] == ["Menu at siar.test"]
    assert done.first_comment is not None
    assert (done.first_comment.status, done.first_comment.via) == ("posted", "reply")
    assert done.first_comment.network_id == replies[0]["_id"]
    assert (await published_event(db, "pst_ok"))["warnings"] == []


async def test_a_failed_first_comment_leaves_the_post_published_with_a_warning(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> None:
    service, sandbox, account = await publisher(mongo, db, infra)
    # The account has one call left this minute (and the next, should the minute turn):
    # the post takes it, and the sandbox refuses the reply with its rate limit.
    window = int(time.time() // sandbox.rate_limit.per_seconds)
    for w in (window, window + 1):
        await sandbox.db.rate.insert_one(
            {"_id": f"{account.network_account_id}:{w}", "calls": sandbox.rate_limit.calls - 1}
        )
    done = await service.deliver(scheduled("pst_warn"))
    assert done.status.value == "published"
    assert await sandbox.db.posts.count_documents({"_id": done.network_post_id}) == 1
    assert await sandbox.db.replies.count_documents({}) == 0
    assert done.first_comment is not None
    assert done.first_comment.status == "failed"
    assert "rate limit" in (done.first_comment.reason or "")
    stored = await service.store.get("ws_variants", done.id)
    assert stored is not None
    assert stored.warnings == [done.first_comment.reason]
    event = await published_event(db, "pst_warn")
    assert event["warnings"] == [done.first_comment.reason]
    assert event["network_post_id"] == done.network_post_id
    assert datetime.fromisoformat(event["published_at"]) > datetime.now(UTC) - timedelta(minutes=5)
