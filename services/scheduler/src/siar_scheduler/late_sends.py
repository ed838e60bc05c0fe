"""Lateness of events sent late, written back onto their posts.

The gate records an occurrence as handed over at its due time, because its event is
written ahead and sent at that instant. When the send itself comes late (the process
that gated it died, and its successor's relay sent the row after a restart), the relay
tells :class:`LateSends` and the post's record gets the real time and lateness.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from pymongo.asynchronous.collection import AsyncCollection

from siar.contracts import PostScheduled
from siar.runtime.mongo import Document
from siar_scheduler.domain import Post
from siar_scheduler.metrics import observe_sent

log = logging.getLogger(__name__)

LATE_S = 0.5
"""A send later than this is written back onto the post (earlier ones are noise)."""

ATTEMPTS = 3


def with_lateness(post: Post, occurrence: str, account_id: str, lateness_ms: float) -> Post | None:
    """The post with this occurrence's send recorded as ``lateness_ms`` late; None if unchanged."""
    records = list(post.dispatches)
    index = next((i for i, r in enumerate(records) if r.occurrence == occurrence), None)
    if index is None or records[index].lateness_ms >= lateness_ms:
        return None
    record = records[index]
    sent_at = record.due_at + timedelta(milliseconds=lateness_ms)
    records[index] = record.model_copy(
        update={"lateness_ms": lateness_ms, "dispatched_at": sent_at}
    )
    targets = post.targets
    if index == len(records) - 1:  # the targets describe the latest occurrence only
        targets = [
            t.model_copy(update={"lateness_ms": lateness_ms, "dispatched_at": sent_at})
            if t.account_id == account_id
            else t
            for t in post.targets
        ]
    return post.model_copy(update={"dispatches": records, "targets": targets})


class LateSends:
    """Collects late sends from the relay and writes them onto the posts in the background."""

    def __init__(self, posts: AsyncCollection[Document]) -> None:
        self.posts = posts
        self._pending: list[tuple[str, str, str, float]] = []
        self._wake = asyncio.Event()
        self._stopping = False

    def observe(self, topic: str, payload: bytes, lateness_s: float) -> None:
        """The relay's hook: count every timed send; remember the late ones."""
        if topic != PostScheduled.topic:
            return
        event = json.loads(payload)  # once: it serves the metric and the note
        observe_sent(str(event.get("network", "unknown")), lateness_s)
        if lateness_s <= LATE_S:
            return
        self._pending.append(
            (event["post_id"], event["occurrence"], event["account_id"], lateness_s * 1000)
        )
        self._wake.set()

    async def write_back(self) -> int:
        """Write the late sends noted so far onto their posts; returns the posts changed."""
        pending, self._pending = self._pending, []
        changed = 0
        for post_id in {p for p, *_ in pending}:
            mine = [(occ, acc, ms) for p, occ, acc, ms in pending if p == post_id]
            changed += await self._write_one(post_id, mine)
        return changed

    async def _write_one(self, post_id: str, sends: list[tuple[str, str, float]]) -> int:
        for _ in range(ATTEMPTS):
            doc = await self.posts.find_one({"_id": post_id})
            if doc is None:
                return 0
            post = before = Post.model_validate(doc)
            for occurrence, account_id, lateness_ms in sends:
                post = with_lateness(post, occurrence, account_id, lateness_ms) or post
            if post is before:
                return 0
            # The version stays: this is a note on what happened, not an edit, and an
            # edit or outcome written meanwhile must win over it (its filter still matches).
            replacement = post.model_dump(mode="python")
            replacement.pop("_id", None)
            result = await self.posts.replace_one(
                {"_id": post_id, "version": before.version}, replacement
            )
            if result.matched_count:
                return 1
        log.warning("could not record the late send of post %s", post_id)
        return 0

    async def run(self) -> None:
        """Write late sends back as they come, until stopped."""
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.write_back()
            except Exception:  # a note lost is only a note: keep the loop alive
                log.exception("recording late sends failed")

    def stop(self) -> None:
        """Stop after the current write."""
        self._stopping = True
        self._wake.set()
