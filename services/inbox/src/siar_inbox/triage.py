"""Working a conversation: status, assignee, tags, snooze, internal notes and saved replies."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import utcnow
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_inbox.changes import Change, SnoozeInPast, apply
from siar_inbox.domain import Conversation, render_saved_reply
from siar_inbox.errors import ConversationNotFound, SavedReplyNotFound, SnoozeNotAhead
from siar_inbox.listing import to_conversation
from siar_inbox.response_metrics import conversation_event
from siar_inbox.service import InboxService

INDEXES = (
    IndexSpec("notes", [("workspace_id", ASCENDING), ("conversation_id", ASCENDING)]),
    IndexSpec("saved_replies", [("workspace_id", ASCENDING), ("name", ASCENDING)]),
)


class Triage:
    """Conversation housekeeping, beside the message flow of :class:`InboxService`."""

    def __init__(self, service: InboxService) -> None:
        self.service = service
        db = service.store.conversations.raw.database
        self.notes = TenantCollection(db["notes"])
        self.saved = TenantCollection(db["saved_replies"])

    async def change(
        self, workspace_id: str, conversation_id: str, change: Change, actor: str | None = None
    ) -> Conversation:
        """Apply a change and announce it, together (whole document: see replace_one)."""
        store = self.service.store

        async def work(session: AsyncClientSession) -> Document:
            doc = await store.conversations.find_one(
                workspace_id, {"_id": conversation_id}, session=session
            )
            if doc is None:
                raise ConversationNotFound(f"conversation {conversation_id} not found")
            try:
                events = apply(doc, change, utcnow(), actor)
            except SnoozeInPast as err:
                raise SnoozeNotAhead(str(err)) from err
            await store.conversations.replace_one(
                workspace_id, {"_id": conversation_id}, doc, session=session
            )
            for name in events:
                await self.service.uow.outbox.add(
                    conversation_event(doc, name, actor), session=session
                )
            return doc

        return to_conversation(await self.service.uow.run(work))

    async def add_note(
        self, workspace_id: str, conversation_id: str, author: str, text: str
    ) -> Document:
        """An internal note on the thread; never sent to the network."""
        if await self.service.store.conversation(workspace_id, conversation_id) is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        note = {
            "_id": f"note_{uuid.uuid4().hex[:20]}",
            "conversation_id": conversation_id,
            "author": author,
            "text": text,
            "at": utcnow(),
        }
        await self.notes.insert(workspace_id, note)
        return note

    async def notes_of(self, workspace_id: str, conversation_id: str) -> list[Document]:
        """A thread's internal notes, oldest first."""
        return await self.notes.find(
            workspace_id, {"conversation_id": conversation_id}, sort=[("at", ASCENDING)]
        )

    async def save_reply(self, workspace_id: str, name: str, text: str, author: str) -> Document:
        """A reusable answer; variables like {{first_name}} are filled when used."""
        doc = {"_id": f"svr_{uuid.uuid4().hex[:20]}", "name": name, "text": text, "by": author}
        await self.saved.insert(workspace_id, doc)
        return doc

    async def saved_replies(self, workspace_id: str) -> list[Document]:
        """The workspace's saved replies, by name."""
        return await self.saved.find(workspace_id, sort=[("name", ASCENDING)])

    async def delete_saved_reply(self, workspace_id: str, reply_id: str) -> None:
        """Remove a saved reply."""
        if not await self.saved.delete_one(workspace_id, {"_id": reply_id}):
            raise SavedReplyNotFound(f"saved reply {reply_id} not found")

    async def render(self, workspace_id: str, conversation_id: str, reply_id: str) -> str:
        """A saved reply filled in for the conversation's latest author and our account."""
        saved = await self.saved.find_one(workspace_id, {"_id": reply_id})
        if saved is None:
            raise SavedReplyNotFound(f"saved reply {reply_id} not found")
        store = self.service.store
        conv = await store.conversation(workspace_id, conversation_id)
        if conv is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        latest = await store.latest_inbound(workspace_id, conversation_id)
        poller: dict[str, Any] = (
            await store.pollers.find_one(workspace_id, {"_id": conv.account_id}) or {}
        )
        name = (latest.author_name or latest.author_handle) if latest else ""
        values = {
            "first_name": name.split()[0] if name else "",
            "name": name,
            "handle": latest.author_handle if latest else "",
            "account": str(poller.get("handle") or ""),
            "network": conv.network,
        }
        return render_saved_reply(str(saved["text"]), values)
