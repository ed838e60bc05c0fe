"""Starting and stopping polling from account events on a real MongoDB.

``account.connected`` and ``account.disconnected`` travel on two topics, so the inbox
may read them out of order; the newest event decides. A reconnect also frees a poll
lease resting after a refused token, so the fresh token is read at once.
"""

from __future__ import annotations

import time

from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document
from siar_inbox.store import POLL_LEASES, InboxStore

from .conftest import unique

START = {"network": "mastodon", "handle": "kopi", "active": True}
STOP = {"active": False}


async def active(store: InboxStore, ws: str, account_id: str) -> bool:
    doc = await store.pollers.find_one(ws, {"_id": account_id})
    return bool(doc and doc["active"])


async def test_the_newest_account_event_decides_whatever_the_order_read(
    db: AsyncDatabase[Document],
) -> None:
    store, ws = InboxStore(db), unique("ws")
    assert await store.switch_poller(ws, "acc_1", START, 10.0)
    # The disconnect that the reconnect followed, read late: ignored.
    assert not await store.switch_poller(ws, "acc_1", STOP, 5.0)
    assert await active(store, ws, "acc_1")
    assert await store.switch_poller(ws, "acc_1", STOP, 20.0)
    assert not await active(store, ws, "acc_1")
    assert not await store.switch_poller(ws, "acc_1", START, 15.0)
    assert not await active(store, ws, "acc_1")
    # A row from before events carried their time is switched by any event.
    await store.pollers.insert(ws, {"_id": "acc_old", **START})
    assert await store.switch_poller(ws, "acc_old", STOP, 1.0)
    assert not await active(store, ws, "acc_old")


async def test_a_reconnect_frees_a_resting_poll_lease_but_not_a_held_one(
    db: AsyncDatabase[Document],
) -> None:
    store, ws = InboxStore(db), unique("ws")
    leases = db[POLL_LEASES]
    later = time.time() + 60
    await leases.insert_many(
        [
            {"_id": "acc_resting", "holder": None, "lease_until": later},
            {"_id": "acc_held", "holder": "replica-2", "lease_until": later},
        ]
    )
    for account_id in ("acc_resting", "acc_held"):
        await store.switch_poller(ws, account_id, STOP, 1.0)
        await store.switch_poller(ws, account_id, START, 2.0)
    resting = await leases.find_one({"_id": "acc_resting"}) or {}
    held = await leases.find_one({"_id": "acc_held"}) or {}
    assert resting["lease_until"] == 0.0
    assert held["lease_until"] == later
