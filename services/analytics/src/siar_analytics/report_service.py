"""Report use cases: the overview of an account, a network or a workspace, and the agency view.

A report reads roll-ups only: daily account values (:mod:`siar_analytics.series`),
the post scores grouped and ranked by MongoDB (:mod:`siar_analytics.score_queries`),
the texts of the ranked posts from the catalog, and the inbox's daily roll-ups; it
never reads raw snapshots. The previous period is read in the same queries as the
current one and split in memory. :func:`join_posts` is the former in-memory join of
post roll-ups and catalog entries, kept for tests as the oracle of the scores.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import ConversationUpdated, MessageReceived, PostPublished, PostScheduled
from siar.runtime.mongo import Document
from siar.runtime.uow import UnitOfWork
from siar_analytics.collector_schedule import TARGETS
from siar_analytics.domain import check_range, previous_period
from siar_analytics.errors import InvalidReportRequest, NotFound
from siar_analytics.inbox_report import InboxSummary, inbox_summary
from siar_analytics.inbox_stats import InboxStats
from siar_analytics.post_catalog import PostCatalog
from siar_analytics.reports import (
    Breakdown,
    Delta,
    Heatmap,
    PostFacts,
    RankedPost,
    delta,
    scored_post,
)
from siar_analytics.score_queries import ScoreQueries
from siar_analytics.series import AccountMetrics, DayValue, PostMetrics, Series

FLOW_METRICS = ("impressions", "reach")
"""Daily account metrics that add up over a period (the network counts each day)."""


class Scope(BaseModel):
    """What a report covers: a whole workspace, one account or one network."""

    account_id: str | None = None
    network: str | None = None


class Overview(BaseModel):
    """The performance report of a scope over a period, against the period before it."""

    workspace_id: str
    start: date
    end: date
    previous_start: date
    previous_end: date
    scope: Scope
    timezone: str
    accounts: int
    followers: Delta
    follower_growth: Delta
    impressions: Delta
    reach: Delta
    engagement: Delta
    engagement_rate: Delta
    posts_published: Delta
    followers_daily: list[tuple[date, float]]
    impressions_daily: list[tuple[date, float]]
    top_posts: list[RankedPost]
    bottom_posts: list[RankedPost]
    by_network: list[Breakdown]
    by_content_type: list[Breakdown]
    by_format: list[Breakdown]
    by_hashtag: list[Breakdown]
    by_hour: list[Breakdown]
    heatmap: Heatmap
    demographics: dict[str, dict[str, float]]
    inbox: InboxSummary
    inbox_received: Delta
    avg_first_response_s: Delta


class AgencyRow(BaseModel):
    """One client workspace in the agency view: its headline figures and their change."""

    workspace_id: str
    accounts: int
    followers: Delta
    follower_growth: Delta
    impressions: Delta
    engagement: Delta
    engagement_rate: Delta
    posts_published: Delta
    inbox_received: Delta


class AgencyReport(BaseModel):
    """Every client workspace the caller may report on, over one period."""

    start: date
    end: date
    workspaces: list[AgencyRow]
    totals: dict[str, Delta]


AGENCY_TOTALS = ("followers", "follower_growth", "impressions", "engagement", "posts_published")


def check_timezone(tz: str) -> str:
    """An IANA zone name, or :class:`InvalidReportRequest`."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidReportRequest(f"unknown time zone {tz!r}; use an IANA name") from err
    return tz


class ReportService:
    """Keeps the post catalog and inbox roll-ups from events, and answers reports."""

    def __init__(
        self, *, db: AsyncDatabase[Document], uow: UnitOfWork, max_range_days: int
    ) -> None:
        self.series = Series(db)
        self.catalog = PostCatalog(db)
        self.scores = ScoreQueries(db)
        self.inbox = InboxStats(db)
        self.targets = db[TARGETS]
        self.uow = uow
        self.max_range_days = max_range_days

    # -- ingest ---------------------------------------------------------------------------
    async def ingest(
        self,
        event: PostScheduled | PostPublished | MessageReceived | ConversationUpdated,
        consumer: str,
    ) -> bool:
        """Fold an event into the catalog or the inbox roll-ups, once."""

        async def work(session: AsyncClientSession) -> None:
            if isinstance(event, PostScheduled):
                await self.catalog.record_scheduled(event, session)
            elif isinstance(event, PostPublished):
                await self.catalog.record_published(event, session)
            elif isinstance(event, MessageReceived):
                await self.inbox.record_message(event, session)
            else:
                await self.inbox.record_update(event, session)

        ran, _ = await self.uow.run_once(f"{consumer}:reports", str(event.event_id), work)
        return ran

    # -- reports --------------------------------------------------------------------------
    async def overview(
        self, workspace_id: str, start: date, end: date, scope: Scope, tz: str = "UTC"
    ) -> Overview:
        """Everything the overview shows, for ``scope`` over [start, end]."""
        check_range(start, end, max_days=self.max_range_days)
        check_timezone(tz)
        prev_start, prev_end = previous_period(start, end)
        latest = await self.series.account_latest(workspace_id)
        ids = await self._accounts(workspace_id, scope, latest)
        accounts = ids if ids is not None else [a.account_id for a in latest]
        # Independent reads run together: the database works while we decode.
        series, posts, inbox_now, inbox_before = await asyncio.gather(
            self.series.daily_values(
                workspace_id, accounts, ("followers", *FLOW_METRICS), prev_start, end
            ),
            self.scores.sections(
                workspace_id, start, end, prev_start, account_ids=ids, network=scope.network, tz=tz
            ),
            self.inbox.days(workspace_id, start.isoformat(), end.isoformat(), ids),
            self.inbox.days(workspace_id, prev_start.isoformat(), prev_end.isoformat(), ids),
        )
        top, bottom = await self._with_texts(
            workspace_id, posts["top_posts"], posts["bottom_posts"]
        )
        inbox, inbox_previous = inbox_summary(inbox_now), inbox_summary(inbox_before)
        followers, impressions, reach = (series[m] for m in ("followers", *FLOW_METRICS))
        level = _levels(followers, start)
        return Overview(
            workspace_id=workspace_id,
            start=start,
            end=end,
            previous_start=prev_start,
            previous_end=prev_end,
            scope=scope,
            timezone=tz,
            accounts=len({a.account_id for a in latest if ids is None or a.account_id in ids}),
            followers=delta(level["end_now"], level["end_before"]),
            follower_growth=delta(level["growth_now"], level["growth_before"]),
            impressions=_flow_delta(impressions, start),
            reach=_flow_delta(reach, start),
            followers_daily=_daily(followers, start, level=True),
            impressions_daily=_daily(impressions, start, level=False),
            **(posts | {"top_posts": top, "bottom_posts": bottom}),
            demographics=_demographics(a for a in latest if ids is None or a.account_id in ids),
            inbox=inbox,
            inbox_received=delta(inbox.received, inbox_previous.received),
            avg_first_response_s=delta(
                inbox.avg_first_response_s or 0.0, inbox_previous.avg_first_response_s or 0.0
            ),
        )

    async def agency(self, workspace_ids: Sequence[str], start: date, end: date) -> AgencyReport:
        """Headline figures of each workspace, and their sums across workspaces."""
        check_range(start, end, max_days=self.max_range_days)
        rows = []
        for ws in sorted(workspace_ids):
            report = await self.overview(ws, start, end, Scope())
            rows.append(AgencyRow.model_validate({"workspace_id": ws, **report.model_dump()}))
        totals = {
            name: delta(
                sum(getattr(r, name).current for r in rows),
                sum(getattr(r, name).previous for r in rows),
            )
            for name in AGENCY_TOTALS
        }
        return AgencyReport(start=start, end=end, workspaces=rows, totals=totals)

    async def _with_texts(
        self, workspace_id: str, *lists: list[RankedPost]
    ) -> tuple[list[RankedPost], ...]:
        """Ranked posts with their texts, read for those few posts only."""
        wanted = {p.post_id for posts in lists for p in posts}
        texts = await self.catalog.texts(workspace_id, wanted)
        return tuple(
            [p.model_copy(update={"text": texts.get(p.post_id, p.text)[:280]}) for p in posts]
            for posts in lists
        )

    async def _accounts(
        self, workspace_id: str, scope: Scope, latest: Sequence[AccountMetrics]
    ) -> list[str] | None:
        """The accounts a scope covers (None: all); an account or network the workspace
        never connected is a 404. Accounts come from the collector's targets (every
        account.connected) and from the metrics themselves."""
        if scope.account_id is None and scope.network is None:
            return None
        query: Document = {"workspace_id": workspace_id}
        targets = await self.targets.find(query, {"account_id": 1, "network": 1}).to_list()
        networks = {str(t["account_id"]): str(t.get("network")) for t in targets}
        networks.update({a.account_id: a.network for a in latest})
        if scope.account_id is not None:
            if scope.account_id not in networks:
                raise NotFound("account", f"account {scope.account_id} not found")
            return [scope.account_id]
        ids = sorted(a for a, network in networks.items() if network == scope.network)
        if not ids:
            raise NotFound("network", f"no account of this workspace on {scope.network}")
        return ids


def join_posts(
    metrics: Iterable[PostMetrics],
    catalog: Iterable[Document],
    followers: dict[str, float | None],
    start: date,
    end: date,
    *,
    network: str | None = None,
) -> list[PostFacts]:
    """Posts of [start, end]: metrics joined with the catalog on (account, network id)."""
    known = {(str(d["account_id"]), str(d.get("network_post_id"))): d for d in catalog}
    facts = []
    for post in metrics:
        about = known.get((post.account_id, post.network_post_id), {})
        ts = about.get("published_ts")
        published = datetime.fromtimestamp(float(ts), UTC) if ts else post.published_at
        if published is None or not start <= published.astimezone(UTC).date() <= end:
            continue
        if network is not None and post.network != network:
            continue
        facts.append(
            scored_post(
                post_id=str(about.get("post_id") or post.post_id or post.network_post_id),
                account_id=post.account_id,
                network=post.network,
                network_post_id=post.network_post_id,
                published_at=published,
                text=str(about.get("text") or ""),
                permalink=about.get("permalink"),
                content_type=str(about.get("content_type") or "unknown"),
                format=str(about.get("format") or "unknown"),
                hashtags=list(about.get("hashtags") or []),
                metrics=post.metrics,
                followers=followers.get(post.account_id),
            )
        )
    return facts


def _levels(points: Sequence[DayValue], start: date) -> dict[str, float]:
    """Followers at the end of each period and growth within it, summed over accounts."""
    now: dict[str, list[float]] = defaultdict(list)
    before: dict[str, list[float]] = defaultdict(list)
    for p in points:  # ordered by time
        (now if p.at.date() >= start else before)[p.account_id].append(p.value)
    return {
        "end_now": sum(v[-1] for v in now.values()),
        "end_before": sum(v[-1] for v in before.values()),
        "growth_now": sum(v[-1] - v[0] for v in now.values()),
        "growth_before": sum(v[-1] - v[0] for v in before.values()),
    }


def _flow_delta(points: Sequence[DayValue], start: date) -> Delta:
    now = sum(p.value for p in points if p.at.date() >= start)
    return delta(now, sum(p.value for p in points if p.at.date() < start))


def _daily(points: Sequence[DayValue], start: date, *, level: bool) -> list[tuple[date, float]]:
    """One value per day over the accounts: levels carry each account's last value."""
    by_day: dict[date, dict[str, float]] = defaultdict(dict)
    for p in points:
        if p.at.date() >= start:
            by_day[p.at.date()][p.account_id] = p.value
    if not level:
        return [(d, sum(v.values())) for d, v in sorted(by_day.items())]
    carried: dict[str, float] = {}
    out = []
    for day, values in sorted(by_day.items()):
        carried.update(values)
        out.append((day, sum(carried.values())))
    return out


def _demographics(accounts: Iterable[AccountMetrics]) -> dict[str, dict[str, float]]:
    """Audience shares per dimension, weighted by each account's followers."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    weights: dict[str, float] = defaultdict(float)
    for account in accounts:
        weight = account.metrics.get("followers") or 1.0
        for dimension, shares in account.dimensions.items():
            weights[dimension] += weight
            for key, share in shares.items():
                sums[dimension][key] += share * weight
    return {
        dim: {k: round(v / weights[dim], 4) for k, v in sorted(keys.items(), key=lambda x: -x[1])}
        for dim, keys in sums.items()
    }
