"""Analytics ranges and day buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from siar_analytics.domain import check_range, day_of, previous_period
from siar_analytics.errors import InvalidRange


def test_backwards_range_is_refused() -> None:
    with pytest.raises(InvalidRange, match="before"):
        check_range(date(2026, 5, 2), date(2026, 5, 1), max_days=400)


def test_too_long_range_is_refused() -> None:
    check_range(date(2026, 1, 1), date(2026, 1, 31), max_days=31)
    with pytest.raises(InvalidRange, match="31 days"):
        check_range(date(2026, 1, 1), date(2026, 2, 1), max_days=31)


def test_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    start, end = date(2026, 3, 10), date(2026, 3, 16)
    prev_start, prev_end = previous_period(start, end)
    assert prev_end == start - timedelta(days=1)
    assert (prev_end - prev_start) == (end - start)


def test_day_bucket_is_the_utc_day() -> None:
    jakarta = timezone(timedelta(hours=7))
    assert day_of(datetime(2026, 3, 10, 2, 0, tzinfo=jakarta)) == "2026-03-09"
    assert day_of(datetime(2026, 3, 10, 2, 0, tzinfo=jakarta).astimezone(UTC)) == "2026-03-09"
