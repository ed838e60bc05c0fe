"""Snoozed conversations wake up by themselves when their time comes.

Every replica runs the loop; a wake is a conditional write (still snoozed, same time)
in one unit of work with its ``conversation.updated`` event, so two replicas waking
the same conversation announce it once. A new message wakes a conversation too
(the store opens a thread on every new message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import utcnow
from siar.runtime.mongo import IndexSpec
from siar_inbox.changes import wake
from siar_inbox.response_metrics import conversation_event
from siar_inbox.service import InboxService

log = logging.getLogger(__name__)

INDEXES = (
    # Epoch seconds, not a datetime: compared in queries (see docs/embedded-stack.md).
    IndexSpec("conversations", [("status", ASCENDING), ("snoozed_until_ts", ASCENDING)]),
)
BATCH = 200


class Snoozer:
    """The loop that reopens snoozed conversations whose time has come."""

    def __init__(self, service: InboxService, *, interval_s: float) -> None:
        self.service = service
        self.interval_s = interval_s
        self._stop = asyncio.Event()

    async def wake_due(self) -> int:
        """Reopen every conversation due now (across workspaces: a system task)."""
        raw = self.service.store.conversations.raw
        now = utcnow()
        due = await raw.find(
            {"status": "snoozed", "snoozed_until_ts": {"$lte": now.timestamp()}},
            limit=BATCH,
        ).to_list()
        if not due:
            return 0

        async def work(session: AsyncClientSession) -> int:
            woken = 0
            for doc in due:
                guard = {"status": "snoozed", "snoozed_until_ts": doc["snoozed_until_ts"]}
                events = wake(doc)
                matched = await self.service.store.conversations.replace_one(
                    doc["workspace_id"], {"_id": doc["_id"], **guard}, doc, session=session
                )
                if not matched:
                    continue  # another replica, a new message or a person got there first
                woken += 1
                for name in events:
                    await self.service.uow.outbox.add(
                        conversation_event(doc, name, None), session=session
                    )
            return woken

        return await self.service.uow.run(work)

    async def run(self) -> None:
        """Wake due conversations every ``interval_s`` until stopped."""
        while not self._stop.is_set():
            try:
                woken = await self.wake_due()
                if woken:
                    log.info("woke %d snoozed conversations", woken)
            except Exception:
                log.exception("waking snoozed conversations failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)

    def stop(self) -> None:
        """Ask the loop to stop."""
        self._stop.set()
