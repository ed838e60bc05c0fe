"""Reading metric series: the API reports, research and exports build on.

Everything here reads the roll-ups kept by :class:`siar_analytics.series_store.SeriesStore`
(never raw snapshots), so a request costs one query over a handful of documents:
a 6-month daily series of one account is 6 documents, a week of hourly values 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import NamedTuple

from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document
from siar_analytics.rollups import Grain, bucket_of, periods_between, series_key, slot_start
from siar_analytics.series_store import LAST_SLOT, LATEST, SeriesStore, bucket_id


class SeriesPoint(BaseModel):
    """One account's value of one metric in one bucket (hour or UTC day)."""

    account_id: str
    at: datetime
    value: float
    collected_at: datetime
    partial: bool


class DayValue(NamedTuple):
    """One account's value of one metric on one UTC day (a light :class:`SeriesPoint`)."""

    account_id: str
    at: datetime
    value: float


class PostMetrics(BaseModel):
    """A post's newest metrics (each metric the newest the network gave)."""

    account_id: str
    network: str
    network_post_id: str
    post_id: str | None
    published_at: datetime | None
    collected_at: datetime
    metrics: dict[str, float]
    partial: bool


class AccountMetrics(BaseModel):
    """An account's newest metrics and audience."""

    account_id: str
    network: str
    collected_at: datetime
    metrics: dict[str, float]
    partial: bool
    dimensions: dict[str, dict[str, float]] = {}


class Audience(BaseModel):
    """An account's audience shares by dimension (age, gender, country, city) at a time."""

    account_id: str
    collected_at: datetime
    dimensions: dict[str, dict[str, float]]


def _time(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time.max if end else time.min, tzinfo=UTC)


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Series:
    """Typed reads of the metric roll-ups of a workspace."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.store = SeriesStore(db)

    async def account_series(
        self,
        workspace_id: str,
        account_ids: Sequence[str] | None,
        metric: str,
        start: date | datetime,
        end: date | datetime,
        grain: Grain = "day",
    ) -> list[SeriesPoint]:
        """Values of ``metric`` per bucket in [start, end] (dates are whole UTC days),
        ordered by time then account; buckets without that metric are left out (no zeros).
        ``account_ids`` None means every account of the workspace."""
        found = await self.account_series_many(
            workspace_id, account_ids, (metric,), start, end, grain
        )
        return found[metric]

    async def account_series_many(
        self,
        workspace_id: str,
        account_ids: Sequence[str] | None,
        metrics: Sequence[str],
        start: date | datetime,
        end: date | datetime,
        grain: Grain = "day",
    ) -> dict[str, list[SeriesPoint]]:
        """:meth:`account_series` of several metrics from one read of the roll-ups."""
        first, last = _time(start, end=False), _time(end, end=True)
        docs = await self.store.bucket_docs(
            workspace_id,
            grain=grain,
            scope="account",
            periods=periods_between(grain, first, last),
            account_ids=account_ids,
        )
        points: dict[str, list[SeriesPoint]] = {metric: [] for metric in metrics}
        for doc in docs:
            for name, slot in doc.get("slots", {}).items():
                at = slot_start(grain, str(doc["period"]), name)
                if not first <= at <= last:
                    continue
                values = slot.get("m", {})
                for metric in metrics:
                    value = values.get(metric)
                    if value is None:
                        continue
                    # Values straight from our own roll-ups: no validation needed, and a
                    # year of 100 accounts is 100,000 points.
                    point = SeriesPoint.model_construct(
                        account_id=str(doc["account_id"]),
                        at=at,
                        value=float(value),
                        collected_at=_at(float(slot["t"][metric])),
                        partial=bool(slot.get("partial")),
                    )
                    points[metric].append(point)
        return {m: sorted(p, key=lambda p: (p.at, p.account_id)) for m, p in points.items()}

    async def daily_values(
        self,
        workspace_id: str,
        account_ids: Sequence[str],
        metrics: Sequence[str],
        start: date,
        end: date,
    ) -> dict[str, list[DayValue]]:
        """Each metric's daily values in [start, end], ordered by day then account.

        What reports need of :meth:`account_series_many`, without collection times or
        validated models (a year of 100 accounts is 100,000 values per metric, and
        building a model for each took seconds). The month documents are found by
        ``_id``: nx-27017 answered the same query by (workspace_id, grain, period) from
        a scan of every roll-up of the workspace, a minute over a year of 50,000 posts."""
        first, last = _time(start, end=False), _time(end, end=True)
        ids = [
            bucket_id(workspace_id, "day", series_key(account, "account", None), period)
            for account in account_ids
            for period in periods_between("day", first, last)
        ]
        query: Document = {"_id": {"$in": ids}, "workspace_id": workspace_id}
        fields = {"_id": 0, "account_id": 1, "period": 1, "slots": 1}
        found: dict[str, list[DayValue]] = {metric: [] for metric in metrics}
        async for doc in self.store.buckets.raw.find(query, fields):
            for day, slot in doc.get("slots", {}).items():
                at = slot_start("day", str(doc["period"]), day)
                if not first <= at <= last:
                    continue
                values = slot.get("m", {})
                for metric in metrics:
                    if (value := values.get(metric)) is not None:  # no zeros for gaps
                        found[metric].append(DayValue(str(doc["account_id"]), at, float(value)))
        return {m: sorted(v, key=lambda p: (p.at, p.account_id)) for m, v in found.items()}

    async def post_metrics_latest(
        self,
        workspace_id: str,
        account_ids: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> list[PostMetrics]:
        """Every post's newest metrics, optionally of some accounts, collected since a time."""
        docs = await self.store.latest_docs(
            workspace_id,
            scope="post",
            account_ids=account_ids,
            since_ts=since.timestamp() if since else None,
        )
        found: list[PostMetrics] = []
        for doc in docs:
            slot = doc["slots"][LAST_SLOT]
            published = doc.get("published_ts")
            found.append(
                PostMetrics(
                    account_id=str(doc["account_id"]),
                    network=str(doc["network"]),
                    network_post_id=str(doc["network_post_id"]),
                    post_id=doc.get("post_id"),
                    published_at=_at(float(published)) if published is not None else None,
                    collected_at=_at(float(slot["ts"])),
                    metrics=dict(slot.get("m", {})),
                    partial=bool(slot.get("partial")),
                )
            )
        return sorted(found, key=lambda p: (p.account_id, p.network_post_id))

    async def post_metrics_published(
        self,
        workspace_id: str,
        account_ids: Sequence[str] | None,
        start: date | datetime,
        end: date | datetime,
        network_post_ids: Sequence[str] | None = None,
    ) -> list[PostMetrics]:
        """Newest metrics of the posts published in [start, end], or of the given network
        post ids whatever their time (reports read this: the filter runs in the database
        and only the fields reports use come back)."""
        query: Document = {"grain": LATEST, "scope": "post"}
        if network_post_ids is not None:
            query["network_post_id"] = {"$in": list(network_post_ids)}
        else:
            query["published_ts"] = {
                "$gte": _time(start, end=False).timestamp(),
                "$lte": _time(end, end=True).timestamp(),
            }
        if account_ids is not None:
            query["account_id"] = {"$in": list(account_ids)}
        fields = ("account_id", "network", "network_post_id", "post_id", "published_ts")
        # Whole "slots" (a latest document has one): nx-27017 drops nested projections.
        projection = {**dict.fromkeys((*fields, "slots"), 1), "_id": 0}
        docs = await self.store.buckets.find(workspace_id, query, projection=projection)
        return [
            PostMetrics.model_construct(
                account_id=str(doc["account_id"]),
                network=str(doc["network"]),
                network_post_id=str(doc["network_post_id"]),
                post_id=doc.get("post_id"),
                published_at=_at(float(doc["published_ts"])) if doc.get("published_ts") else None,
                collected_at=_at(float(doc["slots"][LAST_SLOT]["ts"])),
                metrics=dict(doc["slots"][LAST_SLOT].get("m", {})),
                partial=bool(doc["slots"][LAST_SLOT].get("partial")),
            )
            for doc in docs
        ]

    async def account_latest(
        self, workspace_id: str, account_ids: Sequence[str] | None = None
    ) -> list[AccountMetrics]:
        """Each account's newest metrics and audience."""
        docs = await self.store.latest_docs(workspace_id, scope="account", account_ids=account_ids)
        return sorted(
            (
                AccountMetrics(
                    account_id=str(doc["account_id"]),
                    network=str(doc["network"]),
                    collected_at=_at(float(doc["slots"][LAST_SLOT]["ts"])),
                    metrics=dict(doc["slots"][LAST_SLOT].get("m", {})),
                    partial=bool(doc["slots"][LAST_SLOT].get("partial")),
                    dimensions=doc["slots"][LAST_SLOT].get("d") or {},
                )
                for doc in docs
            ),
            key=lambda a: a.account_id,
        )

    async def audience(
        self, workspace_id: str, account_id: str, at: date | datetime | None = None
    ) -> Audience | None:
        """The account's audience as last reported on or before ``at`` (None = now);
        None when the network never gave demographics."""
        if at is None:
            latest = await self.account_latest(workspace_id, [account_id])
            if not latest or not latest[0].dimensions:
                return None
            return Audience(
                account_id=account_id,
                collected_at=latest[0].collected_at,
                dimensions=latest[0].dimensions,
            )
        until = _time(at, end=True)
        month, _ = bucket_of("day", until)
        for doc in await self.store.day_docs_until(workspace_id, account_id, month):
            for name in sorted(doc.get("slots", {}), reverse=True):
                slot = doc["slots"][name]
                if slot.get("d") and slot_start("day", str(doc["period"]), name) <= until:
                    return Audience(
                        account_id=account_id,
                        collected_at=_at(float(slot["dt"])),
                        dimensions=slot["d"],
                    )
        return None
