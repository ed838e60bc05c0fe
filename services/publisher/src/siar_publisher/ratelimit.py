"""Rate limits honoured before calling a network, shared by every publisher replica.

Fixed windows counted in MongoDB: one counter per (network, account) and per
(network, app) for the current window. A call that would exceed a limit waits for
the next window when that is soon, and otherwise fails as rate-limited (retryable),
so Siar is never the one that discovers a network's limit the hard way.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Counter
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import RateLimit, RateLimitedError
from siar.runtime.mongo import Document, IndexSpec

WINDOWS = "rate_windows"
INDEXES = (IndexSpec(WINDOWS, [("expires_ts", 1)], name="windows_by_expiry"),)

RATE_LIMIT_WAITS = Counter(
    "siar_publisher_rate_limit_waits",
    "Calls held back by our own rate-limit buckets, by network and scope.",
    ["network", "scope"],
)


class RateLimiter:
    """Takes one call from each bucket that applies, waiting up to ``max_wait_s``."""

    def __init__(self, db: AsyncDatabase[Document], *, max_wait_s: float = 30.0) -> None:
        self.windows = db[WINDOWS]
        self.max_wait_s = max_wait_s

    async def _take(self, key: str, limit: RateLimit) -> tuple[float, str]:
        """Count a call in ``key``'s window: (0, window) if allowed, else (seconds to wait, _)."""
        now = time.time()
        window = int(now // limit.per_seconds)
        doc = await self.windows.find_one_and_update(
            {"_id": f"{key}:{window}"},
            {
                "$inc": {"calls": 1},
                "$setOnInsert": {"expires_ts": (window + 2) * limit.per_seconds},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        window_id = f"{key}:{window}"
        if doc is None or int(doc["calls"]) <= limit.calls:
            return 0.0, window_id
        await self.windows.update_one({"_id": window_id}, {"$inc": {"calls": -1}})
        return (window + 1) * limit.per_seconds - now, window_id

    async def acquire(
        self, network: str, account_id: str, per_account: RateLimit, per_app: RateLimit | None
    ) -> None:
        """Hold until both buckets allow a call, or raise :class:`RateLimitedError`."""
        buckets = [(f"{network}:account:{account_id}", per_account, "account")]
        if per_app is not None:
            buckets.append((f"{network}:app", per_app, "app"))
        taken: list[str] = []
        try:
            for key, limit, scope in buckets:
                waited = 0.0
                while True:
                    wait, window_id = await self._take(key, limit)
                    if wait <= 0:
                        break
                    RATE_LIMIT_WAITS.labels(network, scope).inc()
                    if waited + wait > self.max_wait_s:
                        raise RateLimitedError(
                            f"Siar's {scope} rate limit for {network} is used up "
                            f"({limit.calls} calls per {limit.per_seconds:g} s)",
                            retry_after_s=wait,
                        )
                    await asyncio.sleep(wait)
                    waited += wait
                taken.append(window_id)
        except RateLimitedError:
            # The call will not happen: give back what the earlier buckets counted.
            for window_id in taken:
                await self.windows.update_one({"_id": window_id}, {"$inc": {"calls": -1}})
            raise
