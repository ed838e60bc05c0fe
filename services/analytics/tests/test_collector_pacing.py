"""Collection pacing: the usual interval, stretched to stay within a share of the limit."""

from __future__ import annotations

import pytest

from siar.connectors import RateLimit
from siar.connectors.instagram import InstagramConnector
from siar.connectors.sandbox import SandboxConnector
from siar_analytics.collector_schedule import Pacing
from siar_analytics.collectors import offers


def test_a_small_round_keeps_the_usual_interval() -> None:
    pacing = Pacing(interval_s=3600, budget_share=0.2)
    assert pacing.next_due(1000.0, 5, RateLimit(calls=600, per_seconds=60)) == 4600.0


def test_a_big_round_waits_until_its_calls_fit_the_budget_share() -> None:
    pacing = Pacing(interval_s=3600, budget_share=0.2)
    # Instagram: 200 calls an hour, a fifth of it for analytics = 40/h; 106 calls ≈ 2.65 h.
    calls = InstagramConnector.account_metrics_calls + 100
    assert pacing.next_due(0.0, calls, InstagramConnector.rate_limit) == pytest.approx(9540.0)


def test_optional_connector_methods_are_recognised() -> None:
    assert offers(SandboxConnector.__new__(SandboxConnector), "account_history")
    assert not offers(InstagramConnector.__new__(InstagramConnector), "account_history")
