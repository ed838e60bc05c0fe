"""Failed posts: tell the workspace (signed webhook); ``:retry`` is in ``retries.py``.

A ``post.failed`` writes a notice once its outcome is on the post, before the event is
marked processed, so a crash cannot lose it; its ``_id`` comes from the event id, so a
redelivery (or a second replica) writes no second one. A sender delivers notices
afterwards and again on a timer until the webhook answers (or gives up after a few
tries). A notice is claimed with a lease before sending so two replicas do not both send
it. The same loop resumes retries a crash cut off (:func:`resume_retries`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
from pymongo.errors import DuplicateKeyError

from siar.contracts import PostFailed
from siar.runtime import webhooks
from siar.runtime.mongo import Document
from siar_scheduler.domain import Post, TargetStatus
from siar_scheduler.retries import resume_retries, retry_failed
from siar_scheduler.workflow_store import WorkflowStore
from siar_scheduler.workspace_settings import SettingsService

__all__ = ["FailureNotifier", "resume_retries", "retry_failed"]

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
        # Run every round too: resumes retries a crash cut off (set by the wiring).
        self.resume: Callable[[], Awaitable[int]] | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    async def record(self, event: PostFailed, post: Post) -> None:
        """Write the notice of ``event`` once (if the target failed); a repeat is ignored."""
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
        with contextlib.suppress(DuplicateKeyError):  # redelivered, or on two replicas
            await self.store.add_notice(event.workspace_id, notice)

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
                if self.resume is not None:
                    await self.resume()
            except Exception:  # a bad round must not end the loop; the next one retries
                log.exception("sending failure notices or resuming retries failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)

    def stop(self) -> None:
        """End :meth:`run`."""
        self._stop.set()
        self._wake.set()
