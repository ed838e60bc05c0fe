"""Inbox rules: safe regexes, keyword matching, merged actions, office hours."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import regex
from pydantic import ValidationError

from siar_inbox.rules import (
    MAX_SCANNED,
    CompiledRule,
    InboxSettings,
    RuleActions,
    RuleSpec,
    UnsafePattern,
    compile_safe,
    evaluate,
    search_bounded,
)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+$",
        r"(a*)*b",
        r"(\w+\s?)*x",
        r"((ab)+c?)+",
        r"(x+x+)+y",
        r"(a|b)\1",
        "a" * 201,
        r"(unclosed",
    ],
)
def test_unsafe_or_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(UnsafePattern):
        compile_safe(pattern)


@pytest.mark.parametrize(
    "pattern", [r"cheap\s+followers", r"(?:buy|jual)\s+\w+", r"\d{3,}-\d+", r"(ab){2}c+"]
)
def test_ordinary_patterns_compile(pattern: str) -> None:
    assert compile_safe(pattern).pattern == pattern


def test_unsafe_regex_is_a_validation_error_naming_it() -> None:
    with pytest.raises(ValidationError, match="nested quantifiers"):
        RuleSpec(name="bad", regex=r"(a+)+", actions=RuleActions(hide=True))


def test_a_hiding_rule_must_name_what_it_hides() -> None:
    with pytest.raises(ValidationError, match="needs keywords or a regex"):
        RuleSpec(name="hide all", actions=RuleActions(hide=True))


def rule(rule_id: str, **spec: object) -> CompiledRule:
    return CompiledRule.of(rule_id, RuleSpec.model_validate({"name": rule_id, **spec}))


def test_keywords_are_whole_words_in_any_case_and_script() -> None:
    refund = rule("r1", keywords=["refund", "uang kembali"], actions={"tags": ["Billing"]})
    assert refund.matches("I want a REFUND!", "comment")
    assert refund.matches("minta uang kembali dong 🙏", "dm")
    assert not refund.matches("refunded already", "comment")  # a different word
    assert not refund.matches("nothing here", "comment")


def test_actions_merge_across_rules() -> None:
    rules = [
        rule("r1", keywords=["refund"], actions={"tags": ["billing"], "assign": "u1"}),
        rule("r2", regex=r"now\b", actions={"tags": ["angry"], "assign": "u2", "priority": "high"}),
        rule("r3", keywords=["refund"], kinds=["dm"], actions={"hide": True}),
        rule("r4", actions={"auto_reply": "Thanks, we will be back at 9"}),
        rule("r5", enabled=False, actions={"priority": "urgent"}),
    ]
    outcome = evaluate(rules, "Refund now", "comment")
    assert outcome.rule_ids == ["r1", "r2", "r4"]
    assert (outcome.tags, outcome.assign, outcome.priority, outcome.hide) == (
        {"billing", "angry"},
        "u1",
        "high",
        False,
    )
    assert (outcome.auto_reply_rule, outcome.auto_reply) == ("r4", "Thanks, we will be back at 9")


def test_a_runaway_search_is_stopped_by_the_timeout() -> None:
    # The static check refuses this pattern; the timeout is the second line for any
    # pattern that slips past it. Unbounded, this search backtracks for minutes.
    runaway = regex.compile(r"(.+?,){40}z")
    started = time.monotonic()
    assert not search_bounded(runaway, "," * 200)
    assert time.monotonic() - started < 30
    assert search_bounded(regex.compile(r"(a|aa)*b"), "aaab")


def test_only_the_first_characters_are_scanned() -> None:
    late = rule("r1", keywords=["refund"], actions={"tags": ["x"]})
    assert not late.matches("a" * MAX_SCANNED + " refund", "comment")


JAKARTA_WEEK = {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_office_hours_in_the_workspace_zone() -> None:
    hours = InboxSettings(timezone="Asia/Jakarta", office_hours=JAKARTA_WEEK)
    # Monday 2026-01-05 10:00 WIB = 03:00 UTC: open.
    assert hours.closed_since(datetime(2026, 1, 5, 3, 0, tzinfo=UTC)) is None
    # Monday 20:00 WIB: closed since Monday 17:00 WIB (10:00 UTC).
    evening = hours.closed_since(datetime(2026, 1, 5, 13, 0, tzinfo=UTC))
    assert evening == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    # Tuesday 07:00 WIB: still the same period, so still one auto-reply per thread.
    assert hours.closed_since(datetime(2026, 1, 6, 0, 0, tzinfo=UTC)) == evening
    # Sunday: closed since Friday 17:00 WIB.
    assert hours.closed_since(datetime(2026, 1, 11, 5, 0, tzinfo=UTC)) == datetime(
        2026, 1, 9, 10, 0, tzinfo=UTC
    )


def test_no_office_hours_means_always_open() -> None:
    assert InboxSettings().closed_since(datetime(2026, 1, 11, 5, 0, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "settings",
    [
        {"timezone": "Mars/Olympus"},
        {"office_hours": {"monday": ["09:00", "17:00"]}},
        {"office_hours": {"mon": ["17:00", "09:00"]}},
        {"office_hours": {"mon": ["9am", "5pm"]}},
        {"influencer_followers": 0},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        InboxSettings.model_validate(settings)
