"""Scheduler use cases: create, edit, cancel posts and record outcomes (firing: firing.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from siar.connectors import Connector, MediaItem
from siar.contracts import PostFailed, PostPublished, utcnow
from siar.runtime.tracing import trace_headers
from siar.runtime.uow import UnitOfWork
from siar_scheduler.dispatch import Dispatcher
from siar_scheduler.domain import (
    Post,
    PostStatus,
    PostVariant,
    ReviewEntry,
    Target,
    check_schedule,
)
from siar_scheduler.errors import (
    BreaksNetworkRules,
    LabelNotFound,
    PostLocked,
    PostNotFound,
    UnknownAccount,
)
from siar_scheduler.media_domain import UnknownMedia
from siar_scheduler.outcomes import record_outcome
from siar_scheduler.store import SchedulerStore
from siar_scheduler.variants import rule_violations

AccountLookup = Callable[[str, str], Awaitable[dict[str, str] | None]]
"""Asks the vault about an account the projection does not know yet."""

MediaLookup = Callable[[str, list[str]], Awaitable[list[MediaItem]]]
"""Describes media of the workspace's library; raises for unknown ids."""

LabelCheck = Callable[[str, list[str]], Awaitable[None]]
"""Raises unless every label id exists in the workspace."""

FailureHook = Callable[[PostFailed, Post], Awaitable[None]]
"""Records (idempotently, by event id) that the workspace must hear of a failure."""

MAX_OPTIMISTIC_RETRIES = 20


async def _no_media(workspace_id: str, media_ids: list[str]) -> list[MediaItem]:
    raise UnknownMedia(media_ids)


async def _no_labels(workspace_id: str, label_ids: list[str]) -> None:
    if label_ids:
        raise LabelNotFound(f"label {label_ids[0]} not found")


class SchedulerService:
    """Everything the scheduler does, behind its API and its Kafka handlers."""

    def __init__(
        self,
        *,
        store: SchedulerStore,
        uow: UnitOfWork,
        lookup_account: AccountLookup,
        min_lead_s: float,
        connectors: dict[str, Connector] | None = None,
        describe_media: MediaLookup | None = None,
    ) -> None:
        self.store = store
        self.uow = uow
        self.lookup_account = lookup_account
        self.connectors = connectors or {}
        self.describe_media: MediaLookup = describe_media or _no_media
        self.min_lead = timedelta(seconds=min_lead_s)
        self.dispatcher: Dispatcher | None = None
        self.check_labels: LabelCheck = _no_labels
        self.on_failed: FailureHook | None = None
        self.after_failed: Callable[[], Awaitable[None]] | None = None

    async def _target(self, workspace_id: str, account_id: str) -> Target:
        doc = await self.store.account(workspace_id, account_id)
        if doc is None:
            found = await self.lookup_account(workspace_id, account_id)
            if found is None:
                raise UnknownAccount(f"account {account_id} is not connected to this workspace")
            doc = {"account_id": account_id, "network": found["network"]}
            await self.store.upsert_account(
                workspace_id, {**doc, "handle": found.get("handle", ""), "active": True}
            )
        if not doc.get("active", True):  # nx-27017 may hand a stored False back as 0
            raise UnknownAccount(f"account {account_id} is disconnected")
        return Target(account_id=account_id, network=str(doc["network"]))

    async def create_post(
        self,
        *,
        workspace_id: str,
        author: str,
        text: str,
        account_ids: list[str],
        scheduled_at: datetime | None,
        link: str | None = None,
        media_ids: list[str] | None = None,
        draft: bool = False,
        label_ids: list[str] | None = None,
        repeat: Mapping[str, Any] | None = None,
        immediate: bool = False,
        variants: Mapping[str, PostVariant] | None = None,
    ) -> Post:
        """Create a post: scheduled when it has a time (unless ``draft``), else a draft.

        ``repeat`` carries a recurrence or evergreen setting (see ``timing.py``);
        ``immediate`` ("post now") skips the minimum lead time; ``variants`` are the
        per-network differences, keyed by a target's network.
        """
        media_ids = list(dict.fromkeys(media_ids or []))
        label_ids = list(dict.fromkeys(label_ids or []))
        now = utcnow()
        if scheduled_at is not None and not immediate:
            check_schedule(scheduled_at, now=now, min_lead=self.min_lead)
        await self.check_labels(workspace_id, label_ids)
        targets = [await self._target(workspace_id, a) for a in dict.fromkeys(account_ids)]
        media = await self.describe_media(workspace_id, media_ids) if media_ids else []
        variants = dict(variants or {})
        self._check_rules(text, targets, media, variants)
        post = Post(
            id=f"pst_{uuid.uuid4().hex[:20]}",
            workspace_id=workspace_id,
            text=text,
            link=link,
            media_ids=media_ids,
            media_kinds=[m.kind.value for m in media],
            variants=variants,
            scheduled_at=scheduled_at,
            status=PostStatus.SCHEDULED if scheduled_at and not draft else PostStatus.DRAFT,
            targets=targets,
            label_ids=label_ids,
            created_by=author,
            created_at=now,
            updated_at=now,
            trace_context=trace_headers(),
            **(repeat or {}),
        )
        await self.store.insert_post(post)
        self._consider(post)
        return post

    async def target_for(self, workspace_id: str, account_id: str) -> Target:
        """The target for one of the workspace's connected accounts, or :class:`UnknownAccount`."""
        return await self._target(workspace_id, account_id)

    def check_rules(
        self,
        text: str,
        targets: list[Target],
        media: list[MediaItem] | None = None,
        variants: Mapping[str, PostVariant] | None = None,
    ) -> None:
        """Refuse a post that breaks any target network's rules (:class:`BreaksNetworkRules`)."""
        self._check_rules(text, targets, media, variants)

    def _check_rules(
        self,
        text: str,
        targets: list[Target],
        media: list[MediaItem] | None = None,
        variants: Mapping[str, PostVariant] | None = None,
    ) -> None:
        """Refuse a post that breaks any target network's rules, naming each rule."""
        violations = rule_violations(self.connectors, text, targets, media or (), variants)
        if violations:
            raise BreaksNetworkRules(violations)

    def hand_to_dispatch(self, post: Post) -> None:
        """Let the dispatcher know of a post that is (now) scheduled; no-op otherwise."""
        self._consider(post)

    def _consider(self, post: Post) -> None:
        if self.dispatcher and post.status is PostStatus.SCHEDULED and post.scheduled_at:
            self.dispatcher.consider(post.workspace_id, post.id, post.version, post.scheduled_at)

    async def get_post(self, workspace_id: str, post_id: str) -> Post:
        """One post, or :class:`PostNotFound`."""
        post = await self.store.get_post(workspace_id, post_id)
        if post is None:
            raise PostNotFound(f"post {post_id} not found")
        return post

    async def list_posts(
        self, workspace_id: str, *, start: datetime, end: datetime, limit: int
    ) -> list[Post]:
        """The calendar between two times."""
        return await self.store.list_posts(workspace_id, start=start, end=end, limit=limit)

    async def edit_post(
        self,
        *,
        workspace_id: str,
        post_id: str,
        text: str | None,
        scheduled_at: datetime | None,
        label_ids: list[str] | None = None,
        may_schedule: bool = True,
        rereview_by: str | None = None,
        variants: Mapping[str, PostVariant] | None = None,
    ) -> Post:
        """Change text, time, labels or variants before dispatch; afterwards it is locked.

        ``variants`` replaces the whole map (``{}`` removes them all; None keeps them).

        A new time schedules a draft only for a caller who ``may_schedule``; with
        ``rereview_by`` set (a contributor under required approval), editing a
        scheduled post sends it back to review.
        """
        if label_ids is not None:
            label_ids = list(dict.fromkeys(label_ids))
            await self.check_labels(workspace_id, label_ids)
        for _ in range(MAX_OPTIMISTIC_RETRIES):
            post = await self.get_post(workspace_id, post_id)
            if post.locked:
                raise PostLocked(f"post {post_id} was already dispatched ({post.status.value})")
            changes: dict[str, object] = {"updated_at": utcnow(), "version": post.version + 1}
            if text is not None or variants is not None:
                changes.update(await self._content(post, text, variants))
            if scheduled_at is not None:
                check_schedule(scheduled_at, now=utcnow(), min_lead=self.min_lead)
                changes["scheduled_at"] = scheduled_at
                if may_schedule and post.status in (PostStatus.DRAFT, PostStatus.SCHEDULED):
                    changes["status"] = PostStatus.SCHEDULED
            if label_ids is not None:
                changes["label_ids"] = label_ids
            if rereview_by and post.status is PostStatus.SCHEDULED:
                changes["status"] = PostStatus.IN_REVIEW
                entry = ReviewEntry(at=utcnow(), by=rereview_by, action="edited", comment=None)
                changes["review"] = [*post.review, entry]
            updated = post.model_copy(update=changes)
            if await self.store.replace_post(updated, expected_version=post.version):
                self._consider(updated)
                return updated
        raise PostLocked(f"post {post_id} is changing too often; try again")

    async def _content(
        self, post: Post, text: str | None, variants: Mapping[str, PostVariant] | None
    ) -> dict[str, object]:
        """The new text and variants of ``post``, once every target network accepts them."""
        media = (
            await self.describe_media(post.workspace_id, post.media_ids) if post.media_ids else []
        )
        new_text = post.text if text is None else text
        new_variants = post.variants if variants is None else dict(variants)
        self._check_rules(new_text, post.targets, media, new_variants)
        return {"text": new_text, "variants": new_variants}

    async def delete_post(self, *, workspace_id: str, post_id: str) -> None:
        """Cancel a post before dispatch."""
        post = await self.get_post(workspace_id, post_id)
        if post.locked:
            raise PostLocked(f"post {post_id} was already dispatched ({post.status.value})")
        if not await self.store.delete_post(workspace_id, post_id, post.version):
            raise PostLocked(f"post {post_id} changed meanwhile; reload and try again")

    async def record_outcome(self, event: PostPublished | PostFailed, consumer: str) -> None:
        """Record a delivery outcome on the post's target (once per event, on any replica)."""
        await record_outcome(self, event, consumer)

    async def account_connected(self, workspace_id: str, account: dict[str, str]) -> None:
        """Project a connected account."""
        await self.store.upsert_account(workspace_id, {**account, "active": True})

    async def account_disconnected(
        self, workspace_id: str, account_id: str, *, needs_reconnect: bool = False
    ) -> None:
        """Project a disconnected account."""
        if needs_reconnect:
            # Still the workspace's: posts may be planned for it while a person
            # reconnects it (one due before then fails and notifies the workspace).
            return
        await self.store.upsert_account(workspace_id, {"account_id": account_id, "active": False})
