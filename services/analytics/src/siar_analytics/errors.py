"""Analytics errors."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Base of every analytics error."""


class InvalidRange(AnalyticsError):
    """A report's date range is backwards or too long."""


class InvalidResearchItem(AnalyticsError):
    """A tracked hashtag, keyword or competitor is malformed."""


class ResearchUnsupported(AnalyticsError):
    """The account's network offers no public search or profile look-up."""


class TooManyItems(AnalyticsError):
    """The workspace already tracks as many items as allowed."""


class NotFound(AnalyticsError):
    """An account, tracked item or report that the workspace does not have."""

    def __init__(self, what: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{what} not found")
        self.what = what


class InvalidReportRequest(AnalyticsError):
    """A report parameter is unknown or malformed (scope, time zone, logo)."""
