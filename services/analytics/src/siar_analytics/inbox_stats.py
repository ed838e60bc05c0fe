"""Inbox roll-ups: daily volume, sentiment and response times per account, from inbox events.

One document per (workspace, account, UTC day) is updated with ``$inc`` as events
arrive, so a report reads at most one document per account and day. Response and
resolution times are kept as sums and histogram buckets (:data:`TIME_BUCKETS`), enough
for the mean and a median estimate without storing every conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import get_args

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import ConversationUpdated, MessageKind, MessageReceived
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.domain import day_of
from siar_analytics.inbox_report import SENTIMENTS, TIME_BUCKETS, time_bucket

INBOX_INDEXES = (
    IndexSpec(
        "inbox_daily",
        [("workspace_id", ASCENDING), ("day", ASCENDING), ("account_id", ASCENDING)],
        unique=True,
    ),
    IndexSpec(
        "inbox_answered",
        [("workspace_id", ASCENDING), ("conversation_id", ASCENDING)],
        unique=True,
    ),
)

MAPS = ("kinds", "sentiment", "response_h", "resolution_h")
SUMMED = (
    "received",
    "influencer",
    "responded",
    "response_s",
    "resolved",
    "resolution_s",
    "reopened",
    *(f"kinds.{k}" for k in get_args(MessageKind)),
    *(f"sentiment.{s}" for s in SENTIMENTS),
    *(f"response_h.{b}" for b, _ in TIME_BUCKETS),
    *(f"resolution_h.{b}" for b, _ in TIME_BUCKETS),
)
"""Every counter of a daily roll-up, as field paths."""


class InboxStats:
    """Daily inbox roll-ups and the set of conversations whose first answer was counted."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.daily = TenantCollection(db["inbox_daily"])
        self.answered = TenantCollection(db["inbox_answered"])

    async def _bump(
        self, event: MessageReceived | ConversationUpdated, day: str, inc: Document, s: Session
    ) -> None:
        key = {"account_id": event.account_id, "day": day}
        # Two steps: nx-27017 stores a dotted ``$inc`` of an upsert's insert as a literal
        # "kinds.comment" field; creating the maps first keeps the counters nested.
        await self.daily.update_one(
            event.workspace_id,
            key,
            {"$setOnInsert": {m: {} for m in MAPS}, "$set": {"network": event.network}},
            upsert=True,
            session=s,
        )
        await self.daily.update_one(event.workspace_id, key, {"$inc": inc}, session=s)

    async def record_message(self, event: MessageReceived, session: Session) -> None:
        """Count a received message by kind, sentiment and influencer, on the day it was sent."""
        inc: Document = {
            "received": 1,
            f"kinds.{event.kind}": 1,
            f"sentiment.{event.sentiment or 'unscored'}": 1,
        }
        if event.influencer:
            inc["influencer"] = 1
        await self._bump(event, day_of(event.sent_at), inc, session)

    async def record_update(self, event: ConversationUpdated, session: Session) -> None:
        """Count first answers (once per conversation), closings with their times, reopenings.

        Each counts on the day it happened (first message + the time it took), not
        the day the event was consumed.
        """
        if event.change == "responded" and event.first_response_s is not None:
            key = {"conversation_id": event.conversation_id}
            if await self.answered.find_one(event.workspace_id, key, session=session):
                return
            await self.answered.insert(event.workspace_id, key, session=session)
            seconds = max(0.0, event.first_response_s)
            day = _day_after(event, seconds)
            inc = {"responded": 1, "response_s": seconds, f"response_h.{time_bucket(seconds)}": 1}
            await self._bump(event, day, inc, session)
        elif event.change == "closed" and event.resolution_s is not None:
            seconds = max(0.0, event.resolution_s)
            day = _day_after(event, seconds)
            bucket = f"resolution_h.{time_bucket(seconds)}"
            inc = {"resolved": 1, "resolution_s": seconds, bucket: 1}
            await self._bump(event, day, inc, session)
        elif event.change == "reopened":
            # A closed thread came back: its closing still counts; the reopening is shown.
            await self._bump(event, day_of(event.occurred_at), {"reopened": 1}, session)

    async def days(
        self, workspace_id: str, start: str, end: str, account_ids: Sequence[str] | None = None
    ) -> list[Document]:
        """Per day of [start, end], the roll-ups summed over accounts (optionally some only),
        in the roll-up's own shape. MongoDB sums them: a year of 100 accounts is 36,500
        documents, which would take longer to ship than to add up."""
        match: Document = {"day": {"$gte": start, "$lte": end}}
        if account_ids is not None:
            match["account_id"] = {"$in": list(account_ids)}
        sums = {f.replace(".", "__"): {"$sum": f"${f}"} for f in SUMMED}
        rows = await self.daily.aggregate(
            workspace_id, [{"$match": match}, {"$group": {"_id": "$day", **sums}}]
        )
        days = []
        for row in sorted(rows, key=lambda r: str(r["_id"])):
            doc: Document = {"day": row["_id"]}
            for field in SUMMED:
                group, _, key = field.partition(".")
                value = row.get(field.replace(".", "__")) or 0
                if key:
                    doc.setdefault(group, {})[key] = value
                else:
                    doc[group] = value
            days.append(doc)
        return days


Session = AsyncClientSession


def _day_after(event: ConversationUpdated, seconds: float) -> str:
    return day_of(event.first_message_at + timedelta(seconds=seconds))
