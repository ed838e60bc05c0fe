"""Failed posts: tell the workspace (signed webhook) and deliver failed targets again.

A ``post.failed`` writes a notice in the same transaction that records the outcome,
so a crash cannot lose it; a sender delivers notices after the commit and again on a
timer until the webhook answers (or gives up after a few tries). A notice is claimed
with a lease before sending so two replicas do not both send it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime

import httpx
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import PostFailed, PostScheduled, utcnow
from siar.runtime import webhooks
from siar.runtime.mongo import Document
from siar_scheduler.domain import Post, ReviewEntry, Target, TargetStatus, rollup_status
from siar_scheduler.errors import NothingToRetry, PostLocked, PostNotFound
from siar_scheduler.service import SchedulerService
from siar_scheduler.workflow_store import WorkflowStore
from siar_scheduler.workspace_settings import SettingsService

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
CLAIM_S = 60.0


def _text(notice: Document) -> str:
    return (
        f":warning: A post could not be published on {notice['network']} "
        f"(account {notice['account_id']}): {notice['reason']} "
        f"Retry it with POST /v1/workspaces/{notice['workspace_id']}/posts/"
        f"{notice['post_id']}:retry"
    )


class FailureNotifier:
    """Records failure notices and sends them to the workspace's webhook."""

    def __init__(
        self,
        store: WorkflowStore,
        settings: SettingsService,
        http: httpx.AsyncClient,
        *,
        interval_s: float = 30.0,
        send_attempts: int = 3,
    ) -> None:
        self.store = store
        self.settings = settings
        self.http = http
        self.interval_s = interval_s
        self.send_attempts = send_attempts
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    async def record(self, event: PostFailed, post: Post, session: AsyncClientSession) -> None:
        """Write the notice of ``event`` in the outcome's transaction (if the target failed)."""
        target = next((t for t in post.targets if t.account_id == event.account_id), None)
        if target is None or target.status is not TargetStatus.FAILED:
            return  # a late failure after a success changes nothing, so says nothing
        notice = {
            "_id": f"ntc_{event.event_id}",
            "post_id": post.id,
            "account_id": event.account_id,
            "network": event.network,
            "reason": event.reason,
            "error_class": event.error_class,
            "retryable": event.retryable,
            "attempts": event.attempts,
            "created": time.time(),
            "sent": False,
            "tries": 0,
            "claimed_until": 0.0,
        }
        await self.store.add_notice(event.workspace_id, notice, session=session)

    async def deliver_pending(self) -> int:
        """Send every pending notice once; returns how many were delivered."""
        delivered = 0
        async with self._lock:
            for notice in await self.store.pending_notices():
                if await self._claim(notice):
                    delivered += await self._deliver(notice)
        return delivered

    async def _claim(self, notice: Document) -> bool:
        now = time.time()
        claimed = await self.store.notices.find_one_and_update(
            notice["workspace_id"],
            {"_id": notice["_id"], "sent": False, "claimed_until": {"$lt": now}},
            {"$set": {"claimed_until": now + CLAIM_S}},
        )
        return claimed is not None

    async def _deliver(self, notice: Document) -> int:
        ws = str(notice["workspace_id"])
        hook = (await self.settings.get(ws)).webhook
        if hook is None:
            await self.store.mark_notice(ws, notice["_id"], {"sent": True, "outcome": "no_webhook"})
            return 0
        data = {
            k: notice[k]
            for k in ("workspace_id", "post_id", "account_id", "network", "reason", "error_class")
        }
        ok = await webhooks.send(
            self.http,
            hook[0],
            hook[1],
            kind="post.failed",
            text=_text(notice),
            data=data,
            attempts=self.send_attempts,
        )
        tries = int(notice.get("tries", 0)) + 1
        if ok:
            changes: Document = {"sent": True, "outcome": "delivered", "tries": tries}
        elif tries >= MAX_SEND_ATTEMPTS:
            changes = {"sent": True, "outcome": "gave_up", "tries": tries}
        else:
            changes = {"tries": tries, "claimed_until": 0.0}
        await self.store.mark_notice(ws, notice["_id"], {**changes, "last_try": time.time()})
        return 1 if ok else 0

    def wake(self) -> None:
        """Send pending notices now rather than at the next tick (a failure was recorded).

        The Kafka handler only wakes the sender: a slow or dead webhook must not hold
        up the consumption of outcomes.
        """
        self._wake.set()

    async def run(self) -> None:
        """Send notices when woken, and retry undelivered ones on a timer, until stopped."""
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await self.deliver_pending()
            except Exception:  # a bad round must not end the loop; the next one retries
                log.exception("sending failure notices failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)

    def stop(self) -> None:
        """End :meth:`run`."""
        self._stop.set()
        self._wake.set()


def retried(post: Post, *, by: str, now: datetime) -> tuple[Post, list[Target]]:
    """The post with its failed targets on their way again, and those targets.

    Raises :class:`NothingToRetry` when no target failed.
    """
    failed = [t for t in post.targets if t.status is TargetStatus.FAILED]
    if not failed:
        raise NothingToRetry(
            f"post {post.id} has no failed account to retry (it is {post.status.value})"
        )
    again = {t.account_id for t in failed}
    targets = [
        t.model_copy(
            update={"status": TargetStatus.DISPATCHED, "error": None, "dispatched_at": now}
        )
        if t.account_id in again
        else t
        for t in post.targets
    ]
    entry = ReviewEntry(at=now, by=by, action="retried", comment=", ".join(sorted(again)))
    updated = post.model_copy(
        update={
            "targets": targets,
            "status": rollup_status(targets),
            "retries": post.retries + 1,
            "review": [*post.review, entry],
            "version": post.version + 1,
            "updated_at": now,
        }
    )
    return updated, failed


async def retry_failed(
    posts: SchedulerService, workspace_id: str, post_id: str, *, by: str
) -> Post:
    """Deliver the post's failed targets again, once: a new occurrence per retry.

    The write is guarded by the post's version and only failed targets are taken, so
    two retries racing (or a retry repeated) dispatch each failed target once.
    """

    async def work(session: AsyncClientSession) -> Post:
        post = await posts.store.get_post(workspace_id, post_id, session=session)
        if post is None:
            raise PostNotFound(f"post {post_id} not found")
        now = utcnow()
        updated, failed = retried(post, by=by, now=now)
        if not await posts.store.replace_post(
            updated, expected_version=post.version, session=session
        ):
            raise PostLocked(f"post {post_id} changed meanwhile; reload and try again")
        # A new occurrence per retry: the publisher's ledger sees a new delivery.
        occurrence = f"{post.occurrence}#retry-{updated.retries}"
        for target in failed:
            event = PostScheduled.new(
                workspace_id=workspace_id,
                post_id=post.id,
                account_id=target.account_id,
                network=target.network,
                occurrence=occurrence,
                due_at=now,
                text=post.text,
                link=post.link,
                media_ids=post.media_ids,
            )
            await posts.uow.outbox.add(event, session=session)
        return updated

    return await posts.uow.run(work)
