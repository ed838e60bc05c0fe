"""CSV exports: every report section as a table, from the same models the JSON serves (no I/O).

Cells that a spreadsheet would run as a formula (starting with ``= + - @`` or a tab)
are prefixed with a quote: post texts and hashtags come from the public, and a CSV
opened in a spreadsheet must not execute them (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence

from siar_analytics.domain import COUNTERS, ActivitySummary
from siar_analytics.errors import InvalidReportRequest
from siar_analytics.report_service import AgencyReport, Overview
from siar_analytics.reports import Breakdown, Delta, RankedPost
from siar_analytics.research import ResearchReport

Row = Sequence[object]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def to_csv(header: Row, rows: Iterable[Row]) -> str:
    """A CSV document (RFC 4180, CRLF line ends) with safe cells."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def _delta_rows(named: Iterable[tuple[str, Delta]]) -> list[Row]:
    return [(n, d.current, d.previous, d.change, d.change_pct) for n, d in named]


DELTA_HEADER = ("metric", "current", "previous", "change", "change_pct")
BREAKDOWN_HEADER = ("key", "posts", "engagement", "avg_engagement", "avg_engagement_rate")
POST_HEADER = (
    "post_id",
    "account_id",
    "network",
    "published_at",
    "engagement",
    "engagement_rate",
    "permalink",
    "text",
)


def _breakdown(rows: list[Breakdown]) -> tuple[Row, list[Row]]:
    return BREAKDOWN_HEADER, [
        (b.key, b.posts, b.engagement, b.avg_engagement, b.avg_engagement_rate) for b in rows
    ]


def _posts(rows: list[RankedPost]) -> tuple[Row, list[Row]]:
    return POST_HEADER, [
        (
            p.post_id,
            p.account_id,
            p.network,
            p.published_at.isoformat(),
            p.engagement,
            p.engagement_rate,
            p.permalink,
            p.text,
        )
        for p in rows
    ]


SUMMARY = (
    "followers",
    "follower_growth",
    "impressions",
    "reach",
    "engagement",
    "engagement_rate",
    "posts_published",
    "inbox_received",
    "avg_first_response_s",
)
"""The headline figures of an overview, in the order reports show them."""


def summary_figures(report: Overview) -> list[tuple[str, Delta]]:
    """Each headline figure of an overview with its previous value and change."""
    return [(name, getattr(report, name)) for name in SUMMARY]


def _heatmap(report: Overview) -> tuple[Row, list[Row]]:
    h = report.heatmap
    return ("weekday", *[f"{hour:02d}" for hour in range(24)]), [
        (day, *h.avg_engagement[i]) for i, day in enumerate(h.weekdays)
    ]


def _demographics(report: Overview) -> tuple[Row, list[Row]]:
    return ("dimension", "key", "share"), [
        (dim, key, share)
        for dim, shares in report.demographics.items()
        for key, share in shares.items()
    ]


def _inbox_daily(report: Overview) -> tuple[Row, list[Row]]:
    header = ("day", "received", "positive", "neutral", "negative", "unscored", "net_sentiment")
    return header, [
        (d.day, d.received, *d.sentiment.values(), d.net_sentiment) for d in report.inbox.daily
    ]


OVERVIEW_SECTIONS: dict[str, Callable[[Overview], tuple[Row, list[Row]]]] = {
    "summary": lambda r: (DELTA_HEADER, _delta_rows(summary_figures(r))),
    "followers_daily": lambda r: (
        ("day", "followers"),
        [(d.isoformat(), v) for d, v in r.followers_daily],
    ),
    "impressions_daily": lambda r: (
        ("day", "impressions"),
        [(d.isoformat(), v) for d, v in r.impressions_daily],
    ),
    "top_posts": lambda r: _posts(r.top_posts),
    "bottom_posts": lambda r: _posts(r.bottom_posts),
    "by_network": lambda r: _breakdown(r.by_network),
    "by_content_type": lambda r: _breakdown(r.by_content_type),
    "by_format": lambda r: _breakdown(r.by_format),
    "by_hashtag": lambda r: _breakdown(r.by_hashtag),
    "by_hour": lambda r: _breakdown(r.by_hour),
    "heatmap": _heatmap,
    "demographics": _demographics,
    "inbox_daily": _inbox_daily,
}
"""Every section of the overview that exports as its own CSV."""


def overview_csv(report: Overview, section: str) -> str:
    """One section of an overview as CSV."""
    build = OVERVIEW_SECTIONS.get(section)
    if build is None:
        known = ", ".join(OVERVIEW_SECTIONS)
        raise InvalidReportRequest(f"unknown section {section!r}; one of: {known}")
    header, rows = build(report)
    return to_csv(header, rows)


def research_csv(report: ResearchReport) -> str:
    """Mentions per tracked item and day, with share of voice and competitor followers."""
    rows: list[Row] = []
    for trend in report.items:
        followers = dict(trend.followers)
        days = sorted(set(dict(trend.daily_mentions)) | set(followers))
        mentions = dict(trend.daily_mentions)
        for day in days:
            rows.append(
                (
                    trend.item.id,
                    trend.item.kind,
                    trend.item.value,
                    trend.item.network,
                    day,
                    mentions.get(day, 0),
                    followers.get(day),
                    trend.share_of_voice_pct,
                )
            )
    header = ("item_id", "kind", "value", "network", "day", "mentions", "followers", "sov_pct")
    return to_csv(header, rows)


def agency_csv(report: AgencyReport) -> str:
    """One row per client workspace: each headline figure and its previous value."""
    names = (
        "followers",
        "follower_growth",
        "impressions",
        "engagement",
        "engagement_rate",
        "posts_published",
        "inbox_received",
    )
    header = ["workspace_id", "accounts"]
    for name in names:
        header += [name, f"{name}_previous"]
    rows = []
    for row in report.workspaces:
        values: list[object] = [row.workspace_id, row.accounts]
        for name in names:
            figure: Delta = getattr(row, name)
            values += [figure.current, figure.previous]
        rows.append(values)
    return to_csv(header, rows)


def activity_csv(summary: ActivitySummary) -> str:
    """The activity counters of a period against the previous one."""
    rows = [(name, getattr(summary, name), summary.previous.get(name, 0)) for name in COUNTERS]
    return to_csv(("counter", "current", "previous"), rows)
