"""Analytics storage: daily counters per workspace, updated incrementally."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.domain import COUNTERS

INDEXES = (
    IndexSpec("daily_activity", [("workspace_id", ASCENDING), ("day", ASCENDING)], unique=True),
)


class AnalyticsStore:
    """Daily activity roll-ups."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.daily = TenantCollection(db["daily_activity"])

    async def increment(
        self, workspace_id: str, day: str, counter: str, session: AsyncClientSession
    ) -> None:
        """Add one to a day's counter."""
        await self.daily.update_one(
            workspace_id, {"day": day}, {"$inc": {counter: 1}}, upsert=True, session=session
        )

    async def totals(self, workspace_id: str, start: str, end: str) -> dict[str, int]:
        """Sum of every counter over days in [start, end]."""
        docs = await self.daily.find(workspace_id, {"day": {"$gte": start, "$lte": end}})
        return {c: sum(int(d.get(c, 0)) for d in docs) for c in COUNTERS}
