"""Roll-up merging: newest value per metric wins whatever the arrival order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siar_analytics.rollups import (
    Reading,
    Slot,
    bucket_of,
    merge,
    periods_between,
    series_key,
    slot_start,
)


def fold(readings: list[Reading]) -> Slot | None:
    slot: Slot | None = None
    for reading in readings:
        slot = merge(slot, reading) or slot
    return slot


readings = st.lists(
    st.builds(
        Reading,
        ts=st.integers(min_value=0, max_value=50).map(float),
        metrics=st.dictionaries(
            st.sampled_from(["followers", "reach", "likes"]),
            st.floats(min_value=0, max_value=1e6),
            max_size=3,
        ),
        partial=st.booleans(),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda r: r.ts,
)


@given(readings, st.randoms())
def test_any_arrival_order_and_duplicates_give_the_same_slot(
    given_readings: list[Reading], rnd: object
) -> None:
    shuffled = list(given_readings) * 2  # every snapshot delivered twice
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert fold(shuffled) == fold(sorted(given_readings, key=lambda r: r.ts))


def test_an_older_snapshot_only_fills_what_the_newer_one_lacked() -> None:
    newer = Reading(ts=20.0, metrics={"followers": 110.0}, partial=True)
    older = Reading(ts=10.0, metrics={"followers": 100.0, "reach": 40.0})
    slot = fold([newer, older])
    assert slot is not None
    assert slot["m"] == {"followers": 110.0, "reach": 40.0}
    assert slot["partial"] is True  # the newest snapshot in the bucket was partial
    assert merge(slot, older) is None  # a redelivery changes nothing


def test_a_partial_snapshot_leaves_missing_metrics_absent_not_zero() -> None:
    slot = merge(None, Reading(ts=1.0, metrics={"likes": 3.0}, partial=True))
    assert slot is not None
    assert "reach" not in slot["m"]


def test_dimensions_follow_the_newest_snapshot_that_had_them() -> None:
    a = Reading(ts=1.0, metrics={}, dimensions={"age": {"18-24": 0.5}})
    b = Reading(ts=2.0, metrics={"followers": 1.0})
    slot = fold([a, b])
    assert slot is not None
    assert slot["d"] == {"age": {"18-24": 0.5}}


def test_buckets_and_periods() -> None:
    at = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert bucket_of("hour", at) == ("2026-02-28", "23")
    assert bucket_of("day", at) == ("2026-02", "28")
    assert slot_start("day", "2026-02", "28") == datetime(2026, 2, 28, tzinfo=UTC)
    assert slot_start("hour", "2026-02-28", "23") == datetime(2026, 2, 28, 23, tzinfo=UTC)
    start = datetime(2025, 11, 30, tzinfo=UTC)
    assert periods_between("day", start, at) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert periods_between("hour", at, at) == ["2026-02-28"]


def test_series_keys() -> None:
    assert series_key("acc_1", "account", None) == "acc_1/account"
    assert series_key("acc_1", "post", "p9") == "acc_1/post/p9"
    with pytest.raises(ValueError, match="network_post_id"):
        series_key("acc_1", "post", None)
