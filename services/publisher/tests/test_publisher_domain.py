"""Publisher domain: deterministic delivery ids and the retry backoff policy."""

from __future__ import annotations

import itertools
import re

import pytest

from siar_publisher.domain import backoff_s, delivery_id

OCCURRENCE = "2026-05-01T02:00:00+00:00"


def test_delivery_id_is_deterministic() -> None:
    first = delivery_id("pst_1", "acc_1", OCCURRENCE)
    assert first == delivery_id("pst_1", "acc_1", OCCURRENCE)
    assert re.fullmatch(r"dlv_[0-9a-f]{24}", first)


def test_delivery_id_is_distinct_per_post_account_and_occurrence() -> None:
    posts = ["pst_1", "pst_2", "pst_10"]
    accounts = ["acc_1", "acc_2", "acc_12"]
    occurrences = [OCCURRENCE, "2026-05-02T02:00:00+00:00", "2026-05-01T02:00:00.001000+00:00"]
    ids = {delivery_id(*combo) for combo in itertools.product(posts, accounts, occurrences)}
    assert len(ids) == len(posts) * len(accounts) * len(occurrences)


def test_delivery_id_does_not_depend_on_field_order() -> None:
    """Swapping post and account must not collide (the fields are not a bag)."""
    assert delivery_id("x_1", "x_2", OCCURRENCE) != delivery_id("x_2", "x_1", OCCURRENCE)


def test_delivery_id_known_value() -> None:
    """Pinned: changing the derivation would re-deliver every in-flight post."""
    assert delivery_id("pst_1", "acc_1", OCCURRENCE) == "dlv_690a63fe89d0e85032769e20"


BASES = [0.0, 0.1, 1.0, 5.0]
CAPS = [0.5, 30.0, 300.0]
RETRY_AFTERS = [None, 0.0, 0.2, 10.0, 600.0]


@pytest.mark.parametrize("retry_after", RETRY_AFTERS)
@pytest.mark.parametrize("cap", CAPS)
@pytest.mark.parametrize("base", BASES)
def test_backoff_bounds(base: float, cap: float, retry_after: float | None) -> None:
    floor = retry_after or 0.0
    ceiling = max(cap, floor)
    for attempt in range(1, 41):
        for _ in range(20):
            delay = backoff_s(attempt, base=base, cap=cap, retry_after=retry_after)
            assert floor <= delay <= ceiling


def test_backoff_grows_with_attempts_up_to_the_cap() -> None:
    """Full jitter: attempt n waits at most base * 2**(n-1), and never more than cap."""
    for attempt, limit in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 60.0)]:
        samples = [backoff_s(attempt, base=1.0, cap=60.0, retry_after=None) for _ in range(500)]
        assert max(samples) <= limit
        assert min(samples) >= 0.0
        # Jitter spreads the retries: not all clients wait the same time.
        assert len(set(samples)) > 100
        assert max(samples) > limit / 2


def test_backoff_honours_retry_after_above_the_cap() -> None:
    for attempt in (1, 5, 10):
        assert backoff_s(attempt, base=1.0, cap=30.0, retry_after=120.0) == 120.0
