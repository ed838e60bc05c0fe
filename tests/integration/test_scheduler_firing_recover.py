"""A crash between the gate and the outbox: the next read-ahead records the same events."""

from __future__ import annotations

from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.runtime.mongo import Document
from siar.runtime.outbox import Outbox
from siar_scheduler.firing import RECOVER_AFTER_S, Firing, event_id_for, fired
from tests.integration.scheduler_replicas import new_post, seed


async def test_stranded_posts_get_their_events_once_and_young_ones_are_left_alone(
    db: AsyncDatabase[Document],
) -> None:
    now = utcnow().replace(microsecond=0)
    old = now - timedelta(seconds=RECOVER_AFTER_S + 60)
    # Fired (gate written) but the process died before recording the events.
    stranded = fired(new_post("ws_r", old, ["acc_a", "acc_b"]), now=old, token="dead")
    young = fired(new_post("ws_r", now, ["acc_a"]), now=now, token="busy")
    await seed(db, [stranded, young])
    firing = Firing(db["posts"], Outbox(db))

    assert await firing.recover() == 2
    assert await firing.recover() == 0  # nothing twice, even if run again
    outbox = await db["outbox"].find({}, projection={"_id": 1}).to_list()
    occurrence = stranded.dispatches[-1].occurrence
    assert {d["_id"] for d in outbox} == {
        str(event_id_for(stranded.id, account, occurrence)) for account in ("acc_a", "acc_b")
    }
    flags = {d["_id"]: d["emit_pending"] for d in await db["posts"].find({}).to_list()}
    assert flags == {stranded.id: False, young.id: True}
