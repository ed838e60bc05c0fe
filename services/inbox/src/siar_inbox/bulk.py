"""Bulk actions: close, reopen, assign, tag or snooze many conversations in one request."""

from __future__ import annotations

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import utcnow
from siar.runtime.mongo import Document
from siar_inbox.changes import Change, SnoozeInPast, apply
from siar_inbox.domain import Conversation
from siar_inbox.errors import SnoozeNotAhead
from siar_inbox.listing import to_conversation
from siar_inbox.response_metrics import conversation_event
from siar_inbox.service import InboxService

BULK_LIMIT = 100
"""Conversations per bulk request: one transaction must stay short."""


class BulkResult(BaseModel):
    """What happened to one conversation of a bulk request."""

    id: str
    ok: bool
    status: int
    error: str | None = None
    conversation: Conversation | None = None


async def bulk_change(
    service: InboxService, workspace_id: str, ids: list[str], change: Change, actor: str
) -> list[BulkResult]:
    """Apply ``change`` to every conversation of ``ids`` at once; one result per id.

    All found conversations and their ``conversation.updated`` events are written in
    one unit of work, so the request is applied entirely or not at all; ids that are
    not in this workspace are reported as 404 items and do not stop the others.
    """
    wanted = list(dict.fromkeys(ids))
    now = utcnow()
    if change.snooze_until is not None and change.snooze_until <= now:
        raise SnoozeNotAhead(f"snooze until {change.snooze_until.isoformat()} is not ahead")
    conversations = service.store.conversations

    async def work(session: AsyncClientSession) -> dict[str, Document]:
        # Whole documents: each is written back whole (search terms included).
        docs = await conversations.find(workspace_id, {"_id": {"$in": wanted}}, session=session)
        changed: dict[str, Document] = {}
        for doc in docs:
            try:
                events = apply(doc, change, now, actor)
            except SnoozeInPast as err:  # checked above; the clock moved on meanwhile
                raise SnoozeNotAhead(str(err)) from err
            changed[doc["_id"]] = doc
            for name in events:
                await service.uow.outbox.add(conversation_event(doc, name, actor), session=session)
        await conversations.replace_many(workspace_id, list(changed.values()), session=session)
        return changed

    changed = await service.uow.run(work)
    return [
        BulkResult(id=i, ok=True, status=200, conversation=to_conversation(changed[i]))
        if i in changed
        else BulkResult(id=i, ok=False, status=404, error=f"conversation {i} not found")
        for i in wanted
    ]
