"""The publisher's own rate-limit buckets, counted in a real MongoDB."""

from __future__ import annotations

import asyncio
import time

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import RateLimit, RateLimitedError
from siar.runtime.mongo import Document, ensure_indexes
from siar_publisher.ratelimit import INDEXES, RateLimiter


async def _limiter(db: AsyncDatabase[Document], max_wait_s: float) -> RateLimiter:
    await ensure_indexes(db, INDEXES)
    return RateLimiter(db, max_wait_s=max_wait_s)


async def _align_to_window_start(per_seconds: float) -> None:
    # Start right after a window opens, so the calls below share one window.
    await asyncio.sleep(per_seconds - time.time() % per_seconds + 0.02)


async def test_calls_within_the_limit_pass_and_the_next_waits_for_the_window(
    db: AsyncDatabase[Document],
) -> None:
    limiter = await _limiter(db, max_wait_s=5)
    limit = RateLimit(calls=3, per_seconds=1.0)
    await _align_to_window_start(1.0)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("net", "acc", limit, None)
    assert time.monotonic() - started < 0.9
    await limiter.acquire("net", "acc", limit, None)
    # The fourth call was held until the next one-second window opened.
    assert time.time() % 1.0 < 0.5
    assert time.monotonic() - started >= 0.5


async def test_a_long_wait_fails_as_rate_limited_and_does_not_use_up_the_bucket(
    db: AsyncDatabase[Document],
) -> None:
    limiter = await _limiter(db, max_wait_s=0)
    limit = RateLimit(calls=1, per_seconds=10.0)
    await limiter.acquire("net", "acc", limit, None)
    with pytest.raises(RateLimitedError) as caught:
        await limiter.acquire("net", "acc", limit, None)
    assert caught.value.retry_after_s is not None
    assert 0 < caught.value.retry_after_s <= 10
    windows = await db["rate_windows"].find().to_list()
    assert [w["calls"] for w in windows] == [1]


async def test_accounts_have_their_own_buckets_but_share_the_app_bucket(
    db: AsyncDatabase[Document],
) -> None:
    limiter = await _limiter(db, max_wait_s=0)
    per_account = RateLimit(calls=1, per_seconds=10.0)
    per_app = RateLimit(calls=2, per_seconds=10.0, per_app=True)
    await limiter.acquire("net", "a", per_account, per_app)
    await limiter.acquire("net", "b", per_account, per_app)
    with pytest.raises(RateLimitedError, match="app rate limit"):
        await limiter.acquire("net", "c", per_account, per_app)
    with pytest.raises(RateLimitedError, match="account rate limit"):
        await limiter.acquire("net", "a", per_account, per_app)
    # "c" was refused by the app bucket, so its own bucket was given back.
    counts = {w["_id"].split(":")[2]: w["calls"] for w in await db["rate_windows"].find().to_list()}
    assert counts["c"] == 0
