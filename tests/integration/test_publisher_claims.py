"""The publisher's claim on a delivery, on the real MongoDB: one attempt at a time.

A pending delivery is taken over only when its claim is ours or ran out, it is kept
(renewed) only while pending, its outcome is written once, and claiming one delivery
never takes another's (nx-27017's findAndModify ignores ``_id`` next to
``$or``; the lease goes through ``siar.runtime.leases``, which guards against it).
"""

from __future__ import annotations

import time

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.runtime.leases import LeaseLost
from siar.runtime.mongo import Document
from siar_publisher.domain import Delivery, DeliveryStatus, delivery_id
from siar_publisher.errors import DeliveryBusy
from siar_publisher.store import PublisherStore

WS = "ws_claims"


def delivery(post_id: str) -> Delivery:
    now = utcnow()
    return Delivery(
        id=delivery_id(post_id, "acc_1", "0"),
        workspace_id=WS,
        post_id=post_id,
        account_id="acc_1",
        occurrence="0",
        network="sandbox",
        created_at=now,
        updated_at=now,
    )


async def test_a_held_delivery_is_busy_and_another_deliverys_lapsed_claim_is_left_alone(
    db: AsyncDatabase[Document],
) -> None:
    store = PublisherStore(db)
    held, lapsed = delivery("pst_held"), delivery("pst_lapsed")
    assert (await store.claim(lapsed, owner="dead", lease_s=60))[1] is False
    await db["deliveries"].update_one({"_id": lapsed.id}, {"$set": {"lease_until": 1.0}})
    taken, seen = await store.claim(held, owner="first", lease_s=60)
    assert (taken.id, taken.owner, seen) == (held.id, "first", False)

    # Another publisher: the held one is busy, and the lapsed one is not taken instead.
    with pytest.raises(DeliveryBusy):
        await store.claim(held, owner="second", lease_s=60)
    after = await store.get(WS, lapsed.id)
    assert after is not None
    assert (after.owner, after.lease_until) == ("dead", 1.0)

    # The lapsed one is taken over by whoever asks for it, and comes back as taken.
    over, seen = await store.claim(lapsed, owner="second", lease_s=60)
    assert (over.id, over.owner, seen) == (lapsed.id, "second", True)
    assert over.lease_until > time.time() + 50


async def test_a_claim_is_kept_by_its_owner_only_while_pending_and_recorded_once(
    db: AsyncDatabase[Document],
) -> None:
    store = PublisherStore(db)
    mine = delivery("pst_renew")
    taken, _ = await store.claim(mine, owner="me", lease_s=1)
    async with store.keeping(taken, owner="other", lease_s=600) as kept:
        with pytest.raises(LeaseLost):
            await kept.confirm()
    assert (await store.get(WS, mine.id) or taken).lease_until < time.time() + 5
    async with store.keeping(taken, owner="me", lease_s=600) as kept:
        await kept.confirm()
    renewed = await store.get(WS, mine.id)
    assert renewed is not None
    assert renewed.lease_until > time.time() + 500
    assert renewed.owner == "me"

    # Taken over by another, who let it lapse (and may have called the network):
    # not ours to keep any more, though a fresh claim could take it.
    await db["deliveries"].update_one(
        {"_id": mine.id}, {"$set": {"owner": "other", "lease_until": 1.0}}
    )
    async with store.keeping(taken, owner="me", lease_s=600) as kept:
        with pytest.raises(LeaseLost):
            await kept.confirm()
    await db["deliveries"].update_one({"_id": mine.id}, {"$set": {"owner": "me"}})

    # A failure is recorded by the claim's holder only; a live post by whoever is first.
    failed = renewed.model_copy(update={"status": DeliveryStatus.FAILED})
    assert await store.record(failed, owner="other") is False
    published = {"status": DeliveryStatus.PUBLISHED, "network_post_id": "first"}
    assert await store.record(
        renewed.model_copy(update={**published, "owner": "other"}), owner=None
    )
    second = renewed.model_copy(update={**published, "network_post_id": "second"})
    assert await store.record(second, owner=None) is False
    assert await store.record(failed, owner="me") is False
    async with store.keeping(renewed, owner="other", lease_s=600) as kept:
        with pytest.raises(LeaseLost):  # recorded: nobody keeps a claim on it any more
            await kept.confirm()
    again, seen = await store.claim(mine, owner="third", lease_s=60)
    assert (again.status, again.owner, again.network_post_id, seen) == (
        DeliveryStatus.PUBLISHED,
        "other",
        "first",
        True,
    )
