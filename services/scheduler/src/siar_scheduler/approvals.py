"""Approvals: draft → in_review → scheduled (approved) or changes_requested, with history.

Every step appends a :class:`ReviewEntry` (who, what, when, why) to the post, written
with the post's optimistic version, so two approvers acting at once cannot both win.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from siar.contracts import utcnow
from siar_scheduler.domain import Post, PostStatus, ReviewEntry, check_schedule
from siar_scheduler.errors import PostLocked, TimePassed, WrongState
from siar_scheduler.service import MAX_OPTIMISTIC_RETRIES, SchedulerService

SUBMITTABLE = frozenset({PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED})


class ApprovalService:
    """The approval steps of a post."""

    def __init__(self, posts: SchedulerService) -> None:
        self.posts = posts

    async def _step(
        self,
        workspace_id: str,
        post_id: str,
        *,
        allowed: frozenset[PostStatus] | None,
        change: Callable[[Post], dict[str, object]],
        entry: ReviewEntry,
    ) -> Post:
        for _ in range(MAX_OPTIMISTIC_RETRIES):
            post = await self.posts.get_post(workspace_id, post_id)
            if allowed is not None and post.status not in allowed:
                wanted = " or ".join(sorted(s.value for s in allowed))
                raise WrongState(
                    f"post {post_id} is {post.status.value}; this step needs it {wanted}"
                )
            updated = post.model_copy(
                update={
                    **change(post),
                    "review": [*post.review, entry],
                    "version": post.version + 1,
                    "updated_at": entry.at,
                }
            )
            if await self.posts.store.replace_post(updated, expected_version=post.version):
                return updated
        raise PostLocked(f"post {post_id} is changing too often; try again")

    async def submit(
        self, workspace_id: str, post_id: str, *, by: str, comment: str | None
    ) -> Post:
        """Ask for approval; the post needs the time it should go out at."""

        now = utcnow()

        def change(post: Post) -> dict[str, object]:
            if post.scheduled_at is None:
                raise WrongState(
                    f"post {post_id} has no scheduled_at; set the time it should go out "
                    "before submitting it for approval"
                )
            if post.scheduled_at < now + self.posts.min_lead:
                raise TimePassed(
                    f"post {post_id} was due at {post.scheduled_at.isoformat()}, which has "
                    "passed; set a new scheduled_at before submitting it"
                )
            return {"status": PostStatus.IN_REVIEW}

        entry = ReviewEntry(at=now, by=by, action="submitted", comment=comment)
        return await self._step(
            workspace_id, post_id, allowed=SUBMITTABLE, change=change, entry=entry
        )

    async def approve(
        self,
        workspace_id: str,
        post_id: str,
        *,
        by: str,
        comment: str | None,
        scheduled_at: datetime | None = None,
    ) -> Post:
        """Approve and schedule; a time that passed while waiting must be replaced."""
        now = utcnow()

        def change(post: Post) -> dict[str, object]:
            at = scheduled_at or post.scheduled_at
            if at is None:  # pragma: no cover - submit refuses posts without a time
                raise WrongState(f"post {post_id} has no scheduled_at")
            if scheduled_at is None and at < now + self.posts.min_lead:
                raise TimePassed(
                    f"post {post_id} was due at {at.isoformat()}, which passed while it "
                    "waited for approval; approve it with a new scheduled_at"
                )
            check_schedule(at, now=now, min_lead=self.posts.min_lead)
            return {"status": PostStatus.SCHEDULED, "scheduled_at": at}

        entry = ReviewEntry(at=now, by=by, action="approved", comment=comment)
        post = await self._step(
            workspace_id,
            post_id,
            allowed=frozenset({PostStatus.IN_REVIEW}),
            change=change,
            entry=entry,
        )
        self.posts.hand_to_dispatch(post)
        return post

    async def reject(self, workspace_id: str, post_id: str, *, by: str, comment: str) -> Post:
        """Send the post back to its author with what to change."""
        entry = ReviewEntry(at=utcnow(), by=by, action="changes_requested", comment=comment)
        return await self._step(
            workspace_id,
            post_id,
            allowed=frozenset({PostStatus.IN_REVIEW}),
            change=lambda _: {"status": PostStatus.CHANGES_REQUESTED},
            entry=entry,
        )

    async def comment(self, workspace_id: str, post_id: str, *, by: str, comment: str) -> Post:
        """Add a comment to the post's review history, whatever its state."""
        entry = ReviewEntry(at=utcnow(), by=by, action="commented", comment=comment)
        return await self._step(
            workspace_id, post_id, allowed=None, change=lambda _: {}, entry=entry
        )
