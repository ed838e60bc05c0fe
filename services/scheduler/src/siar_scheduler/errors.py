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


class WrongState(SchedulerError):
    """The post is not in a state that allows this step (e.g. approving a draft)."""


class TimePassed(SchedulerError):
    """The post's time went by while it waited (e.g. for approval); it needs a new one."""


class NotAllowed(SchedulerError):
    """The caller's role may not take this step on this post."""


class LabelNotFound(SchedulerError):
    """No such campaign label in this workspace."""


class LabelExists(SchedulerError):
    """A label of that name already exists in this workspace."""


class NothingToRetry(SchedulerError):
    """The post has no failed targets to deliver again."""


class BulkRefused(SchedulerError):
    """A bulk change was refused as a whole; ``problem_extra`` names each item's reason."""

    def __init__(self, message: str, items: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.problem_extra = {"items": items}


class CsvUnreadable(SchedulerError):
    """The upload is not UTF-8 CSV text."""


class CsvColumns(SchedulerError):
    """The CSV's header row lacks required columns or has unknown ones."""


class CsvTooLarge(SchedulerError):
    """The CSV has too many rows or bytes."""


class CsvRowsInvalid(SchedulerError):
    """All-or-nothing import refused: some rows are invalid (each named in the report)."""

    def __init__(self, message: str, report: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.problem_extra = {"rows": report}
