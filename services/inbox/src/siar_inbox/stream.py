"""Live inbox: new and changed conversations of one workspace as server-sent events.

The feed is a MongoDB change stream on the conversations collection, so it sees
writes from every inbox replica (and nx-27017 serves change streams too). Each event's
id is the change stream's resume token, so a client that reconnects with
``Last-Event-ID`` continues where it stopped. Comments (``: ping``) keep proxies from
closing a quiet connection; a stream ends after ``max_s`` so the client reconnects and
its token is checked again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pymongo.errors import PyMongoError

from siar_inbox.listing import HIDDEN, to_conversation
from siar_inbox.store import InboxStore

log = logging.getLogger(__name__)

TOKEN = re.compile(r"^[A-Za-z0-9:_\-+/=]{1,1024}$")
"""What a resume token's ``_data`` looks like (hex on MongoDB, ``nx:<n>`` on nx-27017)."""
IDLE_POLL_S = 0.25
"""Pause between empty polls where the server answers at once (nx-27017)."""


class BadLastEventId(ValueError):
    """A Last-Event-ID this stream never sent."""


def resume_token(last_event_id: str | None) -> dict[str, str] | None:
    """The change-stream resume token behind a ``Last-Event-ID``, or :class:`BadLastEventId`."""
    if not last_event_id:
        return None
    if not TOKEN.match(last_event_id):
        raise BadLastEventId("Last-Event-ID is not an id this stream sent")
    return {"_data": last_event_id}


def sse(event: str, data: str, event_id: str | None = None) -> bytes:
    """One server-sent event."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


class ConversationFeed:
    """Change-stream reader behind the SSE endpoint."""

    def __init__(self, store: InboxStore, *, heartbeat_s: float, max_s: float) -> None:
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.max_s = max_s

    async def _watch(self, workspace_id: str, resume: dict[str, str] | None) -> Any:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"operationType": {"$in": ["insert", "update", "replace"]}}},
            {"$match": {"fullDocument.workspace_id": workspace_id}},
            {"$project": {"documentKey": 1}},
        ]
        return await self.store.conversations.raw.watch(
            pipeline, full_document="updateLookup", resume_after=resume, max_await_time_ms=1000
        )

    async def events(self, workspace_id: str, last_event_id: str | None) -> AsyncIterator[bytes]:
        """The SSE byte stream: a ``ready`` event, then one ``conversation`` per change."""
        resume = resume_token(last_event_id)
        yield b"retry: 2000\n\n"
        try:
            stream = await self._watch(workspace_id, resume)
        except PyMongoError as err:
            # The token is too old (or from another server): start afresh, and say so,
            # so the client reloads its list instead of trusting it is up to date.
            log.info("resume from %s refused (%s); streaming from now", last_event_id, err)
            yield sse("reset", json.dumps({"reason": "cannot resume; reload the list"}))
            stream = await self._watch(workspace_id, None)
        async with stream:
            yield sse("ready", "{}")
            async for chunk in self._pump(workspace_id, stream):
                yield chunk

    async def _pump(self, workspace_id: str, stream: Any) -> AsyncIterator[bytes]:
        started = last_sent = time.monotonic()
        while time.monotonic() - started < self.max_s:
            change = await stream.try_next()
            now = time.monotonic()
            if change is None:
                if now - last_sent >= self.heartbeat_s:
                    yield b": ping\n\n"
                    last_sent = now
                await asyncio.sleep(IDLE_POLL_S)
                continue
            data = await self._current(workspace_id, change)
            if data is not None:
                yield sse("conversation", data, str(change["_id"]["_data"]))
                last_sent = now

    async def _current(self, workspace_id: str, change: Mapping[str, Any]) -> str | None:
        # The conversation as it is now, read through the tenant-scoped store: nx-27017
        # hands fullDocument's dates over as {"$date": ...}, and a live view wants the
        # latest state anyway.
        key = (change.get("documentKey") or {}).get("_id")
        docs = await self.store.conversations.find(
            workspace_id, {"_id": key}, limit=1, projection=HIDDEN
        )
        return to_conversation(docs[0]).model_dump_json() if docs else None
