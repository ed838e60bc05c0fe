"""Scheduler errors; mapped to problem+json only at the HTTP edge."""

from __future__ import annotations


class SchedulerError(Exception):
    """Base of every scheduler error."""


class PostNotFound(SchedulerError):
    """No such post in this workspace."""


class UnknownAccount(SchedulerError):
    """A target account is not connected to this workspace."""


class InvalidSchedule(SchedulerError):
    """The time is in the past, ambiguous or otherwise unusable."""


class PostLocked(SchedulerError):
    """The post was already dispatched and can no longer change."""


class BreaksNetworkRules(SchedulerError):
    """The post breaks one or more rules of a target network."""

    def __init__(self, violations: list[dict[str, str]]) -> None:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(f"{first['network']}: {first['message']}{more}")
        self.problem_extra = {"violations": violations}
