"""The publisher keeps its claim on a delivery through a slow network call, and a claim
taken away stops the delivery: before the call nothing is sent, after it the delivery
still ends with one ``post.published``.

Real MongoDB (the ledger, the outbox and the sandbox network); the claim's term is short
(``TERM_S``), so a publish outlasts it. A second :class:`PublisherService` is the other
replica: its own holder id, the same database.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import AccountRef, Credential, OutgoingPost, PublishedPost, RetryableError
from siar.connectors.sandbox import SandboxConnector
from siar.contracts import PostScheduled
from siar.devstack import Infra
from siar.runtime.auth import ServiceTokenClient
from siar.runtime.media_client import MediaClient
from siar.runtime.mongo import Document
from siar.runtime.outbox import Outbox
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import VaultClient
from siar_publisher.domain import DeliveryStatus, RetryPolicy, delivery_id
from siar_publisher.errors import ClaimLost, DeliveryBusy
from siar_publisher.service import PublisherService
from siar_publisher.store import PublisherStore

from .conftest import unique
from .test_publisher_variants import OneAccountVault

TERM_S = 2.0  # the claim's term; renewed every 1 s
WS = "ws_kept"

Hook = Callable[[], Awaitable[None]]


async def nothing() -> None:
    return None


class Network(SandboxConnector):
    """The sandbox, with ``before`` run as a call starts and ``after`` once it posted."""

    def __init__(self, mongo: AsyncMongoClient[Document], database: str) -> None:
        super().__init__(mongo, database=database, comment_delay_s=3600)
        self.before: Hook = nothing
        self.after: Hook = nothing
        self.calls = 0

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        self.calls += 1
        await self.before()
        published = await super().publish(account, credential, post)
        await self.after()
        return published


class Vault(OneAccountVault):
    """Leases the account's credential, with ``on_lease`` run first."""

    def __init__(self, account: AccountRef, credential: Credential) -> None:
        super().__init__(account, credential)
        self.on_lease: Hook = nothing

    async def lease(
        self, workspace_id: str, account_id: str, purpose: str
    ) -> tuple[AccountRef, Credential] | None:
        await self.on_lease()
        return await super().lease(workspace_id, account_id, purpose)


class Replicas:
    """Two publishers on one database and one sandbox network, with a short claim term."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        uow: UnitOfWork,
        network: Network,
        vault: Vault,
        http: httpx.AsyncClient,
    ) -> None:
        self.db = db
        self.uow = uow
        self.network = network
        self.vault = vault
        self.http = http

    def publisher(self, network: SandboxConnector, *, max_attempts: int = 1) -> PublisherService:
        return PublisherService(
            store=PublisherStore(self.db),
            uow=self.uow,
            vault=cast(VaultClient, self.vault),
            connectors={"sandbox": network},
            retry=RetryPolicy(max_attempts=max_attempts, base_s=0.0, cap_s=0.0),
            media=MediaClient(
                "http://scheduler.invalid", ServiceTokenClient(self.http, "", "", "")
            ),
            claim_lease_s=TERM_S,
        )

    def plain(self) -> SandboxConnector:
        """The same sandbox network, as another replica's connector sees it."""
        return SandboxConnector(self.network.db.client, database=self.network.db.name)

    async def posts(self, event: PostScheduled) -> list[Document]:
        return await self.network.db.posts.find({"marker": of(event)}).to_list()

    async def outcomes(self, post_id: str) -> list[dict[str, Any]]:
        """The ``post.*`` events in the outbox for ``post_id``."""
        rows = self.db["outbox"].find({"topic": {"$in": ["post.published", "post.failed"]}})
        events = [json.loads(row["payload"]) for row in await rows.to_list()]
        return [e for e in events if e["post_id"] == post_id]

    async def take_over(self, event: PostScheduled, holder: str) -> None:
        """Give the delivery's claim to ``holder``, as its claim does once this holder's
        term ran out (it stalled past it): the state another replica leaves behind."""
        await self.db["deliveries"].update_one(
            {"_id": of(event)},
            {"$set": {"owner": holder, "lease_until": time.time() + 3600}},
        )


@pytest.fixture
async def replicas(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> AsyncIterator[Replicas]:
    network = Network(mongo, unique("sbx"))
    signed_in = await network.sign_in(unique("brand").replace("-", "_"))
    account = AccountRef(
        workspace_id=WS,
        account_id="acc_kept",
        network="sandbox",
        handle=signed_in.handle,
        network_account_id=signed_in.network_account_id,
    )
    uow = UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded")
    async with httpx.AsyncClient() as http:
        vault = Vault(account, signed_in.credential)
        yield Replicas(db, uow, network, vault, http)


def of(event: PostScheduled) -> str:
    """The id of ``event``'s delivery (also its marker on the network)."""
    return delivery_id(event.post_id, event.account_id, event.occurrence)


def scheduled(post_id: str, **changes: Any) -> PostScheduled:
    at = datetime.now(UTC)
    fields: dict[str, Any] = {
        "workspace_id": WS,
        "post_id": post_id,
        "account_id": "acc_kept",
        "network": "sandbox",
        "occurrence": at.isoformat(),
        "due_at": at,
        "text": f"Kept claim {post_id}",
    }
    return PostScheduled.new(**{**fields, **changes})


async def test_a_publish_slower_than_the_term_keeps_its_claim(replicas: Replicas) -> None:
    event = scheduled("pst_slow")
    first = replicas.publisher(replicas.network)
    second = replicas.publisher(replicas.plain())
    replicas.network.before = lambda: asyncio.sleep(TERM_S * 2.5)  # the call outlasts the term
    refused: list[type[Exception]] = []

    async def other_replica_tries_past_the_term() -> None:
        for wait in (TERM_S * 1.5, TERM_S * 0.5):
            await asyncio.sleep(wait)
            with pytest.raises(DeliveryBusy) as busy:
                await second.deliver(event)
            refused.append(type(busy.value))

    started = time.time()
    done, _ = await asyncio.gather(first.deliver(event), other_replica_tries_past_the_term())

    assert time.time() - started > TERM_S * 2  # the delivery did outlive the term
    assert refused == [DeliveryBusy, DeliveryBusy]  # held by a live publisher, not lost
    assert done.status is DeliveryStatus.PUBLISHED
    (post,) = await replicas.posts(event)
    assert done.network_post_id == post["_id"]
    assert [e["network_post_id"] for e in await replicas.outcomes("pst_slow")] == [post["_id"]]
    stored = await first.store.get(WS, done.id)
    assert stored is not None
    assert (stored.status, stored.owner) == (DeliveryStatus.PUBLISHED, first.owner)


async def test_a_claim_taken_before_the_call_means_no_call(replicas: Replicas) -> None:
    event = scheduled("pst_taken_before")

    async def taken_over() -> None:
        # The publisher stalls past its term on the way to the network; another has it.
        await replicas.take_over(event, "other-replica")

    replicas.vault.on_lease = taken_over
    with pytest.raises(ClaimLost):
        await replicas.publisher(replicas.network).deliver(event)

    assert replicas.network.calls == 0
    assert await replicas.posts(event) == []
    assert await replicas.outcomes("pst_taken_before") == []
    stored = await PublisherStore(replicas.db).get(WS, of(event))
    assert stored is not None
    # Left to its new holder: still pending, nothing recorded over it.
    assert (stored.status, stored.owner) == (DeliveryStatus.PENDING, "other-replica")


async def test_a_claim_taken_during_a_backoff_means_no_retry(replicas: Replicas) -> None:
    event = scheduled("pst_taken_backoff")

    async def refused_then_taken_over() -> None:
        await replicas.take_over(event, "other-replica")
        raise RetryableError("the sandbox answered 503")

    replicas.network.before = refused_then_taken_over
    with pytest.raises(ClaimLost):
        await replicas.publisher(replicas.network, max_attempts=3).deliver(event)

    assert replicas.network.calls == 1  # the retry was the new holder's to make
    assert await replicas.posts(event) == []
    assert await replicas.outcomes("pst_taken_backoff") == []


@pytest.mark.parametrize("new_holder_records", [True, False], ids=["recorded", "not-yet"])
async def test_a_claim_taken_after_the_call_still_ends_in_one_post_published(
    replicas: Replicas, new_holder_records: bool
) -> None:
    event = scheduled(f"pst_taken_after_{new_holder_records}", first_comment="Menu at siar.test")
    first = replicas.publisher(replicas.network)
    second = replicas.publisher(replicas.plain())

    async def taken_over_once_live() -> None:
        # The post is live and this publisher stalls; the other replica takes over and,
        # when it gets to it, finds the post by its marker and records the delivery.
        await replicas.take_over(event, second.owner)
        if new_holder_records:
            found = await second.deliver(event)
            assert found.status is DeliveryStatus.PUBLISHED

    replicas.network.after = taken_over_once_live
    done = await first.deliver(event)
    again = await second.deliver(event)  # the event once more: a duplicate now

    (post,) = await replicas.posts(event)
    assert replicas.network.calls == 1
    assert (done.status, done.network_post_id) == (DeliveryStatus.PUBLISHED, post["_id"])
    assert (again.status, again.network_post_id) == (DeliveryStatus.PUBLISHED, post["_id"])
    (published,) = await replicas.outcomes(event.post_id)
    assert published["network_post_id"] == post["_id"]
    # Nobody replies with the first comment: neither the stalled publisher (its claim is
    # gone) nor the new holder (it found the post, not knowing whether it was commented).
    assert await replicas.network.db.replies.count_documents({}) == 0
    assert done.first_comment is not None
    assert done.first_comment.status == "skipped"
