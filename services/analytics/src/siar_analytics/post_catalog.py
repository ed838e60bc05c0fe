"""What each published post was: content type, format, hashtags and publication time.

Learnt from ``post.scheduled`` (the content) and ``post.published`` (the network's id
and time), which may be consumed in either order: each only ``$set``s its own fields
on the one document per (post, account). The publication time is kept as epoch
seconds, which the embedded nx-27017 keeps as a number under ``$set`` (a datetime
would turn into a string there) and which range queries compare correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import PostPublished, PostScheduled
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.post_scores import PostScores
from siar_analytics.reports import content_type_of, format_of, hashtags_of

CATALOG_INDEXES = (
    IndexSpec(
        "post_catalog",
        [("workspace_id", ASCENDING), ("post_id", ASCENDING), ("account_id", ASCENDING)],
        unique=True,
    ),
    IndexSpec("post_catalog", [("workspace_id", ASCENDING), ("published_ts", ASCENDING)]),
)


def day_bounds(start: date, end: date) -> tuple[float, float]:
    """Epoch seconds of the start of ``start`` and of the end of ``end`` (UTC days)."""
    first = datetime.combine(start, time.min, tzinfo=UTC).timestamp()
    last = datetime.combine(end, time.max, tzinfo=UTC).timestamp()
    return first, last


class PostCatalog:
    """One document per published (post, account) with what reports group posts by."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.posts = TenantCollection(db["post_catalog"])
        self.scores = PostScores(db)

    async def _set(
        self, event: PostScheduled | PostPublished, fields: Document, s: AsyncClientSession
    ) -> None:
        key = {"post_id": event.post_id, "account_id": event.account_id}
        await self.posts.update_one(
            event.workspace_id,
            key,
            {"$set": {"network": event.network, **fields}},
            upsert=True,
            session=s,
        )
        # The post's score document takes what the catalog now knows (in the same
        # unit of work), so reports can group posts without reading the catalog.
        doc = await self.posts.find_one(event.workspace_id, key, session=s)
        if doc is not None:
            await self.scores.record_about(doc, s)

    async def record_scheduled(self, event: PostScheduled, session: AsyncClientSession) -> None:
        """Remember the post's text, hashtags, content type and format."""
        media = len(event.media_ids)
        await self._set(
            event,
            {
                "text": event.text,
                "hashtags": hashtags_of(event.text),
                "content_type": content_type_of(event.media_kinds, media, event.link),
                "format": format_of(event.format, media),
            },
            session,
        )

    async def record_published(self, event: PostPublished, session: AsyncClientSession) -> None:
        """Remember where and when the post went out."""
        await self._set(
            event,
            {
                "network_post_id": event.network_post_id,
                "permalink": event.permalink,
                "published_ts": event.published_at.timestamp(),
            },
            session,
        )

    async def published_between(
        self,
        workspace_id: str,
        start: date,
        end: date,
        account_ids: Sequence[str] | None = None,
        *,
        texts: bool = True,
    ) -> list[Document]:
        """Posts published on days [start, end] (UTC), optionally of some accounts;
        without their texts when ``texts`` is false (a year can hold 50,000 posts)."""
        first, last = day_bounds(start, end)
        query: Document = {"published_ts": {"$gte": first, "$lte": last}}
        if account_ids is not None:
            query["account_id"] = {"$in": list(account_ids)}
        projection = None if texts else {"text": 0, "_id": 0}
        return await self.posts.find(workspace_id, query, projection=projection)

    async def texts(self, workspace_id: str, post_ids: Iterable[str]) -> dict[str, str]:
        """The texts of some posts, by post id."""
        query = {"post_id": {"$in": sorted(set(post_ids))}}
        docs = await self.posts.find(workspace_id, query, projection={"post_id": 1, "text": 1})
        return {str(d["post_id"]): str(d.get("text") or "") for d in docs}
