"""The calendar: posts by date range with filters, and moving or deleting many at once.

Bulk changes are all-or-nothing per request: every item is checked first and, if any
cannot change, nothing does and the answer names each refused item and why; otherwise
all of them are written in one transaction, each guarded by its version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import utcnow
from siar_scheduler.domain import Post, PostStatus, check_schedule
from siar_scheduler.errors import BulkRefused, InvalidSchedule, PostLocked
from siar_scheduler.service import SchedulerService
from siar_scheduler.workflow_store import WorkflowStore

MAX_BULK = 500


@dataclass(frozen=True)
class CalendarFilter:
    """Which posts of a date range to show; an empty list means any."""

    account_ids: Sequence[str] = ()
    networks: Sequence[str] = ()
    statuses: Sequence[PostStatus] = ()
    label_ids: Sequence[str] = ()
    authors: Sequence[str] = ()

    def query(self, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        """The MongoDB filter: posts in [start, end), or posts with no time when both are None.

        ``$in`` for arrays (nx-27017 cannot match an indexed array by equality) and
        ``$elemMatch`` for targets (it finds nothing for ``targets.account_id: {$in}``).
        """
        # ``$in: [None]``, not ``None``: beside an ``$and``, nx-27017 misses null fields
        # compared by plain equality.
        when: dict[str, Any] = (
            {"$in": [None]} if start is None or end is None else {"$gte": start, "$lt": end}
        )
        query: dict[str, Any] = {"scheduled_at": when}
        on_targets = [
            {"targets": {"$elemMatch": {field: {"$in": list(values)}}}}
            for field, values in (("account_id", self.account_ids), ("network", self.networks))
            if values
        ]
        if on_targets:
            query["$and"] = on_targets
        if self.statuses:
            query["status"] = {"$in": [s.value for s in self.statuses]}
        if self.label_ids:
            query["label_ids"] = {"$in": list(self.label_ids)}
        if self.authors:
            query["created_by"] = {"$in": list(self.authors)}
        return query


@dataclass
class Move:
    """One post to a new time."""

    post_id: str
    scheduled_at: datetime


@dataclass
class _Checked:
    posts: list[Post] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)


class CalendarService:
    """Queries and bulk changes of the calendar."""

    def __init__(self, posts: SchedulerService, store: WorkflowStore) -> None:
        self.posts = posts
        self.store = store

    async def find(
        self,
        workspace_id: str,
        *,
        start: datetime,
        end: datetime,
        where: CalendarFilter,
        limit: int,
    ) -> list[Post]:
        """Posts scheduled in [start, end) that pass ``where``, by time."""
        return await self.store.find_posts(workspace_id, where.query(start, end), limit=limit)

    async def unscheduled(
        self, workspace_id: str, *, where: CalendarFilter, limit: int
    ) -> list[Post]:
        """Drafts and ideas with no time yet, newest first: they have no place on a calendar."""
        posts = await self.store.find_posts(workspace_id, where.query(None, None), limit=0)
        posts.sort(key=lambda p: p.created_at, reverse=True)
        return posts[:limit]

    async def awaiting_approval(self, workspace_id: str, limit: int = 1000) -> list[Post]:
        """Posts in review, soonest first: what an approver has to look at."""
        return await self.store.find_posts(
            workspace_id, {"status": PostStatus.IN_REVIEW.value}, limit=limit
        )

    async def _check(self, workspace_id: str, post_ids: Sequence[str]) -> _Checked:
        if not post_ids:
            raise InvalidSchedule("name at least one post")
        if len(post_ids) > MAX_BULK:
            raise InvalidSchedule(f"at most {MAX_BULK} posts per request; got {len(post_ids)}")
        if len(set(post_ids)) != len(post_ids):
            raise InvalidSchedule("a post is named twice in one request")
        found = {
            p.id: p
            for p in await self.store.find_posts(workspace_id, {"_id": {"$in": list(post_ids)}})
        }
        checked = _Checked()
        for post_id in post_ids:
            post = found.get(post_id)
            if post is None:
                checked.refused.append({"post_id": post_id, "reason": "not found"})
            elif post.locked:
                reason = f"already {post.status.value}; a dispatched post cannot change"
                checked.refused.append({"post_id": post_id, "reason": reason})
            else:
                checked.posts.append(post)
        return checked

    async def bulk_move(self, workspace_id: str, moves: Sequence[Move]) -> list[Post]:
        """Move every post to its new time, or none of them."""
        checked = await self._check(workspace_id, [m.post_id for m in moves])
        now = utcnow()
        at = {m.post_id: m.scheduled_at for m in moves}
        updated: list[tuple[Post, int]] = []
        for post in checked.posts:
            try:
                check_schedule(at[post.id], now=now, min_lead=self.posts.min_lead)
            except InvalidSchedule as err:
                checked.refused.append({"post_id": post.id, "reason": str(err)})
                continue
            changes = {"scheduled_at": at[post.id], "version": post.version + 1, "updated_at": now}
            updated.append((post.model_copy(update=changes), post.version))
        self._refuse_if_any(checked.refused, "moved")
        await self._write(workspace_id, replace=updated)
        for post, _ in updated:
            self.posts.hand_to_dispatch(post)
        return [p for p, _ in updated]

    async def bulk_delete(self, workspace_id: str, post_ids: Sequence[str]) -> int:
        """Delete every named post, or none of them."""
        checked = await self._check(workspace_id, post_ids)
        self._refuse_if_any(checked.refused, "deleted")
        await self._write(workspace_id, delete=[(p.id, p.version) for p in checked.posts])
        return len(checked.posts)

    @staticmethod
    def _refuse_if_any(refused: list[dict[str, str]], verb: str) -> None:
        if refused:
            first = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise BulkRefused(
                f"nothing was {verb}: post {first['post_id']} {first['reason']}{more}", refused
            )

    async def _write(
        self,
        workspace_id: str,
        *,
        replace: Sequence[tuple[Post, int]] = (),
        delete: Sequence[tuple[str, int]] = (),
    ) -> None:
        expected = len(replace) + len(delete)

        async def work(session: AsyncClientSession) -> None:
            matched = await self.store.bulk_posts(
                workspace_id, replace=replace, delete=delete, session=session
            )
            if matched != expected:
                # Someone changed a post between the check and the write: abort it all.
                raise PostLocked("a post changed meanwhile; nothing was changed, reload and retry")

        await self.posts.uow.run(work)
