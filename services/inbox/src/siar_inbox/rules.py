"""Workspace inbox rules and office hours (no I/O).

A rule matches a message by keywords (whole words, any case) and/or one regular
expression, and then tags, assigns, raises priority, hides (spam) or answers it. The
auto-reply only fires outside the workspace's office hours, once per conversation per
out-of-hours period.

Regexes are user input run on every message, so they are made safe twice. Up front: at
most ``MAX_PATTERN`` characters, compiled when saved, and refused if they could
backtrack catastrophically — nested unbounded quantifiers like ``(a+)+`` or
back-references. At run time the ``regex`` engine stops a search after
``MATCH_TIMEOUT_S`` (overlapping alternations such as ``(a|a)*`` pass the static check)
and the rule then counts as not matching. Only the first ``MAX_SCANNED`` characters of
a message are matched.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from siar_inbox.domain import Priority, higher_priority

# The stdlib's own regex parser (sre_parse, deprecated under that name since 3.11).
sre_parser: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")
MAX_PATTERN = 200
MAX_SCANNED = 2000
MATCH_TIMEOUT_S = 0.05
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)
]
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
_BACKREFS = {sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS}


class UnsafePattern(ValueError):
    """A regex that is too long, invalid or could backtrack catastrophically."""


def _repeats_inside(nodes: Any) -> bool:
    for op, arg in nodes:
        if op in _REPEATS and arg[1] > 1:
            return True
        if _children(op, arg) and any(_repeats_inside(child) for child in _children(op, arg)):
            return True
    return False


def _children(op: Any, arg: Any) -> list[Any]:
    if op in _REPEATS or op == _POSSESSIVE:
        return [arg[2]]
    if op == sre_constants.SUBPATTERN:
        return [arg[3]]
    if op == sre_constants.BRANCH:
        return list(arg[1])
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [arg[1]]
    return []


def _check(nodes: Any) -> None:
    for op, arg in nodes:
        if op in _BACKREFS:
            raise UnsafePattern("back-references are not allowed")
        if op in _REPEATS and arg[1] > 1 and _repeats_inside(arg[2]):
            raise UnsafePattern("nested quantifiers like (a+)+ can take forever; simplify it")
        for child in _children(op, arg):
            _check(child)


def compile_safe(pattern: str) -> regex.Pattern[str]:
    """Compile a rule's regex (case-insensitive), refusing unsafe ones."""
    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"a pattern may have at most {MAX_PATTERN} characters")
    try:
        _check(sre_parser.parse(pattern))
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except (re.error, regex.error) as err:
        raise UnsafePattern(f"not a valid regular expression: {err}") from err


def search_bounded(pattern: regex.Pattern[str], text: str) -> bool:
    """Whether ``pattern`` is found within the time budget (a timeout is no match)."""
    try:
        return pattern.search(text, timeout=MATCH_TIMEOUT_S) is not None
    except TimeoutError:
        return False


def keywords_pattern(keywords: list[str]) -> re.Pattern[str] | None:
    """One pattern matching any keyword as a whole word (escaped: always safe)."""
    if not keywords:
        return None
    words = "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


class RuleActions(BaseModel):
    """What a matching rule does."""

    model_config = ConfigDict(extra="forbid")
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    assign: str | None = Field(default=None, max_length=100)
    priority: Priority | None = None
    hide: bool = Field(default=False, description="Hide the comment on the network (spam).")
    auto_reply: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Sent outside office hours, once per conversation per closed period.",
    )


class RuleSpec(BaseModel):
    """A rule as created or replaced through the API."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    keywords: list[Keyword] = Field(default_factory=list, max_length=50)
    regex: str | None = Field(default=None, min_length=1, max_length=MAX_PATTERN)
    kinds: list[Literal["comment", "reply", "dm", "mention", "review"]] = Field(
        default_factory=list, description="Only these kinds of message (all if empty)."
    )
    actions: RuleActions

    @field_validator("regex")
    @classmethod
    def _safe(cls, value: str | None) -> str | None:
        if value is not None:
            compile_safe(value)  # UnsafePattern is a ValueError: a 422 naming the problem
        return value

    @model_validator(mode="after")
    def _hides_only_what_it_names(self) -> RuleSpec:
        # A rule without keywords or regex matches every message: fine for an away
        # message, a disaster for hiding.
        if self.actions.hide and not (self.keywords or self.regex):
            raise ValueError("a rule that hides comments needs keywords or a regex")
        return self


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run on messages."""

    id: str
    spec: RuleSpec
    keywords: re.Pattern[str] | None
    regex: regex.Pattern[str] | None

    @classmethod
    def of(cls, rule_id: str, spec: RuleSpec) -> CompiledRule:
        """Compile a stored rule."""
        regex = compile_safe(spec.regex) if spec.regex else None
        return cls(rule_id, spec, keywords_pattern(spec.keywords), regex)

    def matches(self, text: str, kind: str) -> bool:
        """Whether the rule applies (a rule with neither keywords nor regex matches all)."""
        if not self.spec.enabled or (self.spec.kinds and kind not in self.spec.kinds):
            return False
        scanned = text[:MAX_SCANNED]
        if self.keywords and not self.keywords.search(scanned):
            return False
        return not (self.regex and not search_bounded(self.regex, scanned))


@dataclass
class Outcome:
    """Everything the matching rules ask for, merged."""

    rule_ids: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    assign: str | None = None
    priority: Priority | None = None
    hide: bool = False
    auto_reply: str | None = None
    auto_reply_rule: str | None = None


def evaluate(rules: list[CompiledRule], text: str, kind: str) -> Outcome:
    """Merge the actions of every matching rule (first assignee and auto-reply win)."""
    outcome = Outcome()
    for rule in rules:
        if not rule.matches(text, kind):
            continue
        actions = rule.spec.actions
        outcome.rule_ids.append(rule.id)
        outcome.tags.update(actions.tags)
        outcome.assign = outcome.assign or actions.assign
        if actions.priority:
            outcome.priority = higher_priority(outcome.priority or "low", actions.priority)
        outcome.hide = outcome.hide or actions.hide
        if actions.auto_reply and outcome.auto_reply is None:
            outcome.auto_reply, outcome.auto_reply_rule = actions.auto_reply, rule.id
    return outcome


Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class InboxSettings(BaseModel):
    """A workspace's inbox settings: office hours in its zone, influencer threshold."""

    model_config = ConfigDict(extra="forbid")
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone.")
    office_hours: dict[str, list[Clock]] = Field(
        default_factory=dict,
        description='Per day (mon..sun) ["09:00", "17:00"]; a day left out is closed. '
        "Empty: always open.",
    )
    influencer_followers: int = Field(default=10_000, ge=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, span in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r}: use {', '.join(DAYS)}")
            if len(span) != 2 or span[0] >= span[1]:
                raise ValueError(f"{day}: give [opening, closing] with opening before closing")
        return value

    def closed_since(self, now: datetime) -> datetime | None:
        """When the current out-of-hours period began, or None while the office is open.

        The auto-reply is sent once per conversation per period; without office hours
        the inbox counts as always open and sends none.
        """
        if not self.office_hours:
            return None
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        latest_close: datetime | None = None
        for back in range(8):
            day = (local - timedelta(days=back)).date()
            span = self.office_hours.get(DAYS[day.weekday()])
            if not span:
                continue
            opens = datetime.combine(day, time.fromisoformat(span[0]), zone)
            closes = datetime.combine(day, time.fromisoformat(span[1]), zone)
            if opens <= local < closes:
                return None
            if closes <= local and (latest_close is None or closes > latest_close):
                latest_close = closes
            if latest_close is not None:
                break
        # Open on no day at all in the past week: one long period since a week ago.
        return latest_close or (local - timedelta(days=7)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
