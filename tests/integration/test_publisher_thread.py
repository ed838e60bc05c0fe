"""The publisher posts a thread to X on a real MongoDB; a failed later part is a warning.

X is faked with respx from its documented API v2 (``POST /2/tweets``, a reply naming
``in_reply_to_tweet_id``), as the connector's unit tests do: the sandbox has no threads.
The ledger and the outbox are the real ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
import respx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors.x import XConnector
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
from tests.unit.connectors.x_fakes import ACCOUNT, API, CREDENTIAL, body_of, tweet

from .test_publisher_variants import OneAccountVault, published_event

PARTS = ["2/ Asparagus, every day", "3/ Open from 9"]


@pytest.fixture
def x_api() -> Iterator[respx.MockRouter]:
    # Only X's host is faked; MongoDB is real.
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def service(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> AsyncIterator[PublisherService]:
    async with httpx.AsyncClient() as http:
        yield PublisherService(
            store=PublisherStore(db),
            uow=UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded"),
            vault=cast(VaultClient, OneAccountVault(ACCOUNT, CREDENTIAL)),
            connectors={"x": XConnector(http, poll_cap_s=0)},
            retry=RetryPolicy(max_attempts=1, base_s=0.0, cap_s=0.0),
            media=MediaClient("http://scheduler.invalid", ServiceTokenClient(http, "", "", "")),
        )


def scheduled(post_id: str, **changes: Any) -> PostScheduled:
    at = datetime.now(UTC)
    fields: dict[str, Any] = {
        "workspace_id": ACCOUNT.workspace_id,
        "post_id": post_id,
        "account_id": ACCOUNT.account_id,
        "network": "x",
        "occurrence": at.isoformat(),
        "due_at": at,
        "text": "1/ Spring menu",
        "format": "thread",
        "thread": PARTS,
    }
    return PostScheduled.new(**{**fields, **changes})


async def test_the_parts_are_posted_as_a_reply_chain(
    service: PublisherService, db: AsyncDatabase[Document], x_api: respx.MockRouter
) -> None:
    route = x_api.post("/2/tweets").mock(
        side_effect=[httpx.Response(201, json=tweet(i)) for i in ("10", "11", "12")]
    )
    done = await service.deliver(scheduled("pst_thread"))
    assert done.status.value == "published"
    assert [body_of(c.request) for c in route.calls] == [
        {"text": "1/ Spring menu"},
        {"text": PARTS[0], "reply": {"in_reply_to_tweet_id": "10"}},
        {"text": PARTS[1], "reply": {"in_reply_to_tweet_id": "11"}},
    ]
    event = await published_event(db, "pst_thread")
    assert (event["network_post_id"], event["warnings"]) == ("10", [])


async def test_a_failed_later_part_is_a_warning_on_post_published(
    service: PublisherService, db: AsyncDatabase[Document], x_api: respx.MockRouter
) -> None:
    route = x_api.post("/2/tweets").mock(
        side_effect=[
            httpx.Response(201, json=tweet("20")),
            httpx.Response(201, json=tweet("21")),
            httpx.Response(403, json={"title": "Forbidden", "detail": "duplicate content"}),
        ]
    )
    done = await service.deliver(scheduled("pst_partial"))
    assert done.status.value == "published"
    assert route.call_count == 3  # never posted again: the head is live
    assert done.network_post_id == "20"
    (warning,) = done.warnings
    assert "part 3 of 3" in warning
    stored = await service.store.get(ACCOUNT.workspace_id, done.id)
    assert stored is not None
    assert stored.warnings == [warning]
    event = await published_event(db, "pst_partial")
    assert (event["network_post_id"], event["warnings"]) == ("20", [warning])
