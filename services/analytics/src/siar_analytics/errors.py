"""Analytics errors."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Base of every analytics error."""


class InvalidRange(AnalyticsError):
    """A report's date range is backwards or too long."""
