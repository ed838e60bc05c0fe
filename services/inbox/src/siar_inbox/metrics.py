"""The inbox's operational metrics: the open backlog and how fast the team first answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import get_args

from prometheus_client import Gauge, Histogram
from pymongo.asynchronous.collection import AsyncCollection

from siar.contracts.engagement import MessageKind
from siar.runtime.mongo import Document

log = logging.getLogger(__name__)

OPEN_CONVERSATIONS = Gauge(
    "siar_inbox_open_conversations",
    "Conversations waiting in the inbox (status open), per network, across workspaces.",
    ["network"],
)
FIRST_RESPONSE = Histogram(
    "siar_inbox_first_response_seconds",
    "From a conversation's first message to the team's first answer, per network.",
    ["network"],
    buckets=(60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600),
)


def start_at_zero(networks: Iterable[str]) -> None:
    """Create every network's series now, so dashboards see zeros before any message."""
    # Imported here: the service module imports this one (through actions).
    from siar_inbox.service import MESSAGES_DUPLICATE, MESSAGES_INGESTED

    for network in networks:
        OPEN_CONVERSATIONS.labels(network).set(0)
        FIRST_RESPONSE.labels(network)
        MESSAGES_DUPLICATE.labels(network)
        for kind in get_args(MessageKind):
            MESSAGES_INGESTED.labels(network, kind)


class BacklogSampler:
    """Counts open conversations per network every ``every_s`` seconds (one aggregation)."""

    def __init__(
        self,
        conversations: AsyncCollection[Document],
        networks: Iterable[str] = (),
        every_s: float = 15.0,
    ) -> None:
        # Unscoped on purpose: the backlog is a platform-wide figure, not a tenant's data.
        self.conversations = conversations
        self.every_s = every_s
        self._stopping = asyncio.Event()
        self._reported: set[str] = set(networks)

    async def sample_once(self) -> dict[str, int]:
        """Refresh the gauge; returns the counts per network."""
        counts = {
            str(row["_id"]): int(row["n"])
            async for row in await self.conversations.aggregate(
                [
                    {"$match": {"status": "open"}},
                    {"$group": {"_id": "$network", "n": {"$sum": 1}}},
                ]
            )
        }
        # A network whose last open conversation closed goes back to 0, not stale.
        self._reported |= set(counts)
        for network in self._reported:
            OPEN_CONVERSATIONS.labels(network).set(counts.get(network, 0))
        return counts

    async def run(self) -> None:
        """Sample until stopped; a failed round keeps the last values."""
        while not self._stopping.is_set():
            try:
                await self.sample_once()
            except Exception as err:
                log.warning("inbox backlog not sampled: %s", err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)

    def stop(self) -> None:
        """Stop after the current round."""
        self._stopping.set()
