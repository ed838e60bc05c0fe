"""The sandbox's metric series: deterministic, trending, weekly, partial now and then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siar.connectors import sandbox_metrics as sm

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_the_same_account_and_time_give_the_same_figures() -> None:
    assert sm.account_snapshot("brand", NOW) == sm.account_snapshot("brand", NOW)
    assert sm.account_snapshot("brand", NOW) != sm.account_snapshot("other", NOW)


def test_followers_trend_upwards_over_months() -> None:
    half_year_ago = NOW - timedelta(days=180)
    assert sm.followers("brand", NOW) > sm.followers("brand", half_year_ago) * 1.1


def test_history_has_one_snapshot_per_past_day_with_a_weekly_rhythm() -> None:
    history = sm.account_history("brand", NOW, 182)
    assert len(history) == 182
    days = [s.collected_at.date() for s in history]
    assert days == sorted(days)
    assert days[-1] == NOW.date() - timedelta(days=1)
    weekday = [
        s.metrics["reach"] for s in history if "reach" in s.metrics and s.collected_at.weekday() < 5
    ]
    weekend = [
        s.metrics["reach"]
        for s in history
        if "reach" in s.metrics and s.collected_at.weekday() >= 5
    ]
    assert sum(weekday) / len(weekday) > sum(weekend) / len(weekend)
    assert all(s.dimensions and abs(sum(s.dimensions["age"].values()) - 1) < 0.01 for s in history)


def test_some_hours_come_back_partial_without_the_insights() -> None:
    hours = [sm.account_snapshot("brand", NOW + timedelta(hours=h)) for h in range(24 * 30)]
    partial = [s for s in hours if s.partial]
    assert 0 < len(partial) < len(hours) / 5
    assert all("reach" not in s.metrics and "followers" in s.metrics for s in partial)


def test_posts_rise_towards_a_ceiling_and_good_hours_do_better() -> None:
    published = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)  # a Tuesday morning
    early = sm.post_snapshot("brand", "p1", published, published + timedelta(hours=1))
    late = sm.post_snapshot("brand", "p1", published, published + timedelta(days=3))
    assert 0 < early.metrics["likes"] < late.metrics["likes"]
    assert {"likes", "comments", "shares", "saves", "impressions", "reach"} <= set(late.metrics)
    assert "video_views" not in late.metrics
    night = published.replace(hour=3)
    assert sm.hour_of_week_factor(published) > sm.hour_of_week_factor(night)
    video = sm.post_snapshot("brand", "p2", published, NOW, has_video=True, has_link=True)
    assert {"video_views", "clicks"} <= set(video.metrics)
